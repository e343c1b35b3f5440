"""When a callback may ring, as a rule of its own: while its queue is open (weekly hours,
holidays, special hours) and outside the customer's quiet hours, in the customer's own local
time (the time zones of their number's country or region, as phonenumbers knows them).

The booking's promise (ivr.promise) and the hold of callbacks outside it (callbacks.window)
both read it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_zones
from sqlalchemy.orm import Session

from ivr import policy
from models.entities import Queue
from queueing import directory
from queueing.hours import Schedule, is_open, next_opening

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

# How many hops (to the next opening, or past quiet hours) are tried to find an allowed moment.
MAX_WINDOW_STEPS = 16
_UNKNOWN_ZONE = "Etc/Unknown"


@dataclass(frozen=True)
class Window:
    """When one callback may ring: its queue's schedule (None: always open) and the
    customer's time zones with the queue's quiet hours (equal times: no quiet hours)."""

    schedule: Schedule | None
    zones: tuple[ZoneInfo, ...]
    quiet_starts: time
    quiet_ends: time


def customer_zones(number: str, fallback: str) -> tuple[str, ...]:
    """The time zones of a number's country or region (`fallback` when unknown)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return (fallback,)
    zones = tuple(z for z in number_zones.time_zones_for_number(parsed) if z != _UNKNOWN_ZONE)
    return zones or (fallback,)


def _quiet_in(window: Window, zone: ZoneInfo, moment: datetime) -> bool:
    starts, ends, local = window.quiet_starts, window.quiet_ends, moment.astimezone(zone).time()
    if starts == ends:
        return False
    return starts <= local < ends if starts < ends else (local >= starts or local < ends)


def in_quiet_hours(window: Window, moment: datetime) -> bool:
    """Whether `moment` falls in the customer's quiet hours in any of their zones."""
    return any(_quiet_in(window, zone, moment) for zone in window.zones)


def quiet_over(window: Window, moment: datetime) -> datetime:
    """When the customer's quiet hours under way at `moment` are over in every zone
    (`moment` itself when none are)."""
    ends = []
    for zone in window.zones:
        if _quiet_in(window, zone, moment):
            local = moment.astimezone(zone)
            end = datetime.combine(local.date(), window.quiet_ends, zone)
            if end <= local:
                end = datetime.combine(local.date() + timedelta(days=1), window.quiet_ends, zone)
            ends.append(end)
    return max(ends, default=moment)


def allowed(window: Window, moment: datetime) -> bool:
    """Whether the callback may ring at `moment`: queue open, customer not in quiet hours."""
    if window.schedule is not None and not is_open(window.schedule, moment):
        return False
    return not in_quiet_hours(window, moment)


def next_allowed(window: Window, moment: datetime) -> datetime | None:
    """The first moment from `moment` on when the callback may ring (None: none known)."""
    for _ in range(MAX_WINDOW_STEPS):
        if window.schedule is not None and not is_open(window.schedule, moment):
            opening = next_opening(window.schedule, moment)
            if opening is None:
                return None
            moment = opening
        elif in_quiet_hours(window, moment):
            moment = quiet_over(window, moment)
        else:
            return moment
    return None


@dataclass(frozen=True)
class QueueRules:
    """A queue's hours and quiet hours: what every callback of it must keep to."""

    schedule: Schedule | None
    zone: str
    quiet_starts: time
    quiet_ends: time

    @classmethod
    def read(cls, s: Session, rt: Runtime, queue: Queue) -> QueueRules:
        """The rules of `queue`, from its hours and callback policy."""
        rules = policy.for_queue(s, rt.settings, queue.id)
        schedule = directory.schedule_or_none(s, queue)
        return cls(schedule, queue.time_zone, rules.quiet_starts, rules.quiet_ends)


def for_number(rules: QueueRules, number: str) -> Window:
    """The window of a callback to `number` under a queue's rules."""
    zones = tuple(ZoneInfo(z) for z in customer_zones(number, rules.zone))
    return Window(rules.schedule, zones, rules.quiet_starts, rules.quiet_ends)




def window_for(s: Session, rt: Runtime, queue: Queue, number: str) -> Window:
    """The window of a callback of `queue` to `number`, from its hours and callback policy."""
    return for_number(QueueRules.read(s, rt, queue), number)

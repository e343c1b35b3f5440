"""What a callback can honestly promise: "when it is your turn" today, or a slot.

A callback is offered "when it is your turn" only when the estimate says it can happen
before the queue closes; otherwise the caller is offered the next open slots with room
(callbacks/slots.py), and so are callers after hours. A callback booked "when it is your
turn" whose turn slips past closing keeps its place overnight and is called first when the
queue opens again (`promise` says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from holdless.speech import ENGLISH, N_, Speech
from ivr import ring_window, slots, wording
from models.entities import Queue
from queueing import directory, hours, stats
from queueing.estimate import WaitEstimate, mean_handle_seconds

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

VOICEMAIL_OFFER = N_("Or press 2 to leave a message and we will call you back.")


def turn_offer(sp: Speech = ENGLISH) -> str:
    """The offer of a callback "when it is your turn", with the voicemail option."""
    return f"{sp.gettext(wording.CALLBACK_OFFER)} {sp.gettext(VOICEMAIL_OFFER)}"


TURN_OFFER = turn_offer()


@dataclass(frozen=True)
class Promise:
    """When the callback should come, and how the caller is told."""

    expected_at: datetime
    phrase: str
    after_opening: bool = False
    said: tuple[datetime, datetime] | None = None
    """The moments the phrase stands for, earliest and latest (None: as `expected_at`)."""

    @property
    def said_bounds(self) -> tuple[datetime, datetime]:
        """The moments the caller was told the call would come between."""
        return self.said or (self.expected_at, self.expected_at)


def _slack(wait: WaitEstimate) -> timedelta:
    """How much later than the estimate the words said for it still cover."""
    said_high = wording.said_wait(wait).bounds()[1]
    return timedelta(seconds=max(0.0, said_high - wait.seconds))


def promise(s: Session, queue: Queue, wait: WaitEstimate, now: datetime,
            window: ring_window.Window | None = None, sp: Speech = ENGLISH) -> Promise:
    """The callback's expected time: within today's hours, or carried over to the opening;
    and, given the callback's `window`, moved to the next moment it may ring when it falls
    outside (the customer's quiet hours, the queue closed), said as that moment."""
    kept = _in_hours(s, queue, wait, now, sp)
    if window is None or ring_window.allowed(window, kept.expected_at):
        return kept
    moved = ring_window.next_allowed(window, kept.expected_at)
    if moved is None:
        return kept
    return Promise(moved, held_phrase(window, moved, now, ZoneInfo(queue.time_zone), sp),
                   after_opening=True, said=(moved, moved + _slack(wait)))


def held_phrase(window: ring_window.Window, moment: datetime, now: datetime,
                queue_zone: tzinfo, sp: Speech = ENGLISH) -> str:
    """When a callback held until `moment` will come, in the customer's local time when
    their number has one zone (else the queue's): "tomorrow after 8 AM"."""
    zone = window.zones[0] if len(window.zones) == 1 else queue_zone
    local, today = moment.astimezone(zone), now.astimezone(zone)
    return sp.gettext("{day} after {time}", day=wording.day_phrase(local, today, sp),
                      time=sp.clock(local))


def _in_hours(s: Session, queue: Queue, wait: WaitEstimate, now: datetime,
              sp: Speech = ENGLISH) -> Promise:
    due = now + timedelta(seconds=wait.seconds)
    low, high = wording.said_wait(wait).bounds()
    in_hours = Promise(due, wording.callback_wait_phrase(wait, sp),
                       said=(now + timedelta(seconds=low), now + timedelta(seconds=high)))
    schedule = directory.schedule_or_none(s, queue)
    if schedule is None:
        return in_hours
    closes = hours.closing_time(schedule, now)
    if closes is None or due <= closes:
        return in_hours
    opening = hours.next_opening(schedule, closes)
    if opening is None:
        return in_hours
    when = wording.opening_phrase(opening, now.astimezone(opening.tzinfo), sp)
    carried = opening + (due - closes)
    return Promise(carried, sp.gettext("after we open again {when}", when=when),
                   after_opening=True,
                   said=(opening, carried + _slack(wait)))


def fits_today(s: Session, queue: Queue, wait: WaitEstimate, now: datetime) -> bool:
    """Whether the turn the estimate gives comes while the queue is open, before it closes."""
    return fits_schedule(directory.schedule_or_none(s, queue), wait, now)


def fits_schedule(schedule: hours.Schedule | None, wait: WaitEstimate, now: datetime) -> bool:
    """`fits_today` for a queue's schedule (None: no hours set, always open)."""
    if schedule is None:
        return True
    closes = hours.closing_time(schedule, now)
    return closes is not None and now + timedelta(seconds=wait.seconds) <= closes


def handle_seconds(rt: Runtime, queue: str) -> float:
    """The queue's average handle time (what a slot's capacity is counted in)."""
    return mean_handle_seconds(stats.queue_stats(rt.live, rt.presence, queue))


def open_slots(rt: Runtime, s: Session, queue: Queue, count: int | None = None,
               wait: WaitEstimate | None = None, number: str | None = None
               ) -> list[slots.Slot]:
    """The next slots with room for a callback, from now (or, for a caller in line, from
    their estimated turn, so no slot is offered that their turn would come after); with
    the caller's `number`, only slots that start outside its quiet hours."""
    after = rt.clock.now() + timedelta(seconds=wait.seconds if wait is not None else 0.0)
    window = ring_window.window_for(s, rt, queue, number) if number else None
    return slots.next_slots(
        s, queue, after, handle_seconds(rt, queue.slug),
        count=slots.CALLBACK_SLOTS_OFFERED if count is None else count,
        may_ring=None if window is None else partial(ring_window.allowed, window))


def offer_sentence(rt: Runtime, s: Session, queue: Queue, wait: WaitEstimate,
                   number: str | None = None, sp: Speech = ENGLISH) -> str:
    """The callback offer a holding caller hears, or "" when the wait is short enough (or
    no slot has room): "when it is your turn" with the voicemail option, or the first slot."""
    if wait.seconds <= queue.callback_threshold_seconds:
        return ""
    now = rt.clock.now()
    if fits_today(s, queue, wait, now):
        return turn_offer(sp)
    first = open_slots(rt, s, queue, count=1, wait=wait, number=number)
    if not first:
        return ""
    return sp.gettext("We cannot call you back before we close today. Press 1 to book a "
                      "callback {slot}, or at a later time.", slot=first[0].phrase(now, sp))

"""Slots for callbacks that cannot be made before closing: "tomorrow between 9 AM and 10 AM".

A slot is a CALLBACK_SLOT_MINUTES stretch of an open range of the queue (the first starts
when the range opens). Its capacity follows the staffing plan:

    capacity = floor(sum over the plan's 30-minute intervals in the slot of
                     planned agents x 1800 s / average handle time)
               - open callbacks already booked in the slot

(a queue with no staffing plan at all takes CALLBACK_SLOT_UNPLANNED_CAPACITY per slot).
Only slots starting at or after `after` with room left are offered. A slot callback's place
is the slot's start plus CALLBACK_SLOT_ORDER_STEP_SECONDS per callback booked in it before,
so slot callbacks enter the line at the slot's start in the order they were booked.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from holdless.speech import ENGLISH, Speech
from ivr import wording
from models.admin import StaffingPlan
from models.callbacks import OPEN_STATUSES, Callback
from models.entities import Queue
from queueing import directory, hours
from queueing.limits import (
    CALLBACK_SLOT_LOOKAHEAD_DAYS,
    CALLBACK_SLOT_MINUTES,
    CALLBACK_SLOT_ORDER_STEP_SECONDS,
    CALLBACK_SLOT_UNPLANNED_CAPACITY,
    CALLBACK_SLOTS_OFFERED,
)

PLAN_INTERVAL = timedelta(minutes=30)


@dataclass(frozen=True)
class Slot:
    """A stretch of opening hours a callback may be booked for (aware, the queue's zone)."""

    starts: datetime
    ends: datetime
    room: int
    """Callbacks it can still take."""

    def phrase(self, now: datetime, sp: Speech = ENGLISH) -> str:
        """How the caller hears it: "tomorrow between 9 AM and 10 AM"."""
        return wording.slot_phrase(self.starts, self.ends, now.astimezone(self.starts.tzinfo),
                                   sp)


def booked(s: Session, queue_id: int, after: datetime) -> Counter[datetime]:
    """Open callbacks booked per slot start, for slots starting at or after `after`."""
    starts = s.scalars(select(Callback.slot_start).where(
        Callback.queue_id == queue_id, Callback.status.in_(OPEN_STATUSES),
        Callback.slot_start.is_not(None), Callback.slot_start >= after))
    return Counter(start for start in starts if start is not None)


def planned_capacity(plan: dict[tuple[int, time], int] | None, starts: datetime,
                     ends: datetime, handle_seconds: float) -> int:
    """Callbacks the plan's agents can handle in [starts, ends) (the rule in the docstring)."""
    if plan is None:
        return CALLBACK_SLOT_UNPLANNED_CAPACITY
    agent_seconds, moment = 0.0, starts
    while moment < ends:
        agents = plan.get((moment.weekday(), moment.time().replace(tzinfo=None)), 0)
        agent_seconds += agents * PLAN_INTERVAL.total_seconds()
        moment += PLAN_INTERVAL
    return math.floor(agent_seconds / max(handle_seconds, 1.0))


def next_slots(s: Session, queue: Queue, after: datetime, handle_seconds: float,
               count: int = CALLBACK_SLOTS_OFFERED,
               may_ring: Callable[[datetime], bool] | None = None) -> list[Slot]:
    """The first `count` slots with room starting at or after `after`, soonest first (only
    those whose start `may_ring` allows, when given: the customer's quiet hours)."""
    schedule = directory.schedule(s, queue)
    plan = _plan(s, queue.id)
    taken = booked(s, queue.id, after)
    local, found = after.astimezone(schedule.tz), []
    for offset in range(CALLBACK_SLOT_LOOKAHEAD_DAYS):
        for opens, closes in hours.ranges_on(schedule, local.date() + timedelta(days=offset)):
            for starts, ends in _chunks(opens, closes):
                if starts < local or (may_ring is not None and not may_ring(starts)):
                    continue
                room = planned_capacity(plan, starts, ends, handle_seconds) - taken[starts]
                if room > 0:
                    found.append(Slot(starts, ends, room))
                if len(found) >= count:
                    return found
    return found


def _chunks(opens: datetime, closes: datetime) -> list[tuple[datetime, datetime]]:
    step = timedelta(minutes=CALLBACK_SLOT_MINUTES)
    out, moment = [], opens
    while moment < closes:
        out.append((moment, min(moment + step, closes)))
        moment += step
    return out


def _plan(s: Session, queue_id: int) -> dict[tuple[int, time], int] | None:
    rows = list(s.scalars(select(StaffingPlan).where(StaffingPlan.queue_id == queue_id)))
    return {(p.weekday, p.interval_start): p.agents for p in rows} if rows else None


def room_left(s: Session, queue: Queue, starts: datetime, ends: datetime,
              handle_seconds: float) -> int:
    """Callbacks the slot [starts, ends) can still take."""
    taken = booked(s, queue.id, starts)[starts]
    return planned_capacity(_plan(s, queue.id), starts, ends, handle_seconds) - taken


def place(s: Session, queue_id: int, starts: datetime) -> float:
    """The line score of the next callback booked for the slot starting at `starts`."""
    taken = booked(s, queue_id, starts)[starts]
    return starts.timestamp() + taken * CALLBACK_SLOT_ORDER_STEP_SECONDS

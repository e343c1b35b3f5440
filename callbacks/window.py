"""When a callback may be placed: while its queue is open (weekly hours, holidays, special
hours) and outside the customer's quiet hours, in the customer's own local time (the time
zones of their number's country or region, as phonenumbers knows them).

A callback that may not be placed at its turn is held: taken out of its line and due again
at the next allowed moment. Callbacks held for the same moment (overnight, say) enter their
line then, in their original order, CALLBACK_OPENING_SPACING_SECONDS apart: they are the
first calls at opening and the agents are not all rung at once. A customer whose callback
moves to another day than they were told is texted. Routing, retries, the reconciler and the
restore after a Redis loss all hold through `hold`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from holdless import tasks
from ivr import booking, language, wording
from ivr.ring_window import (  # the rule itself, also read by the booking's promise
    MAX_WINDOW_STEPS,
    QueueRules,
    Window,
    allowed,
    customer_zones,
    for_number,
    in_quiet_hours,
    next_allowed,
    quiet_over,
)
from models.callbacks import BOOKED, OPEN_STATUSES, TEXT_MOVED, Callback, CallbackAttempt
from models.entities import Assignment, Queue
from queueing import lines

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

# Held callbacks due at the same moment enter their line this far apart, in original order.
CALLBACK_OPENING_SPACING_SECONDS = 30
# How the assignment of a callback paired outside its hours ends.
HELD_OUTSIDE_HOURS = "held: outside its hours"

__all__ = ["MAX_WINDOW_STEPS", "Window", "allowed", "customer_zones", "in_quiet_hours",
           "next_allowed"]


def window_for(s: Session, rt: Runtime, callback: Callback) -> Window:
    """The window of one callback, from its queue's hours and callback policy."""
    return for_number(QueueRules.read(s, rt, callback.queue), callback.number)


def may_ring_now(s: Session, rt: Runtime, callback: Callback) -> bool:
    """Whether `callback` may be placed now."""
    return allowed(window_for(s, rt, callback), rt.clock.now())


@dataclass(frozen=True)
class _Held:
    callback_id: int
    entry: lines.Entry
    due: datetime
    moved_day: str
    """How the customer is told of a move to another day ("" when the day is unchanged)."""
    text_in: float = 0.0
    """Seconds until that text may go: a customer in their quiet hours is texted when they
    are over, as they would be rung (never later than the callback itself)."""


def hold(rt: Runtime, queue_id: int) -> int:
    """Hold every open callback of a queue that may not ring at its next turn until its next
    allowed moment (paced, in original order); text those moved to another day. Returns how
    many were held or moved."""
    with rt.db.session() as s:
        held = _hold_in(s, rt, queue_id)
    for h in held:
        lines.leave(rt.live, h.entry.queue, h.entry.id)
        booking.schedule_due(rt, h.callback_id, h.due)
        if h.moved_day:
            key = f"cb-sms-moved-{h.callback_id}-{int(h.due.timestamp())}"
            rt.enqueue(tasks.SEND_SMS, h.callback_id, TEXT_MOVED, h.moved_day, key, job_id=key,
                       delay=h.text_in)
    if held:
        log.info("%s callback(s) of queue %s held for their hours", len(held), queue_id)
    return len(held)


def _hold_in(s: Session, rt: Runtime, queue_id: int) -> list[_Held]:
    queue = s.get(Queue, queue_id)
    if queue is None:
        return []
    rules, now = QueueRules.read(s, rt, queue), rt.clock.now()
    batches: dict[datetime, list[tuple[Callback, Window]]] = defaultdict(list)
    for callback in _placeable(s, queue_id):
        window = for_number(rules, callback.number)
        waiting_held = (callback.held_for is not None and callback.next_attempt_at is not None
                        and callback.next_attempt_at > now)
        if waiting_held and callback.held_for is not None:
            batches[callback.held_for].append((callback, window))
            continue
        base = max(now, callback.next_attempt_at or now)
        target = None if allowed(window, base) else next_allowed(window, base)
        if target is not None:
            batches[target].append((callback, window))
    return [h for target, group in batches.items() for h in _pace(target, group, now)]


def _placeable(s: Session, queue_id: int) -> list[Callback]:
    """Open callbacks of a queue with no attempt or offer under way, in original order."""
    busy = set(s.scalars(select(Assignment.active_entry).where(
        Assignment.active_entry.is_not(None))))
    under_way = set(s.scalars(select(CallbackAttempt.callback_id).where(
        CallbackAttempt.outcome == "")))
    found = s.scalars(select(Callback).where(
        Callback.queue_id == queue_id, Callback.status.in_(OPEN_STATUSES))
        .order_by(Callback.place, Callback.id))
    return [c for c in found if c.id not in under_way and booking.entry_id(c.id) not in busy]


def _pace(target: datetime, group: list[tuple[Callback, Window]], now: datetime
          ) -> list[_Held]:
    """Give one batch its due times, original order, CALLBACK_OPENING_SPACING_SECONDS apart;
    a callback already held keeps its time when its turn in the batch would be earlier (the
    ones before it have left the batch for the line)."""
    held = []
    for rank, (callback, window) in enumerate(group):
        due = target + timedelta(seconds=rank * CALLBACK_OPENING_SPACING_SECONDS)
        if callback.held_for == target and callback.next_attempt_at is not None:
            due = max(due, callback.next_attempt_at)
        if callback.held_for == target and callback.next_attempt_at == due:
            continue
        told = (callback.expected_at or now).astimezone(window.zones[0])
        local_due = due.astimezone(window.zones[0])
        texted = min(quiet_over(window, now), due)
        moved = "" if local_due.date() == told.date() else wording.opening_phrase(
            local_due, texted.astimezone(window.zones[0]), language.for_callback(None, callback))
        callback.status, callback.held_for, callback.next_attempt_at = BOOKED, target, due
        callback.expected_at, callback.updated_at = due, now
        held.append(_Held(callback.id, booking.entry_for(callback), due, moved,
                          (texted - now).total_seconds()))
    return held

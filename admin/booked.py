"""Booked callbacks as an administrator sees them: the list per queue (place in line, expected
time, attempts), cancelling one, and moving one to a slot.

Moving to a slot reschedules the callback's entry: it leaves the line now and a `due` job
puts it back at its ORIGINAL place (its `place` score is unchanged) once the slot comes, so
at the slot it is near the front rather than behind everyone who called since. The slot
must be in the future, within `MAX_SLOT_DAYS`, and in the queue's opening hours; a callback
being dialled right now cannot be moved (it can be cancelled). The customer gets the
booking text again with the new time ("We will call you tomorrow at 9:30 AM").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.audit import Actor, record, snapshot
from admin.config import find_queue
from admin.validate import ConfigError
from holdless import tasks
from ivr import booking, language, wording
from models.callbacks import (
    BOOKED,
    CANCELLED,
    COMPLETED,
    DIALLING,
    OPEN_STATUSES,
    TEXT_BOOKED,
    UNREACHABLE,
    Callback,
)
from models.entities import Queue
from queueing import directory, lines

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

MAX_SLOT_DAYS = 14
CALLBACK_FIELDS = ("id", "reference", "status", "place", "attempts", "max_attempts",
                   "next_attempt_at", "expected_at", "created_at")


@dataclass(frozen=True)
class BookedCallback:
    """One open callback: its place in line now (None while waiting for a slot or retry)."""

    id: int
    reference: str
    queue: str
    number_ending: str
    status: str
    position: int | None
    expected_at: datetime | None
    attempts: int
    max_attempts: int
    booked_at: datetime


def _view(rt: Runtime, callback: Callback) -> BookedCallback:
    slug = callback.queue.slug
    expected = callback.next_attempt_at or callback.expected_at
    return BookedCallback(
        id=callback.id, reference=callback.reference, queue=slug,
        number_ending=callback.number[-4:], status=callback.status,
        position=lines.position(rt.live, slug, booking.entry_id(callback.id)),
        expected_at=expected, attempts=callback.attempts, max_attempts=callback.max_attempts,
        booked_at=callback.created_at)


def booked(rt: Runtime, s: Session, queue: str) -> list[BookedCallback]:
    """The open callbacks of a queue, in line order (their original place)."""
    row = find_queue(s, queue)
    found = s.scalars(select(Callback).where(Callback.queue_id == row.id,
                                             Callback.status.in_(OPEN_STATUSES))
                      .order_by(Callback.place, Callback.id))
    return [_view(rt, c) for c in found]


def open_counts(s: Session) -> dict[int, dict[str, int]]:
    """Open callbacks per queue id: how many are booked and how many in progress (dialling)."""
    rows = s.execute(select(Callback.queue_id, Callback.status, func.count())
                     .where(Callback.status.in_(OPEN_STATUSES))
                     .group_by(Callback.queue_id, Callback.status))
    counts: dict[int, dict[str, int]] = {}
    for queue_id, status, count in rows:
        counts.setdefault(queue_id, {BOOKED: 0, DIALLING: 0})[status] = count
    return counts


def _open_callback(s: Session, callback_id: int) -> Callback:
    callback = s.get(Callback, callback_id)
    if callback is None:
        raise ConfigError("callback", f"no callback {callback_id}")
    if not callback.is_open:
        raise ConfigError("callback", f"callback {callback_id} is already {callback.status}")
    return callback


def cancel(rt: Runtime, actor: Actor, callback_id: int) -> None:
    """Cancel one open callback (audited), then take it out of its line."""
    with rt.db.session() as s:
        callback = _open_callback(s, callback_id)
        before = snapshot(callback, leave_out=("number", "recording_url"))
        callback.status, callback.open_key = CANCELLED, None
        callback.next_attempt_at, callback.updated_at = None, rt.clock.now()
        s.flush()
        record(s, actor, "cancel", "callback", callback.id, _audited(before),
               _audited(snapshot(callback)))
        entry = booking.entry_for(callback)
    lines.forget(rt.live, entry)
    log.info("callback %s cancelled by %s", callback_id, actor.name)


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    return {k: values.get(k) for k in CALLBACK_FIELDS}


def parse_slot(value: Any, zone: str) -> datetime:
    """A slot from ISO text: with an offset, or local wall time in the queue's zone."""
    if not isinstance(value, str):
        raise ConfigError("slot", "must be a date and time such as 2026-11-17T10:30")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError("slot", f"{value!r} is not a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def _check_slot(s: Session, rt: Runtime, callback: Callback, value: Any) -> datetime:
    slot = parse_slot(value, callback.queue.time_zone)
    now = rt.clock.now()
    if slot <= now:
        raise ConfigError("slot", "must be in the future")
    if slot - now > timedelta(days=MAX_SLOT_DAYS):
        raise ConfigError("slot", f"must be within {MAX_SLOT_DAYS} days")
    if not directory.queue_is_open(s, callback.queue, slot):
        raise ConfigError("slot", "the line is closed then")
    return slot


def move(rt: Runtime, actor: Actor, callback_id: int, slot: Any) -> datetime:
    """Move a booked callback to `slot` (audited): out of the line until then, back at its
    original place when the slot comes; the customer is texted the new time. Returns the slot."""
    with rt.db.session() as s:
        callback = _open_callback(s, callback_id)
        if callback.status != BOOKED:
            raise ConfigError("callback", "is being dialled now; cancel it instead")
        when = _check_slot(s, rt, callback, slot)
        before = _audited(snapshot(callback))
        callback.next_attempt_at, callback.expected_at = when, when
        callback.updated_at = rt.clock.now()
        s.flush()
        record(s, actor, "move", "callback", callback.id, before, _audited(snapshot(callback)))
        slug, attempts, zone = callback.queue.slug, callback.attempts, callback.queue.time_zone
        sp = language.for_callback(rt, callback)
    lines.leave(rt.live, slug, booking.entry_id(callback_id))
    now, stamp = rt.clock.now(), int(when.timestamp())
    rt.enqueue(tasks.CALLBACK_DUE, callback_id, delay=(when - now).total_seconds(),
               job_id=f"cb-due-{callback_id}-{attempts}-moved-{stamp}")
    phrase = wording.opening_phrase(when.astimezone(ZoneInfo(zone)),
                                    now.astimezone(ZoneInfo(zone)), sp)
    key = f"cb-sms-moved-{callback_id}-{stamp}"
    rt.enqueue(tasks.SEND_SMS, callback_id, TEXT_BOOKED, phrase, key, job_id=key)
    return when


def day_counts(s: Session, day: date, queue: str | None = None) -> dict[str, int]:
    """Callbacks requested on a local day (each in its queue's zone) by where they stand now:
    requested, completed, unreachable, cancelled, and still open (booked or dialling)."""
    return range_counts(s, day, day, queue)


def range_counts(s: Session, first: date, last: date,
                 queue: str | None = None) -> dict[str, int]:
    """`day_counts` over the local days `first` to `last`."""
    query = select(Callback, Queue.time_zone).join(Queue, Callback.queue_id == Queue.id)
    if queue is not None:
        query = query.where(Queue.slug == queue)
    start = datetime.combine(first, time(0), UTC) - timedelta(days=1)
    end = datetime.combine(last, time(0), UTC) + timedelta(days=2)
    rows = s.execute(query.where(Callback.created_at >= start, Callback.created_at < end))
    statuses = [c.status for c, zone in rows
                if first <= c.created_at.astimezone(ZoneInfo(zone)).date() <= last]
    return {"requested": len(statuses), "completed": statuses.count(COMPLETED),
            "unreachable": statuses.count(UNREACHABLE), "cancelled": statuses.count(CANCELLED),
            "open": sum(status in OPEN_STATUSES for status in statuses)}

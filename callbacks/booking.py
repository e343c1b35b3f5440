"""Booking and cancelling callbacks: the promise is committed first, then the line follows.

A booked callback takes the caller's place in line: its entry ("cb:<id>", kind callback)
is scored by the moment the caller first joined, so it is neither jumped nor jumps.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callbacks import policy, promise
from holdless.runtime import Runtime
from ivr.numbers import mask
from models.callbacks import BOOKED, CANCELLED, OPEN_STATUSES, Callback, open_key
from models.entities import Interaction
from queueing import keys, lines, stats
from queueing.estimate import WaitEstimate, estimate_wait

log = logging.getLogger(__name__)

CALLBACK_BOOKED = "callback booked"
ENTRY_PREFIX = "cb:"
# Letters and digits that cannot be mistaken for one another when read out or typed.
REFERENCE_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"
REFERENCE_LENGTH = 6
BOOKING_TRIES = 3


class NotWaiting(LookupError):
    """The call asking for a callback is not (or no longer) in a line."""


@dataclass(frozen=True)
class Booked:
    """A callback committed to the database: what the caller is told."""

    callback_id: int
    reference: str
    when: str
    """When the call will come, as the caller is told: "in about 12 minutes"."""


def entry_id(callback_id: int) -> str:
    """The line entry id of a callback."""
    return f"{ENTRY_PREFIX}{callback_id}"


def callback_id_of(entry: str) -> int | None:
    """The callback id behind a line entry id, or None for a live caller's entry."""
    rest = entry.removeprefix(ENTRY_PREFIX)
    return int(rest) if rest != entry and rest.isdigit() else None


def entry_for(callback: Callback) -> lines.Entry:
    """The line entry of a callback, at the caller's original place."""
    return lines.Entry(entry_id(callback.id), callback.queue.slug, lines.CALLBACK,
                       callback.place, callback_id=callback.id)


def new_reference() -> str:
    """A short human code for a callback, e.g. "K7RM3A"."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def open_for(s: Session, number: str, queue_id: int | None = None) -> list[Callback]:
    """The open callbacks of a number (in one queue, or every queue)."""
    query = select(Callback).where(Callback.number == number,
                                   Callback.status.in_(OPEN_STATUSES))
    if queue_id is not None:
        query = query.where(Callback.queue_id == queue_id)
    return list(s.scalars(query.order_by(Callback.id)))


def wait_from_place(rt: Runtime, queue: str, place: float) -> WaitEstimate:
    """The expected wait of whoever holds `place` in a line (entries earlier go first)."""
    ahead = int(rt.live.zcount(keys.line(queue), "-inf", f"({place!r}"))
    return estimate_wait(ahead + 1, stats.queue_stats(rt.live, rt.presence, queue))


def book(rt: Runtime, call_sid: str, number: str) -> Booked:
    """Commit a callback for the caller of `call_sid` (or update their open one), then
    give it the caller's place in line, route, and send the confirming SMS."""
    for attempt in range(BOOKING_TRIES):
        try:
            booked, interaction_id, queue = _commit_booking(rt, call_sid, number)
            break
        except IntegrityError:  # a reference clash or a concurrent booking: read again
            if attempt == BOOKING_TRIES - 1:
                raise
    _take_place(rt, booked.callback_id, interaction_id, queue)
    from callbacks import notify
    rt.enqueue(notify.send_sms, booked.callback_id, notify.BOOKED, booked.when,
               job_id=f"cb-sms-booked-{booked.callback_id}-{interaction_id}")
    log.info("callback %s booked for %s", booked.callback_id, mask(number))
    return booked


def _commit_booking(rt: Runtime, call_sid: str, number: str) -> tuple[Booked, int, str]:
    with rt.db.session() as s:
        interaction = s.scalar(select(Interaction).where(Interaction.call_sid == call_sid))
        if interaction is None or interaction.queue is None or interaction.joined_at is None:
            raise NotWaiting(call_sid)
        queue, now = interaction.queue, rt.clock.now()
        found = open_for(s, number, queue.id)
        callback = found[0] if found else Callback(
            queue_id=queue.id, queue=queue, number=number, reference=new_reference(),
            status=BOOKED, place=interaction.joined_at,
            open_key=open_key(queue.id, number), created_at=now)
        callback.max_attempts = policy.for_queue(s, rt.settings, queue.id).attempts
        callback.place = min(callback.place, interaction.joined_at)
        callback.interaction_id = interaction.id
        wait = wait_from_place(rt, queue.slug, callback.place)
        kept = promise.promise(s, queue, wait, now)
        callback.expected_at = kept.expected_at
        callback.updated_at = now
        interaction.outcome = CALLBACK_BOOKED
        s.add(callback)
        s.flush()
        return Booked(callback.id, callback.reference, kept.phrase), interaction.id, queue.slug


def _take_place(rt: Runtime, callback_id: int, interaction_id: int, queue: str) -> None:
    caller = lines.load(rt.live, lines.caller_entry_id(interaction_id))
    if caller is not None:
        lines.forget(rt.live, caller)
    with rt.db.session() as s:
        callback = s.get(Callback, callback_id)
        entry = entry_for(callback) if callback is not None else None
    if entry is not None:
        lines.join(rt.live, entry)
    from callbacks import dispatch
    dispatch.route_and_offer(rt, [queue])


def cancel(rt: Runtime, number: str) -> list[str]:
    """Cancel every open callback of `number`; returns their references."""
    with rt.db.session() as s:
        found = open_for(s, number)
        for callback in found:
            callback.status, callback.open_key = CANCELLED, None
            callback.next_attempt_at, callback.updated_at = None, rt.clock.now()
        gone = [(entry_for(c), c.reference) for c in found]
    for entry, _reference in gone:
        lines.forget(rt.live, entry)
    if gone:
        log.info("%s callback(s) of %s cancelled", len(gone), mask(number))
    return [reference for _entry, reference in gone]


def sms_reply(rt: Runtime, number: str, body: str) -> str:
    """Answer a text from a customer: CANCEL cancels their open callbacks."""
    if body.strip().strip(".!").upper() == "CANCEL":
        cancelled = cancel(rt, number)
        if not cancelled:
            return "You have no callback booked with us."
        return (f"Your callback (reference {', '.join(cancelled)}) is cancelled. "
                "Call us any time.")
    with rt.db.session() as s:
        has_open = bool(open_for(s, number))
    return "Reply CANCEL to cancel your callback." if has_open else ""

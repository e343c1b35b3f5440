"""Booking and cancelling callbacks: the promise is committed first, then the line follows.

A booked callback takes the caller's place in line: its entry ("cb:<id>", kind callback)
is scored by the moment the caller first joined, so it is neither jumped nor jumps.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from holdless import tasks
from holdless.speech import ENGLISH, N_, Speech
from ivr import language, policy, promise, ring_window, slots, texting
from ivr.numbers import mask
from models.callbacks import BOOKED, CANCELLED, OPEN_STATUSES, TEXT_BOOKED, Callback, open_key
from models.entities import Caller, Interaction
from queueing import dispatch, keys, lines, priority, stats
from queueing.estimate import WaitEstimate, estimate_wait

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

CALLBACK_BOOKED = "callback booked"
ENTRY_PREFIX = "cb:"
# Letters and digits that cannot be mistaken for one another when read out or typed.
REFERENCE_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"
REFERENCE_LENGTH = 6
BOOKING_TRIES = 3
NO_CALLBACK = N_("You have no callback booked with us.")


class NotWaiting(LookupError):
    """The call asking for a callback is not (or no longer) in a line."""


class SlotTaken(LookupError):
    """The slot the caller chose has no room left (others booked it meanwhile)."""


SlotTimes = tuple[datetime, datetime]


@dataclass(frozen=True)
class Booked:
    """A callback committed to the database: what the caller is told."""

    callback_id: int
    reference: str
    when: str
    """When the call will come, as the caller is told: "in about 12 minutes"."""
    sp: Speech = ENGLISH
    """The caller's words (the language they were told it in)."""


def entry_id(callback_id: int) -> str:
    """The line entry id of a callback."""
    return f"{ENTRY_PREFIX}{callback_id}"


def callback_id_of(entry: str) -> int | None:
    """The callback id behind a line entry id, or None for a live caller's entry."""
    rest = entry.removeprefix(ENTRY_PREFIX)
    return int(rest) if rest != entry and rest.isdigit() else None


def entry_for(callback: Callback) -> lines.Entry:
    """The line entry of a callback, at the caller's original place; once the time it was
    promised has passed, routing moves it ahead by its queue's priority bonus."""
    promised = callback.expected_at.timestamp() if callback.expected_at is not None else 0.0
    return lines.Entry(entry_id(callback.id), callback.queue.slug, lines.CALLBACK,
                       callback.place, callback_id=callback.id, promised=promised,
                       late_bonus=priority.bonus(callback.queue.priority_bonus_seconds, True))


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


def book(rt: Runtime, call_sid: str, number: str, slot: SlotTimes | None = None,
         recording_url: str | None = None) -> Booked:
    """Commit a callback for the caller of `call_sid` (or update their open one), then give
    it the caller's place in line (or, booked for a slot, schedule it to enter the line at
    the slot's start), route, and send the confirming SMS."""
    for attempt in range(BOOKING_TRIES):
        try:
            booked, interaction_id, queue = _commit_booking(rt, call_sid, number, slot,
                                                            recording_url)
            break
        except IntegrityError:  # a reference clash or a concurrent booking: read again
            if attempt == BOOKING_TRIES - 1:
                raise
    if slot is None:
        _take_place(rt, booked.callback_id, interaction_id, queue)
    else:
        _await_slot(rt, booked.callback_id, interaction_id, slot[0])
    key = f"cb-sms-booked-{booked.callback_id}-{interaction_id}"
    rt.enqueue(tasks.SEND_SMS, booked.callback_id, TEXT_BOOKED, booked.when, key, job_id=key)
    log.info("callback %s booked for %s", booked.callback_id, mask(number))
    return booked


def _commit_booking(rt: Runtime, call_sid: str, number: str, slot: SlotTimes | None,
                    recording_url: str | None) -> tuple[Booked, int, str]:
    sp = language.for_call(rt, call_sid)
    with rt.db.session() as s:
        interaction = s.scalar(select(Interaction).where(Interaction.call_sid == call_sid))
        if interaction is None or interaction.queue is None or (
                interaction.joined_at is None and slot is None):
            raise NotWaiting(call_sid)
        queue, now = interaction.queue, rt.clock.now()
        found = open_for(s, number, queue.id)
        callback = found[0] if found else Callback(
            queue_id=queue.id, queue=queue, number=number, reference=new_reference(),
            status=BOOKED, place=interaction.joined_at or now.timestamp(),
            open_key=open_key(queue.id, number), created_at=now)
        callback.max_attempts = policy.for_queue(s, rt.settings, queue.id).attempts
        callback.interaction_id = interaction.id
        callback.language = sp.tag  # the call back and its texts speak what the caller heard
        callback.recording_url = recording_url or callback.recording_url
        if slot is None:
            phrase = _keep_place(rt, s, callback, interaction.joined_at or now.timestamp(), sp)
        else:
            phrase = _book_slot(rt, s, callback, slot, sp)
        callback.updated_at = now
        interaction.outcome = CALLBACK_BOOKED
        s.add(callback)
        s.flush()
        return Booked(callback.id, callback.reference, phrase, sp), interaction.id, queue.slug


def _keep_place(rt: Runtime, s: Session, callback: Callback, joined: float,
                sp: Speech = ENGLISH) -> str:
    callback.place = min(callback.place, joined)
    callback.slot_start = callback.slot_end = callback.next_attempt_at = None
    wait = wait_from_place(rt, callback.queue.slug, callback.place)
    window = ring_window.window_for(s, rt, callback.queue, callback.number)
    kept = promise.promise(s, callback.queue, wait, rt.clock.now(), window, sp)
    callback.expected_at = kept.expected_at
    callback.promised_from, callback.promised_by = kept.said_bounds
    callback.promised_words = kept.phrase
    return kept.phrase


def _book_slot(rt: Runtime, s: Session, callback: Callback, slot: SlotTimes,
               sp: Speech = ENGLISH) -> str:
    starts, ends = (moment.astimezone(ZoneInfo(callback.queue.time_zone)) for moment in slot)
    if callback.slot_start is None or callback.slot_start != starts:
        room = slots.room_left(s, callback.queue, starts, ends,
                               promise.handle_seconds(rt, callback.queue.slug))
        if room <= 0:
            raise SlotTaken(callback.queue.slug)
        callback.place = slots.place(s, callback.queue.id, starts)
    callback.slot_start, callback.slot_end = starts, ends
    callback.next_attempt_at = callback.expected_at = starts
    callback.promised_from, callback.promised_by = starts, ends
    callback.promised_words = slots.Slot(starts, ends, 0).phrase(rt.clock.now(), sp)
    return callback.promised_words


def _await_slot(rt: Runtime, callback_id: int, interaction_id: int, starts: datetime) -> None:
    for held in (lines.caller_entry_id(interaction_id), entry_id(callback_id)):
        entry = lines.load(rt.live, held)
        if entry is not None:
            lines.forget(rt.live, entry)
    schedule_due(rt, callback_id, starts)


def _take_place(rt: Runtime, callback_id: int, interaction_id: int, queue: str) -> None:
    caller = lines.load(rt.live, lines.caller_entry_id(interaction_id))
    if caller is not None:
        lines.forget(rt.live, caller)
    with rt.db.session() as s:
        callback = s.get(Callback, callback_id)
        entry = entry_for(callback) if callback is not None else None
    if entry is not None:
        lines.join(rt.live, entry)
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


def text_promise(rt: Runtime, callback_id: int, sp: Speech = ENGLISH) -> str:
    """The sentence about the text confirming a booked callback (see texting)."""
    with rt.db.session() as s:
        callback = s.get_one(Callback, callback_id)
        return sp.gettext(texting.reference_promise(s, callback.number))


def sms_reply(rt: Runtime, number: str, body: str) -> str:
    """Answer a text from a customer: NOCALL cancels their open callbacks; Twilio's
    opt-out and opt-in keywords are recorded and get no reply of ours (Twilio sends its
    own, and would refuse ours after an opt-out); "" for no reply."""
    word = texting.keyword(body)
    if word in texting.OPT_OUT_KEYWORDS or word in texting.OPT_IN_KEYWORDS:
        opted_out = word in texting.OPT_OUT_KEYWORDS
        with rt.db.session() as s:
            texting.record_opt(s, number, opted_out, texting.SOURCE_KEYWORD, rt.clock.now())
        log.info("%s opted %s texts", mask(number), "out of" if opted_out else "back in to")
        return ""
    if word in texting.HELP_KEYWORDS:
        return ""
    sp = _texting_language(rt, number)
    if word in texting.CANCEL_WORDS:
        cancelled = cancel(rt, number)
        if not cancelled:
            return sp.gettext(NO_CALLBACK)
        return sp.gettext("Your callback (reference {references}) is cancelled. "
                          "Call us any time.", references=", ".join(cancelled))
    with rt.db.session() as s:
        has_open = bool(open_for(s, number))
    return (sp.gettext("Reply {word} if you no longer need your callback.",
                       word=texting.cancel_word(sp)) if has_open else "")


def _texting_language(rt: Runtime, number: str) -> Speech:
    """The language a customer is texted in: their latest callback's, else the one their
    number's record keeps, else English."""
    with rt.db.session() as s:
        booked = s.scalar(select(Callback.language).where(Callback.number == number)
                          .order_by(Callback.id.desc()).limit(1))
        kept = s.scalar(select(Caller.language).where(Caller.number == number))
    return language.spoken(rt, booked or kept or None)


def schedule_due(rt: Runtime, callback_id: int, at: datetime) -> None:
    """Put a booked callback back in line at `at` (one job per callback and moment,
    however often asked)."""
    rt.enqueue(tasks.CALLBACK_DUE, callback_id,
               job_id=f"cb-due-{callback_id}-{int(at.timestamp())}",
               delay=max(0.0, (at - rt.clock.now()).total_seconds()))

"""The caller's journey: greeting, hours gate, menu, joining the line, holding, leaving."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, insert, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from entrypoints.runtime import Runtime
from holdless import paths
from ivr import account, callback_capture, callback_kept, promise, twiml, wording
from ivr.booking import CALLBACK_BOOKED
from ivr.numbers import mask
from models.callbacks import OPEN_STATUSES, Callback
from models.entities import (
    ABANDONED,
    COMPLETED,
    CONNECTED,
    IVR,
    OFFERED,
    WAITING,
    Caller,
    Interaction,
    Queue,
)
from models.states import advance, is_final
from queueing import directory, dispatch, lines, stats
from queueing.estimate import WaitEstimate, estimate_wait
from queueing.hours import closure_on, next_opening

log = logging.getLogger(__name__)

MENU_ATTEMPTS = 3
# The outcome of a call that reached us while every queue was closed.
CLOSED_OUTCOME = "closed"
# The kind of interaction of a customer called back who waits for an agent (customer first).
CALLED_BACK = "callback"


class UnknownCall(LookupError):
    """A webhook named a CallSid Holdless has no record of."""


@dataclass(frozen=True)
class CallFacts:
    """What Twilio tells us about a new inbound call, already validated."""

    call_sid: str
    number: str | None
    to: str


def incoming(rt: Runtime, facts: CallFacts) -> VoiceResponse:
    """Answer a new call: greet, check hours, offer the menu or join the only open queue."""
    first = _first_webhook(rt, facts)
    if first is not None:
        return first
    with rt.db.session() as s:
        interaction = _record(s, rt, facts)
        if is_final(interaction):
            return _call_over()
        if interaction.status != IVR and interaction.queue is not None:
            return _again(rt, interaction, interaction.queue)
        greeting = _greeting(rt, interaction)
        kept = callback_kept.offer(rt, interaction, greeting)
        if kept is not None:
            return kept
        queues = directory.active_queues(s)
        now = rt.clock.now()
        open_queues = [q for q in queues if directory.queue_is_open(s, q, now)]
        if not open_queues:
            return _closed(s, rt, interaction, queues, greeting)
        options = [q for q in open_queues if q.digit]
        if len(options) < 2:
            return join_or_ask(s, rt, interaction, open_queues[0], greeting)
        return twiml.menu(greeting, _menu_options(options), rt.url(paths.MENU, attempt=1))


def choose(rt: Runtime, call_sid: str, digits: str, attempt: int) -> VoiceResponse:
    """Act on a menu key: join the queue it names, or retry (at the last try: the first queue)."""
    with rt.db.session() as s:
        interaction = _interaction(s, call_sid)
        if is_final(interaction):
            return _call_over()
        if interaction.status != IVR and interaction.queue is not None:
            return _again(rt, interaction, interaction.queue)
        now = rt.clock.now()
        options = [q for q in directory.active_queues(s)
                   if q.digit and directory.queue_is_open(s, q, now)]
        chosen = next((q for q in options if q.digit == digits), None)
        if chosen is None and not options:
            return _closed(s, rt, interaction, directory.active_queues(s), "")
        if chosen is not None or attempt >= MENU_ATTEMPTS:
            queue = chosen or options[0]
            interaction.ivr_choices = {**interaction.ivr_choices, "menu": queue.slug}
            return join_or_ask(s, rt, interaction, queue, "")
        note = "Sorry, I didn't catch that." if not digits else "Sorry, that is not an option."
        return twiml.menu("", _menu_options(options), rt.url(paths.MENU, attempt=attempt + 1), note)


# The caller's name, and whether their number has a callback still open: one statement.
_CALLER_FACTS = select(
    select(Caller.id).where(Caller.number == bindparam("number")).scalar_subquery(),
    select(Caller.name).where(Caller.number == bindparam("number")).scalar_subquery(),
    exists().where(Callback.number == bindparam("number"),
                   Callback.status.in_(OPEN_STATUSES)))
_INTERACTIONS = cast(Table, Interaction.__table__)
_NEW_INTERACTION = insert(_INTERACTIONS).returning(_INTERACTIONS.c.id)


def _first_webhook(rt: Runtime, facts: CallFacts) -> VoiceResponse | None:
    """The first webhook of a new call on the common path (open, no callback booked, no
    account number asked): the queues from this process's copy, one read, one insert and
    one commit, then one Redis step that joins the line and routes it. None: the call
    needs the full path (a repeated CallSid, closed, a booked callback, an account asked,
    or the copy of the queues just found out of date).
    """
    now = rt.clock.now()
    listing = directory.kept(rt.db)
    if listing is None or _single_queue(listing, now) is None:  # check the copy first
        listing = directory.listing(rt.live, rt.db)
    open_queues = listing.open_at(now)
    queue = _single_queue(listing, now)
    if not open_queues or (queue is not None and queue.ask_account):
        return None
    with rt.db.session() as s:  # Core statements; the session only rolls back on error
        known = s.connection().execute(_CALLER_FACTS, {"number": facts.number}).one() if (
            facts.number) else None
        caller_id, name, callback_open = known or (None, "", False)
        if callback_open:
            return None
        greeting = _greeting_to(rt, name)
        if queue is None:  # the menu: recorded in the IVR, the choice comes next
            if _insert_call(s, rt, facts, caller_id, {}) is None:
                return None
            options = [q for q in open_queues if q.digit]
            return twiml.menu(greeting, _menu_options(options), rt.url(paths.MENU, attempt=1))
        joined = rt.clock.time()
        view = lines.join_view(rt.live, queue.slug, joined)
        if view.directory_version != listing.version:  # an admin changed the queues
            directory.listing_at(rt.live, rt.db, view.directory_version)
            return None
        estimate = estimate_wait(view.place, stats.stats_at(
            rt.live, queue.slug, view.stats_version, view.staffed, view.idle))
        interaction_id = _insert_call(s, rt, facts, caller_id, {
            "status": WAITING, "queue_id": queue.id, "joined_at": joined,
            "announced_wait": estimate.seconds})
    if interaction_id is None:
        return None
    return _enter_line(rt, facts, queue, lines.Entry(
        lines.caller_entry_id(interaction_id), queue.slug, lines.CALLER, joined, facts.call_sid,
        interaction_id), greeting, estimate)


def _single_queue(listing: directory.Listing, now: datetime) -> directory.QueueCard | None:
    """The queue a new caller joins straight away (None: closed, or a menu to choose from)."""
    open_queues = listing.open_at(now)
    options = [q for q in open_queues if q.digit]
    return open_queues[0] if open_queues and len(options) < 2 else None


def _insert_call(s: Session, rt: Runtime, facts: CallFacts, caller_id: int | None,
                 waiting: dict[str, Any]) -> int | None:
    """Record a new call and commit; None when its CallSid is already recorded."""
    try:
        interaction_id = s.connection().execute(_NEW_INTERACTION, {
            "call_sid": facts.call_sid, "caller_number": facts.number, "caller_id": caller_id,
            "created_at": rt.clock.now(), "ivr_choices": {}, **waiting}).scalar_one()
        s.commit()
    except IntegrityError:  # Twilio retrying a call already recorded: the full path answers
        s.rollback()
        return None
    log.info("new call from %s", mask(facts.number))
    return int(interaction_id)


def _enter_line(rt: Runtime, facts: CallFacts, queue: directory.QueueCard, entry: lines.Entry,
                greeting: str, estimate: WaitEstimate) -> VoiceResponse:
    """The caller, recorded as waiting with what they are told, enters the live line (and
    is routed in the same step); then they are told it."""
    joined = rt.router.join_and_route(entry, rt.clock.time())
    log.info("caller %s joined %s", mask(facts.number), queue.slug)
    dispatch.offer_all(rt, joined.pairs)
    offer = _card_offer(rt, queue, estimate) if joined.position is not None else ""
    return _wait_words(rt, queue.slug, queue.greeting, queue.busy_threshold_seconds, greeting,
                       estimate, joined.position, offer)


def _card_offer(rt: Runtime, queue: directory.QueueCard, estimate: WaitEstimate) -> str:
    """The callback offer for a new inbound caller, from the cached queue where it can."""
    if estimate.seconds <= queue.callback_threshold_seconds:
        return ""
    if promise.fits_schedule(queue.schedule, estimate, rt.clock.now()):
        return promise.TURN_OFFER
    return _callback_offer(rt, queue.slug, estimate)  # slots are counted in the database


def join_or_ask(s: Session, rt: Runtime, interaction: Interaction, queue: Queue,
                greeting: str) -> VoiceResponse:
    """Join the line, first asking for an account number where the queue wants one."""
    if account.wanted(interaction, queue):
        return account.ask(rt, queue, greeting)
    return join(s, rt, interaction, queue, greeting)


def join(s: Session, rt: Runtime, interaction: Interaction, queue: Queue,
         greeting: str) -> VoiceResponse:
    """Put the caller in line, commit what they are told, then tell them and hold them.

    One commit records both that they wait and the wait they are told (estimated at the
    place they are about to take), before they enter the live line: from that moment
    another process may pair them with an agent, and nothing here writes the status again.
    """
    if is_final(interaction):  # a late or repeated webhook of a call that is over
        return _call_over()
    if interaction.status == OFFERED and interaction.queue is not None:
        return _wait_answer(rt, interaction, interaction.queue, greeting)  # an agent has them
    joined = interaction.joined_at or rt.clock.time()
    entry = lines.Entry(lines.caller_entry_id(interaction.id), queue.slug, lines.CALLER, joined,
                        interaction.call_sid, interaction.id)
    interaction.queue_id, interaction.joined_at = queue.id, joined
    interaction.queue = queue
    advance(interaction, WAITING)
    estimate = estimate_at(rt, queue.slug, lines.place_on_joining(rt.live, entry))
    interaction.announced_wait = estimate.seconds
    s.commit()
    lines.join(rt.live, entry)
    log.info("caller %s joined %s", mask(interaction.caller_number), queue.slug)
    dispatch.route_and_offer(rt, [queue.slug])
    return _wait_answer(rt, interaction, queue, greeting, estimate)


def estimate_for(rt: Runtime, queue: str, entry_id: str) -> WaitEstimate:
    """The wait ahead of one entry of a line (zero when it is not waiting)."""
    return estimate_at(rt, queue, lines.position(rt.live, queue, entry_id))


def estimate_at(rt: Runtime, queue: str, position: int | None) -> WaitEstimate:
    """The wait ahead of the entry at 1-based `position` (zero when None: not waiting)."""
    if position is None:
        return WaitEstimate(0.0, 0.0, 0.0)
    return estimate_wait(position, stats.queue_stats(rt.live, rt.presence, queue))


def hold(rt: Runtime, call_sid: str) -> VoiceResponse:
    """One turn of the hold loop: place and wait, interruptible, then music."""
    view = lines.hold_view(rt.live, call_sid)
    if view is None or view.position is None:
        return twiml.hold_loop("Please hold, connecting you now.", rt.url(paths.HOLD_KEY),
                               rt.settings.hold_music_url)
    figures = stats.stats_at(rt.live, view.queue, view.stats_version, view.staffed, view.idle)
    estimate = estimate_wait(view.position, figures)
    text = f"{wording.place_in_line(view.position)} {wording.wait_sentence(estimate)}"
    offer = _offer_while_holding(rt, view, estimate)
    text += f" {offer}" if offer else ""
    return twiml.hold_loop(text, rt.url(paths.HOLD_KEY), rt.settings.hold_music_url)


def hold_key(rt: Runtime, call_sid: str, digits: str) -> VoiceResponse:
    """1 while holding asks for a callback, 2 to leave a message instead (leave the hold
    line to book it); any other key means nothing here: say so and keep holding."""
    if digits in ("1", "2") and callback_capture.want(rt, call_sid, voicemail=digits == "2"):
        return twiml.leave()
    response = VoiceResponse()
    twiml.say(response, "Sorry, that key does nothing here. Please keep holding; "
                        "you keep your place in line.")
    return response


def queue_exit(rt: Runtime, call_sid: str, result: str) -> VoiceResponse:
    """Twilio's report that a caller left its queue: apologise when it was our fault."""
    if result in ("queue-full", "system-error", "error"):
        return twiml.goodbye("We are sorry, we cannot hold your call right now. "
                             "Please call again in a few minutes. Goodbye.")
    if result == "leave" and callback_capture.wanted(rt, call_sid):
        return callback_capture.start(rt, call_sid)
    return twiml.empty()


def caller_left(rt: Runtime, call_sid: str) -> None:
    """The caller's call is over: leave the line, count an abandon, release any offer."""
    with rt.db.session() as s:
        interaction = _interaction(s, call_sid)
        was, now = interaction.status, rt.clock.now()
        interaction.ended_at = interaction.ended_at or now
        booked_callback = interaction.outcome == CALLBACK_BOOKED
        if booked_callback:
            advance(interaction, COMPLETED)
        elif was in (WAITING, OFFERED):
            advance(interaction, ABANDONED)
            interaction.outcome = "abandoned"
        elif was == IVR and interaction.outcome == CLOSED_OUTCOME:
            advance(interaction, COMPLETED)
        elif was == IVR:
            advance(interaction, ABANDONED)
            interaction.outcome = "hung up in menu"
        else:
            advance(interaction, COMPLETED)
        queue_slug = interaction.queue.slug if interaction.queue is not None else None
        waited = rt.clock.time() - (interaction.joined_at or rt.clock.time())
    entry = lines.load(rt.live, lines.caller_entry_id(interaction.id))
    if entry is not None:
        lines.forget(rt.live, entry)
    if was in (WAITING, OFFERED) and queue_slug is not None and not booked_callback:
        stats.record_outcome(rt.live, queue_slug, waited, abandoned=True)
    if was in (OFFERED, CONNECTED):  # an agent may be ringing, or alone in the conference
        from callbacks import jobs
        rt.enqueue(jobs.caller_gone, interaction.id, job_id=f"caller-gone-{interaction.id}")


def _again(rt: Runtime, interaction: Interaction, queue: Queue) -> VoiceResponse:
    """A repeated webhook of a caller already placed: route (a retry after an outage may be
    the first chance since), then tell them where they stand."""
    if interaction.status == WAITING:
        dispatch.route_and_offer(rt, [queue.slug])
    return _wait_answer(rt, interaction, queue, "")


def _call_over() -> VoiceResponse:
    """The answer to a late webhook of a call already over: no line, just goodbye."""
    return twiml.goodbye()


def _record(s: Session, rt: Runtime, facts: CallFacts) -> Interaction:
    found = s.scalar(select(Interaction).where(Interaction.call_sid == facts.call_sid))
    if found is not None:
        return found
    caller = directory.known_caller(s, facts.number)
    interaction = Interaction(call_sid=facts.call_sid, caller_number=facts.number, caller=caller,
                              created_at=rt.clock.now(), ivr_choices={})
    try:
        s.add(interaction)
        s.flush()  # a CallSid already recorded (Twilio retrying) fails here
    except IntegrityError:
        s.rollback()
        return _interaction(s, facts.call_sid)
    log.info("new call from %s", mask(facts.number))
    return interaction


def _interaction(s: Session, call_sid: str) -> Interaction:
    found = s.scalar(select(Interaction).where(Interaction.call_sid == call_sid))
    if found is None:
        raise UnknownCall(call_sid)
    return found


def _greeting(rt: Runtime, interaction: Interaction) -> str:
    return _greeting_to(rt, interaction.caller.name if interaction.caller else "")


def _greeting_to(rt: Runtime, name: str | None) -> str:
    line = rt.settings.extra.get("line_name", "Holdless")
    hello = f"Hello {name}, thank you" if name else "Thank you"
    return f"{hello} for calling {line}."


def _menu_options(queues: list[Queue] | list[directory.QueueCard]) -> list[twiml.MenuOption]:
    return [twiml.MenuOption(q.digit or "", q.name) for q in queues]


def _closed(s: Session, rt: Runtime, interaction: Interaction, queues: list[Queue],
            greeting: str) -> VoiceResponse:
    interaction.outcome = CLOSED_OUTCOME  # told we are closed: not an abandon when they hang up
    now = rt.clock.now()
    message = "We are closed right now."
    openings = []
    for queue in queues:
        sched = directory.schedule(s, queue)
        holiday = closure_on(sched, now.astimezone(sched.tz).date())
        if holiday is not None and holiday.message:
            message = holiday.message
        opening = next_opening(sched, now)
        if opening is not None:
            openings.append((opening, queue))
    if openings:
        first, queue = min(openings, key=lambda pair: pair[0])
        message += f" We open again {wording.opening_phrase(first, now.astimezone(first.tzinfo))}."
        offer = callback_capture.offer_after_hours(rt, s, interaction, queue,
                                                   f"{greeting} {message}".strip())
        if offer is not None:
            return offer
    return twiml.closed(greeting, message)


def _wait_answer(rt: Runtime, interaction: Interaction, queue: Queue, greeting: str,
                 estimate: WaitEstimate | None = None) -> VoiceResponse:
    entry_id = lines.caller_entry_id(interaction.id)
    estimate = estimate or estimate_for(rt, queue.slug, entry_id)
    position = lines.position(rt.live, queue.slug, entry_id)
    offer = _callback_offer(rt, queue.slug, estimate) if position is not None else ""
    return _wait_words(rt, queue.slug, queue.greeting, queue.busy_threshold_seconds, greeting,
                       estimate, position, offer)


def _wait_words(rt: Runtime, slug: str, queue_greeting: str, busy_threshold: int,
                greeting: str, estimate: WaitEstimate, position: int | None,
                offer: str) -> VoiceResponse:
    """What a caller in line hears (place, wait, callback offer), then the hold line."""
    parts = [greeting, queue_greeting]
    if estimate.seconds > busy_threshold:
        parts.append("We are much busier than usual right now, and we are sorry for the wait.")
    if position is not None:
        parts += [wording.place_in_line(position), wording.wait_sentence(estimate), offer]
    else:
        parts.append("Connecting you now.")
    return twiml.wait_in_line(" ".join(p for p in parts if p), slug,
                              rt.url(paths.HOLD), rt.url(paths.QUEUE_EXIT))


def _offer_while_holding(rt: Runtime, view: lines.HoldView, estimate: WaitEstimate) -> str:
    """The callback offer of a hold update; without the database the update still plays
    (place and estimate come from Redis) and only the offer is left out."""
    try:
        listing = directory.listing_at(rt.live, rt.db, view.directory_version)
        queue = listing.card(view.queue)
        if queue is not None and estimate.seconds <= queue.callback_threshold_seconds:
            return ""  # short enough: no offer, and nothing to read
        interaction_id = lines.interaction_of(view.entry_id)
        if queue is None:  # a queue no longer active: read as it is
            return _callback_offer(rt, view.queue, estimate, interaction_id)
        return "" if _called_back(rt, interaction_id) else _card_offer(rt, queue, estimate)
    except (OperationalError, InterfaceError) as exc:
        log.warning("hold update without callback offer: database unreachable (%s)",
                    type(exc).__name__)
        return ""


# The kind of an interaction, read alone.
_KIND = select(_INTERACTIONS.c.kind).where(_INTERACTIONS.c.id == bindparam("id"))


def _called_back(rt: Runtime, interaction_id: int) -> bool:
    """Whether the interaction is a customer we called back (they are offered no callback)."""
    if not interaction_id:
        return False
    with rt.db.engine.connect() as conn:
        return conn.execute(_KIND, {"id": interaction_id}).scalar() == CALLED_BACK


def _callback_offer(rt: Runtime, queue_slug: str, estimate: WaitEstimate,
                    interaction_id: int = 0) -> str:
    with rt.db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.slug == queue_slug))
        interaction = s.get(Interaction, interaction_id) if interaction_id else None
        if queue is None or (interaction is not None and interaction.kind == CALLED_BACK):
            return ""  # a customer we called back, now waiting for an agent
        return promise.offer_sentence(rt, s, queue, estimate)


def rejoin(rt: Runtime, call_sid: str) -> VoiceResponse:
    """Put a caller back in their line at their original place, and hold them."""
    with rt.db.session() as s:
        interaction = _interaction(s, call_sid)
        if interaction.queue is None:
            return twiml.goodbye()
        return join(s, rt, interaction, interaction.queue, "")


def to_conference(rt: Runtime, call_sid: str) -> VoiceResponse:
    """The caller's side of the bridge to their agent."""
    with rt.db.session() as s:
        interaction = _interaction(s, call_sid)
        if not interaction.conference:
            return rejoin(rt, call_sid)
        return twiml.join_conference("Thank you for waiting. Connecting you now.",
                                     interaction.conference, agent=False)

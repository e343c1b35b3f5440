"""A caller arriving: the first webhook of a new call (greeting, hours, the menu, the only
open queue), and the menu choice."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from holdless import paths
from holdless.speech import DEFAULT_LANGUAGE, LANGUAGES, N_, Speech
from ivr import (
    account,
    callback_capture,
    callback_kept,
    in_line,
    language,
    recording_notice,
    twiml,
    wording,
)
from ivr.in_line import (
    INTERACTIONS,
    again,
    call_over,
    card_offer,
    tell_busy,
    unusually_busy,
    wait_words,
)
from ivr.interactions import CLOSED_OUTCOME, interaction_of
from ivr.numbers import mask
from models.callbacks import OPEN_STATUSES, Callback
from models.entities import (
    IVR,
    WAITING,
    Caller,
    Interaction,
    Queue,
)
from models.privacy import RECORDING_CONSENT, RECORDING_OFF
from models.states import is_final
from queueing import directory, dispatch, lines, priority, stats
from queueing.estimate import WaitEstimate, estimate_wait
from queueing.hours import closure_on, next_opening

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

# How a call turned away from a full line (its queue's max_waiting) ends.
LINE_FULL_OUTCOME = "line full"


MENU_ATTEMPTS = 3
NOT_CAUGHT = N_("Sorry, I didn't catch that.")
NOT_AN_OPTION = N_("Sorry, that is not an option.")
CLOSED_NOW = N_("We are closed right now.")


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
    return _full_path(rt, facts)


def _full_path(rt: Runtime, facts: CallFacts) -> VoiceResponse:
    """The first webhook of a call the fast path leaves: record it, ask its language on a
    line of several, keep or cancel a booked callback, closed, the menu, or the line."""
    with rt.db.session() as s:
        interaction = _record(s, rt, facts)
        if is_final(interaction):
            return call_over(language.for_call(rt, facts.call_sid))
        if interaction.status != IVR and interaction.queue is not None:
            return again(rt, interaction, interaction.queue)
        asked = _language_first(s, rt, interaction)
        if asked is not None:
            return asked
        sp = language.for_call(rt, facts.call_sid)
        greeting = _greeting(rt, interaction, sp)
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
        return twiml.menu(greeting, _menu_options(options), rt.url(paths.MENU, attempt=1), sp=sp)


def _language_first(s: Session, rt: Runtime, interaction: Interaction) -> VoiceResponse | None:
    """Settle the call's language: already decided, the caller's own (their number's
    record), or the line's only one; on a line of several, ask (None: settled)."""
    if language.known(rt, interaction.call_sid):
        return None
    own = interaction.language or (interaction.caller.language if interaction.caller else None)
    queues = directory.active_queues(s)
    if own in LANGUAGES:
        interaction.language = own
        language.remember(rt, interaction.call_sid, str(own), language.line_voice(queues, own))
        return None
    offered = language.line_languages(queues)
    if len(offered) == 1:
        language.remember(rt, interaction.call_sid, offered[0],
                          language.line_voice(queues, offered[0]))
        return None
    return language.choice_prompt(rt, offered, rt.url(paths.LANGUAGE))


def choose_language(rt: Runtime, facts: CallFacts, digits: str) -> VoiceResponse:
    """The caller's key after the language offer: keep the language it chose (none: the
    line's first) for the call and their number, then greet them in it."""
    with rt.db.session() as s:
        interaction = interaction_of(s, facts.call_sid)
        queues = directory.active_queues(s)
        tag = language.chosen(language.line_languages(queues), digits)
        language.keep(s, rt, interaction, tag, language.line_voice(queues, tag))
        s.commit()
    return _full_path(rt, facts)


def choose(rt: Runtime, call_sid: str, digits: str, attempt: int) -> VoiceResponse:
    """Act on a menu key: join the queue it names, or retry (at the last try: the first queue)."""
    sp = language.for_call(rt, call_sid)
    with rt.db.session() as s:
        interaction = interaction_of(s, call_sid)
        if is_final(interaction):
            return call_over(sp)
        if interaction.status != IVR and interaction.queue is not None:
            return again(rt, interaction, interaction.queue)
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
        note = sp.gettext(NOT_CAUGHT if not digits else NOT_AN_OPTION)
        return twiml.menu("", _menu_options(options), rt.url(paths.MENU, attempt=attempt + 1),
                          note, sp=sp)


# The caller's name, whether they are a VIP, and whether their number has a callback still
# open: one statement.
_CALLER_FACTS = select(
    select(Caller.id).where(Caller.number == bindparam("number")).scalar_subquery(),
    select(Caller.name).where(Caller.number == bindparam("number")).scalar_subquery(),
    select(Caller.vip).where(Caller.number == bindparam("number")).scalar_subquery(),
    select(Caller.language).where(Caller.number == bindparam("number")).scalar_subquery(),
    exists().where(Callback.number == bindparam("number"),
                   Callback.status.in_(OPEN_STATUSES)))


_NEW_INTERACTION = insert(INTERACTIONS).returning(INTERACTIONS.c.id)


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
    if not open_queues or (queue is not None and (queue.ask_account
                                                  or queue.recording_mode != RECORDING_OFF)):
        return None  # an account number or a recording notice first: the full path
    with rt.db.session() as s:  # Core statements; the session only rolls back on error
        known = s.connection().execute(_CALLER_FACTS, {"number": facts.number}).one() if (
            facts.number) else None
        caller_id, name, vip, own, callback_open = known or (None, "", False, None, False)
        if callback_open:
            return None
        offered = language.line_languages(listing.queues)
        if own not in LANGUAGES and len(offered) > 1:
            return None  # a line of several languages asks a caller it does not know
        tag = own if own in LANGUAGES else offered[0]
        language.remember(rt, facts.call_sid, tag, language.line_voice(listing.queues, tag))
        kept = {"language": own} if own in LANGUAGES else {}  # the caller's own, on the call
        sp = language.for_call(rt, facts.call_sid)
        greeting = _greeting_to(rt, name, sp)
        if queue is None:  # the menu: recorded in the IVR, the choice comes next
            if _insert_call(s, rt, facts, caller_id, kept) is None:
                return None
            options = [q for q in open_queues if q.digit]
            return twiml.menu(greeting, _menu_options(options), rt.url(paths.MENU, attempt=1),
                              sp=sp)
        in_line.prime_handle(rt, queue.id, queue.slug)
        joined = rt.clock.time()
        head_start = priority.bonus(queue.priority_bonus_seconds, bool(vip))
        view = lines.join_view(rt.live, queue.slug, joined - head_start)
        if view.directory_version != listing.version:  # an admin changed the queues
            directory.listing_at(rt.live, rt.db, view.directory_version)
            language.forget(rt, facts.call_sid)  # perhaps their language or voice too
            return None
        if lines.length(rt.live, queue.slug) >= rt.settings.line_limit(queue.max_waiting):
            return None  # the line is full: the full path offers a callback instead
        estimate = estimate_wait(view.place, stats.stats_at(
            rt.live, queue.slug, view.stats_version, view.staffed, view.idle))
        interaction_id = _insert_call(s, rt, facts, caller_id, {
            "status": WAITING, "queue_id": queue.id, "joined_at": joined,
            "announced_wait": estimate.seconds, **kept})
    if interaction_id is None:
        return None
    return _enter_line(rt, facts, queue, lines.Entry(
        lines.caller_entry_id(interaction_id), queue.slug, lines.CALLER, joined, facts.call_sid,
        interaction_id, bonus=head_start), greeting, estimate, sp)


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
                greeting: str, estimate: WaitEstimate, sp: Speech) -> VoiceResponse:
    """The caller, recorded as waiting with what they are told, enters the live line (and
    is routed in the same step); then they are told it."""
    joined = rt.router.join_and_route(entry, rt.clock.time())
    log.info("caller %s joined %s", mask(facts.number), queue.slug)
    dispatch.offer_all(rt, joined.pairs)
    offer = card_offer(rt, queue, estimate, sp) if joined.position is not None else ""
    busy = joined.position is not None and tell_busy(rt, entry.id, unusually_busy(
        rt, queue.id, queue.time_zone, queue.busy_threshold_seconds, estimate))
    return wait_words(rt, queue.slug, language.queue_text(queue, "greeting", sp, queue.greeting),
                      busy, greeting, estimate, joined.position, offer, sp)




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
        return interaction_of(s, facts.call_sid)
    log.info("new call from %s", mask(facts.number))
    return interaction


def _greeting(rt: Runtime, interaction: Interaction, sp: Speech) -> str:
    return _greeting_to(rt, interaction.caller.name if interaction.caller else "", sp)


def _greeting_to(rt: Runtime, name: str | None, sp: Speech) -> str:
    line = rt.settings.extra.get("line_name", "Holdless")
    if name:
        return sp.gettext("Hello {name}, thank you for calling {line}.", name=name, line=line)
    return sp.gettext("Thank you for calling {line}.", line=line)


def _menu_options(queues: list[Queue] | list[directory.QueueCard]) -> list[twiml.MenuOption]:
    return [twiml.MenuOption(q.digit or "", q.name) for q in queues]


def _closed(s: Session, rt: Runtime, interaction: Interaction, queues: list[Queue],
            greeting: str) -> VoiceResponse:
    interaction.outcome = CLOSED_OUTCOME  # told we are closed: not an abandon when they hang up
    now, sp = rt.clock.now(), language.for_call(rt, interaction.call_sid)
    message = sp.gettext(CLOSED_NOW)
    openings = []
    for queue in queues:
        message = language.queue_text(queue, "closed", sp, "") or message
    for queue in queues:
        sched = directory.schedule(s, queue)
        holiday = closure_on(sched, now.astimezone(sched.tz).date())
        said = holiday.message_in(sp.tag, queue.language or DEFAULT_LANGUAGE) if holiday else ""
        if said:
            message = said
        opening = next_opening(sched, now)
        if opening is not None:
            openings.append((opening, queue))
    if openings:
        first, queue = min(openings, key=lambda pair: pair[0])
        message += " " + sp.gettext("We open again {when}.", when=wording.opening_phrase(
            first, now.astimezone(first.tzinfo), sp))
        offer = callback_capture.offer_after_hours(rt, s, interaction, queue,
                                                   f"{greeting} {message}".strip())
        if offer is not None:
            return offer
    return twiml.closed(greeting, message, sp=sp)

def join_or_ask(s: Session, rt: Runtime, interaction: Interaction, queue: Queue,
                greeting: str) -> VoiceResponse:
    """Join the line, first asking for an account number where the queue wants one; a new
    caller finding the line full (its `max_waiting`) is told so and offered a callback."""
    if interaction.joined_at is None and line_full(rt, queue):
        return _line_full(s, rt, interaction, queue, greeting)
    if recording_notice.undecided(interaction, queue):
        if queue.recording_mode == RECORDING_CONSENT:
            return recording_notice.ask(rt, interaction.call_sid, queue, greeting)
        greeting = recording_notice.announce(interaction, greeting,
                                             language.for_call(rt, interaction.call_sid))
    if account.wanted(interaction, queue):
        return account.ask(rt, interaction.call_sid, queue, greeting)
    return in_line.join(s, rt, interaction, queue, greeting)


def consent_keyed(rt: Runtime, call_sid: str, queue_slug: str, digits: str,
                  attempt: int) -> VoiceResponse:
    """Act on the caller's answer to the recording question: 1 agrees, 2 (or no answer
    twice) declines and nothing is recorded; anything else is asked once more. Then on
    to the line (or the account number)."""
    with rt.db.session() as s:
        interaction = interaction_of(s, call_sid)
        queue = s.scalar(select(Queue).where(Queue.slug == queue_slug, Queue.active))
        if queue is None or interaction.status != IVR or is_final(interaction):
            return in_line.rejoin(rt, call_sid) if not is_final(interaction) else call_over()
        if not recording_notice.decide(interaction, digits, attempt):
            return recording_notice.ask(rt, call_sid, queue, "", attempt + 1,
                                        recording_notice.RETRY)
        words = recording_notice.answer_words(interaction, language.for_call(rt, call_sid))
        return join_or_ask(s, rt, interaction, queue, words)


def line_full(rt: Runtime, queue: Queue) -> bool:
    """Whether `queue` already holds as many waiting as it may: its `max_waiting`, and never
    more than its Twilio queue takes (a caller told a place there would be refused)."""
    return lines.length(rt.live, queue.slug) >= rt.settings.line_limit(queue.max_waiting)


def _line_full(s: Session, rt: Runtime, interaction: Interaction, queue: Queue,
               greeting: str) -> VoiceResponse:
    """Tell a caller the line is full, and why, then offer the next callback slots (or, with
    none free, ask them to call again)."""
    interaction.outcome = LINE_FULL_OUTCOME  # told so: not an abandon when they hang up
    waiting = rt.settings.line_limit(queue.max_waiting)
    sp = language.for_call(rt, interaction.call_sid)
    message = sp.ngettext(
        "Our line is full right now: {count} caller already waiting, the most we hold at "
        "once, so we cannot keep you on hold.",
        "Our line is full right now: {count} callers already waiting, the most we hold at "
        "once, so we cannot keep you on hold.", waiting)
    offer = callback_capture.offer_after_hours(
        rt, s, interaction, queue, f"{greeting} {message}".strip(),
        N_("Instead of waiting, we can call you back."))
    if offer is not None:
        return offer
    s.commit()
    later = sp.gettext("Please call again a little later.")
    return twiml.closed(greeting, f"{message} {later}", sp=sp)

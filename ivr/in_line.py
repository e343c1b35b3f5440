"""A caller in line: joining it (what they are told is committed first), the hold loop
with its place, estimate and callback offer, the keys pressed while holding, leaving the
queue, and the bridge to their agent."""

from __future__ import annotations

import logging
import time
import weakref
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from holdless import paths
from holdless.speech import ENGLISH, N_, Speech
from ivr import callback_capture, language, promise, twiml, wording
from ivr.interactions import CALLED_BACK, interaction_of
from ivr.numbers import mask
from models.entities import (
    OFFERED,
    WAITING,
    Interaction,
    Queue,
)
from models.privacy import POLICY_RECORD
from models.states import advance, is_final
from queueing import directory, dispatch, keys, lines, overflow, priority, stats, usual
from queueing.estimate import WaitEstimate, estimate_wait

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)


INTERACTIONS = cast(Table, Interaction.__table__)
KEY_DOES_NOTHING = N_("Sorry, that key does nothing here. Please keep holding; "
                      "you keep your place in line.")
BUSY_NOTICE = N_("We are much busier than usual right now, and we are sorry for the wait.")
CONNECTING = N_("Please hold, connecting you now.")
# How long (real seconds) a process trusts that a queue's handle figures are in Redis
# before it checks again (they vanish only with Redis itself).
PRIMED_TRUST_SECONDS = 300.0
# Per Redis connection: queue slug → monotonic time its handle figures were found.
_primed: weakref.WeakKeyDictionary[Any, dict[str, float]] = weakref.WeakKeyDictionary()
# How long (seconds) Redis remembers that a caller was told the line is unusually busy.
BUSY_TOLD_SECONDS = 24 * 3600




def join(s: Session, rt: Runtime, interaction: Interaction, queue: Queue,
         greeting: str) -> VoiceResponse:
    """Put the caller in line, commit what they are told, then tell them and hold them.

    One commit records both that they wait and the wait they are told (estimated at the
    place they are about to take), before they enter the live line: from that moment
    another process may pair them with an agent, and nothing here writes the status again.
    """
    if is_final(interaction):  # a late or repeated webhook of a call that is over
        return call_over(language.for_call(rt, interaction.call_sid))
    if interaction.status == OFFERED and interaction.queue is not None:
        return wait_answer(rt, interaction, interaction.queue, greeting)  # an agent has them
    joined = interaction.joined_at or rt.clock.time()
    vip = interaction.caller is not None and interaction.caller.vip
    entry = lines.Entry(lines.caller_entry_id(interaction.id), queue.slug, lines.CALLER, joined,
                        interaction.call_sid, interaction.id,
                        bonus=priority.bonus(queue.priority_bonus_seconds, vip))
    interaction.queue_id, interaction.joined_at = queue.id, joined
    interaction.queue = queue
    advance(interaction, WAITING)
    prime_handle(rt, queue.id, queue.slug)
    estimate = estimate_at(rt, queue.slug, lines.place_on_joining(rt.live, entry))
    interaction.announced_wait = estimate.seconds
    s.commit()
    lines.join(rt.live, entry)
    log.info("caller %s joined %s", mask(interaction.caller_number), queue.slug)
    dispatch.route_and_offer(rt, [queue.slug])
    return wait_answer(rt, interaction, queue, greeting, estimate)


def prime_handle(rt: Runtime, queue_id: int, slug: str) -> None:
    """Before the first estimate of a queue with no handle figure in Redis (no call handled
    since Redis started, e.g. a new day on a fresh store), start its handle-time average
    from its recent days' calls, so the first callers hear a range from history."""
    seen = _primed.setdefault(rt.live, {})
    if time.monotonic() - seen.get(slug, -PRIMED_TRUST_SECONDS) < PRIMED_TRUST_SECONDS:
        return
    if not stats.has_handle_figures(rt.live, slug):
        try:
            prior = usual.recent_handle(rt.db.engine, queue_id, rt.clock.now(),
                                        rt.settings.wrap_up_seconds)
        except (OperationalError, InterfaceError):
            return  # no history to read now: try again with the next caller
        if prior is not None:  # else nothing to start from: callers hear NO_ESTIMATE
            stats.prime_handle_average(rt.live, slug, *prior)
    seen[slug] = time.monotonic()


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
    sp = language.for_call(rt, call_sid)
    if view is not None and view.position is not None and overflow.overflows(rt.live, view.queue):
        dispatch.route_and_offer(rt, [view.queue])  # waited long enough to overflow, maybe
        view = lines.hold_view(rt.live, call_sid)
    if view is None or view.position is None:
        return twiml.hold_loop(sp.gettext(CONNECTING), rt.url(paths.HOLD_KEY),
                               rt.settings.hold_music_url, sp=sp)
    figures = stats.stats_at(rt.live, view.queue, view.stats_version, view.staffed, view.idle)
    estimate = estimate_wait(view.position, figures)
    text = f"{wording.place_in_line(view.position, sp)} {wording.wait_sentence(estimate, sp)}"
    if _busy_while_holding(rt, view, estimate):
        text = f"{sp.gettext(BUSY_NOTICE)} {text}"
    offer = _offer_while_holding(rt, view, estimate, sp)
    text += f" {offer}" if offer else ""
    return twiml.hold_loop(text, rt.url(paths.HOLD_KEY), rt.settings.hold_music_url, sp=sp)


def hold_key(rt: Runtime, call_sid: str, digits: str) -> VoiceResponse:
    """1 while holding asks for a callback, 2 to leave a message instead (leave the hold
    line to book it); any other key means nothing here: say so and keep holding."""
    if digits in ("1", "2") and callback_capture.want(rt, call_sid, voicemail=digits == "2"):
        return twiml.leave()
    response = VoiceResponse()
    sp = language.for_call(rt, call_sid)
    twiml.say(response, sp.gettext(KEY_DOES_NOTHING), sp)
    return response


# Said to a caller whose <Enqueue> Twilio refused with queue-full, before the callback.
TWILIO_QUEUE_FULL = N_("Sorry, our line has just filled up, so we cannot keep you on hold.")
CANNOT_HOLD = N_("We are sorry, we cannot hold your call right now. "
                 "Please call again in a few minutes. Goodbye.")


def queue_exit(rt: Runtime, call_sid: str, result: str) -> VoiceResponse:
    """Twilio's report that a caller left its queue: a caller Twilio's full queue refused is
    offered the callback (never dropped); apologise when it was our fault."""
    sp = language.for_call(rt, call_sid)
    if result == "queue-full" and callback_capture.want(rt, call_sid):
        log.warning("Twilio refused a caller with queue-full: its queue is smaller than the line")
        response = VoiceResponse()
        twiml.say(response, sp.gettext(TWILIO_QUEUE_FULL), sp)
        for verb in callback_capture.start(rt, call_sid).verbs:
            response.append(verb)
        return response
    if result in ("queue-full", "system-error", "error"):
        return twiml.goodbye(sp.gettext(CANNOT_HOLD), sp=sp)
    if result == "leave" and callback_capture.wanted(rt, call_sid):
        return callback_capture.start(rt, call_sid)
    return twiml.empty()


def again(rt: Runtime, interaction: Interaction, queue: Queue) -> VoiceResponse:
    """A repeated webhook of a caller already placed: route (a retry after an outage may be
    the first chance since), then tell them where they stand."""
    if interaction.status == WAITING:
        dispatch.route_and_offer(rt, [queue.slug])
    return wait_answer(rt, interaction, queue, "")


def call_over(sp: Speech = ENGLISH) -> VoiceResponse:
    """The answer to a late webhook of a call already over: no line, just goodbye."""
    return twiml.goodbye(sp=sp)


def wait_answer(rt: Runtime, interaction: Interaction, queue: Queue, greeting: str,
                 estimate: WaitEstimate | None = None) -> VoiceResponse:
    sp = language.for_call(rt, interaction.call_sid)
    entry_id = lines.caller_entry_id(interaction.id)
    estimate = estimate or estimate_for(rt, queue.slug, entry_id)
    position = lines.position(rt.live, queue.slug, entry_id)
    offer = callback_offer(rt, queue.slug, estimate, sp=sp) if position is not None else ""
    busy = position is not None and tell_busy(rt, entry_id, unusually_busy(
        rt, queue.id, queue.time_zone, queue.busy_threshold_seconds, estimate))
    return wait_words(rt, queue.slug, language.queue_text(queue, "greeting", sp, queue.greeting),
                      busy, greeting, estimate, position, offer, sp)


def unusually_busy(rt: Runtime, queue_id: int, zone: str, threshold: int,
                   estimate: WaitEstimate) -> bool:
    """Whether this wait is unusually long for the queue at this weekday and half-hour
    (its fixed threshold when its history is too thin); False when there is no estimate
    or the database cannot say (the caller still hears their place and wait)."""
    if not estimate.known or estimate.seconds <= min(usual.BUSY_MIN_EXCESS_SECONDS, threshold):
        return False  # no estimate to go on, or short whatever is usual: no need to ask
    try:
        typical = usual.usual_wait(rt.db.engine, queue_id, zone, rt.clock.now())
    except (OperationalError, InterfaceError) as exc:
        log.warning("busy notice left out: database unreachable (%s)", type(exc).__name__)
        return False
    return usual.unusually_busy(estimate.seconds, typical, threshold)


def tell_busy(rt: Runtime, entry_id: str, busy: bool) -> bool:
    """Whether the caller of `entry_id` is to hear the busy notice now: it is busy and they
    have not been told yet (marks them told)."""
    return busy and bool(rt.live.set(keys.busy_told(entry_id), "1", nx=True,
                                     ex=BUSY_TOLD_SECONDS))


def _busy_while_holding(rt: Runtime, view: lines.HoldView, estimate: WaitEstimate) -> bool:
    """Whether a hold update opens with the busy notice (the wait became unusually long)."""
    try:
        card = directory.listing_at(rt.live, rt.db, view.directory_version).card(view.queue)
    except (OperationalError, InterfaceError):
        return False
    return card is not None and tell_busy(rt, view.entry_id, unusually_busy(
        rt, card.id, card.time_zone, card.busy_threshold_seconds, estimate))


def wait_words(rt: Runtime, slug: str, queue_greeting: str, busy: bool,
                greeting: str, estimate: WaitEstimate, position: int | None,
                offer: str, sp: Speech = ENGLISH) -> VoiceResponse:
    """What a caller in line hears (busy notice, place, wait, callback offer), then the
    hold line."""
    parts = [greeting, queue_greeting]
    if busy:
        parts.append(sp.gettext(BUSY_NOTICE))
    if position is not None:
        parts += [wording.place_in_line(position, sp), wording.wait_sentence(estimate, sp),
                  offer]
    else:
        parts.append(sp.gettext("Connecting you now."))
    key_action = rt.url(paths.OFFER_KEY) if position is not None and offer else None
    return twiml.wait_in_line(" ".join(p for p in parts if p), slug,
                              rt.url(paths.HOLD), rt.url(paths.QUEUE_EXIT), key_action, sp=sp)


def offer_key(rt: Runtime, call_sid: str, digits: str) -> VoiceResponse:
    """A key pressed during the offer spoken before the caller enters Twilio's queue: 1
    books a callback, 2 leaves a message (as while holding); anything else, or a caller no
    longer in line, goes on to the queue at their place."""
    if digits in ("1", "2") and callback_capture.want(rt, call_sid, voicemail=digits == "2"):
        return callback_capture.start(rt, call_sid)
    entry = lines.entry_for_call(rt.live, call_sid)
    if entry is None:
        return rejoin(rt, call_sid)
    sp = language.for_call(rt, call_sid)
    return twiml.wait_in_line(sp.gettext(KEY_DOES_NOTHING), entry.queue, rt.url(paths.HOLD),
                              rt.url(paths.QUEUE_EXIT), sp=sp)


def _offer_while_holding(rt: Runtime, view: lines.HoldView, estimate: WaitEstimate,
                         sp: Speech = ENGLISH) -> str:
    """The callback offer of a hold update; without the database the update still plays
    (place and estimate come from Redis) and only the offer is left out."""
    try:
        listing = directory.listing_at(rt.live, rt.db, view.directory_version)
        queue = listing.card(view.queue)
        if queue is not None and estimate.seconds <= queue.callback_threshold_seconds:
            return ""  # short enough: no offer, and nothing to read
        interaction_id = lines.interaction_of(view.entry_id)
        if queue is None:  # a queue no longer active: read as it is
            return callback_offer(rt, view.queue, estimate, interaction_id, sp)
        return "" if called_back(rt, interaction_id) else card_offer(rt, queue, estimate, sp)
    except (OperationalError, InterfaceError) as exc:
        log.warning("hold update without callback offer: database unreachable (%s)",
                    type(exc).__name__)
        return ""


# The kind of an interaction, read alone.
_KIND = select(INTERACTIONS.c.kind).where(INTERACTIONS.c.id == bindparam("id"))


def called_back(rt: Runtime, interaction_id: int) -> bool:
    """Whether the interaction is a customer we called back (they are offered no callback)."""
    if not interaction_id:
        return False
    with rt.db.engine.connect() as conn:
        return conn.execute(_KIND, {"id": interaction_id}).scalar() == CALLED_BACK


def callback_offer(rt: Runtime, queue_slug: str, estimate: WaitEstimate,
                    interaction_id: int = 0, sp: Speech = ENGLISH) -> str:
    """The callback offer of a queue for this wait ("" for none), in the caller's words."""
    with rt.db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.slug == queue_slug))
        interaction = s.get(Interaction, interaction_id) if interaction_id else None
        if queue is None or (interaction is not None and interaction.kind == CALLED_BACK):
            return ""  # a customer we called back, now waiting for an agent
        number = interaction.caller_number if interaction is not None else None
        return promise.offer_sentence(rt, s, queue, estimate, number, sp)


def rejoin(rt: Runtime, call_sid: str) -> VoiceResponse:
    """Put a caller back in their line at their original place, and hold them."""
    with rt.db.session() as s:
        interaction = interaction_of(s, call_sid)
        if interaction.queue is None:
            return twiml.goodbye(sp=language.for_call(rt, call_sid))
        return join(s, rt, interaction, interaction.queue, "")


def to_conference(rt: Runtime, call_sid: str) -> VoiceResponse:
    """The caller's side of the bridge to their agent."""
    with rt.db.session() as s:
        interaction = interaction_of(s, call_sid)
        if not interaction.conference:
            return rejoin(rt, call_sid)
        sp = language.for_call(rt, call_sid)
        recorded = interaction.recording_policy == POLICY_RECORD
        joined = rt.url(paths.CONFERENCE_EVENTS, interaction=interaction.id) if recorded \
            else None
        return twiml.join_conference(sp.gettext("Thank you for waiting. Connecting you now."),
                                     interaction.conference, agent=False, sp=sp,
                                     joined_url=joined)

def card_offer(rt: Runtime, queue: directory.QueueCard, estimate: WaitEstimate,
               sp: Speech = ENGLISH) -> str:
    """The callback offer for a new inbound caller, from the cached queue where it can."""
    if estimate.seconds <= queue.callback_threshold_seconds:
        return ""
    if promise.fits_schedule(queue.schedule, estimate, rt.clock.now()):
        return promise.turn_offer(sp)
    return callback_offer(rt, queue.slug, estimate, sp=sp)  # slots are counted in the database

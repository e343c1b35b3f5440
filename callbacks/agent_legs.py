"""Bringing an agent and a caller together, and what happens when an agent's leg ends."""

from __future__ import annotations

import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callbacks import accepting
from holdless import paths, tasks
from holdless.speech import ENGLISH, Speech
from ivr import language, twiml, wording
from models.entities import CONNECTED, OFFERED, WAITING, Agent, Assignment, Interaction, Leg
from models.states import ENDED_CALL_STATUSES, advance, is_final
from queueing import agents, dispatch, keys, lines, push, stats, transfers
from queueing.presence import AVAILABLE, BUSY, OFFLINE, WRAP_UP, StateRefused

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

REFUSED_LEG = "refused"  # a leg Twilio would not place (its status and its assignment's outcome)
LEG_ORDER = {"dialling": 0, "initiated": 1, "ringing": 2, "in-progress": 3, "answered": 3,
             "completed": 4, "missed": 4,
             REFUSED_LEG: 4}


class UnknownLeg(LookupError):
    """A webhook named an agent leg Holdless has no record of."""


def conference_name(interaction: Interaction) -> str:
    """The conference every leg of an interaction meets in."""
    return f"hl-{interaction.id}"


def whisper_text(interaction: Interaction, waited: float, sp: Speech = ENGLISH) -> str:
    """What the agent hears before being bridged: who, which queue, how long they waited."""
    who = (interaction.caller.name if interaction.caller and interaction.caller.name
           else sp.gettext("A caller"))
    queue = interaction.queue.name if interaction.queue else sp.gettext("the line")
    mins = wording.minutes(waited) if waited >= 45 else 0
    if mins:
        return sp.ngettext("{who}, {queue}, waited {count} minute.",
                           "{who}, {queue}, waited {count} minutes.", mins, who=who, queue=queue)
    return sp.gettext("{who}, {queue}.", who=who, queue=queue)


def agent_answered(rt: Runtime, leg_id: int, accepted: bool = False) -> VoiceResponse:
    """The agent picked up: whisper the context, then bridge them into the conference. An
    agent on a phone number first accepts with a key (a voicemail answers too): until
    `accepted`, the whisper asks for it and nothing is bridged."""
    with rt.db.session() as s:
        leg = _leg(s, leg_id)
        interaction = leg.interaction
        sp = language.for_queue(rt, interaction.queue)
        if is_final(interaction) or leg.ended_at is not None:
            return twiml.goodbye(sp.gettext("The caller has already hung up. Goodbye."), sp=sp)
        agent = s.get(Agent, leg.agent_id or 0)
        if not accepted and agent is not None and accepting.needs_accepting(agent.contact):
            queue = interaction.queue.name if interaction.queue else sp.gettext("the line")
            waited = rt.clock.time() - (interaction.joined_at or 0)
            prompt = sp.gettext("Caller waiting in {queue}, press {digit} to accept.",
                                queue=queue, digit=accepting.ACCEPT_DIGIT)
            prompt += f" {whisper_text(interaction, waited, sp)}"
            return accepting.ask(prompt, accept_url(rt, leg_id, 1), sp)
        now = rt.clock.now()
        first_answer = leg.answered_at is None
        leg.answered_at = leg.answered_at or now
        leg.status = "answered"
        interaction.agent_id = leg.agent_id
        if advance(interaction, CONNECTED) and interaction.answered_at is None:
            interaction.answered_at = now
            interaction.wait_seconds = max(0.0, rt.clock.time() - (interaction.joined_at or 0))
            if interaction.queue is not None:
                stats.record_outcome(rt.live, interaction.queue.slug, interaction.wait_seconds)
        text = whisper_text(interaction, interaction.wait_seconds or 0.0, sp)
        caller_sid, conference = interaction.call_sid, conference_name(interaction)
        interaction.conference = conference
        handed_over = leg.kind in transfers.TRANSFER_LEG_KINDS
        if handed_over:
            text = transfers.transfer_whisper(leg, text, sp)
    if handed_over and first_answer:  # the caller is in the conference, on hold: bring back
        transfers.leg_answered(rt, interaction.id, leg_id)
    elif first_answer:  # Twilio retrying the whisper fetch must not pull the caller in twice
        rt.enqueue(tasks.REDIRECT_CALLER, caller_sid,
                   rt.url(paths.CALLER_CONFERENCE, interaction=interaction.id))
    return twiml.join_conference(text, conference, agent=True, sp=sp)


def accept_url(rt: Runtime, leg_id: int, tries: int) -> str:
    """Where an agent's accept key (or its absence) for a leg is posted."""
    return rt.url(paths.AGENT_ACCEPT, leg=leg_id, tries=tries)


def agent_accept(rt: Runtime, leg_id: int, digits: str, tries: int) -> VoiceResponse:
    """Webhook: the agent's key after the offer's whisper: accept bridges, else ask again
    once, then end their call unanswered (a missed offer, the caller keeps their place)."""
    if accepting.accepted(digits):
        return agent_answered(rt, leg_id, accepted=True)
    with rt.db.session() as s:
        sp = language.for_queue(rt, _leg(s, leg_id).interaction.queue)
    return accepting.not_accepted(tries, accept_url(rt, leg_id, tries + 1), sp)


def agent_leg_status(rt: Runtime, leg_id: int, status: str, call_sid: str = "") -> None:
    """Apply Twilio's report on an agent's leg; when it ends, wrap up or put the offer back."""
    with rt.db.session() as s:
        leg = _leg(s, leg_id)
        if call_sid and not leg.call_sid:  # the dial reached Twilio, even if the job died
            leg.call_sid = call_sid
        if leg.ended_at is not None:
            return
        if status not in ENDED_CALL_STATUSES:
            if LEG_ORDER.get(status, 0) > LEG_ORDER.get(leg.status, 0):
                leg.status = status
            return
        leg.ended_at = rt.clock.now()
        answered = leg.answered_at is not None
        leg.status = "completed" if answered else "missed"
        _end_assignment(s, leg, "answered" if answered else "missed", rt)
        interaction_id, agent_id = leg.interaction_id, leg.agent_id
        handed_over = leg.kind in transfers.TRANSFER_LEG_KINDS
    if agent_id is None:
        return
    if answered:
        _start_wrap_up(rt, agent_id, interaction_id)
        transfers.leg_left(rt, interaction_id)
    else:
        _offer_missed(rt, agent_id, interaction_id, MISSED_BECAUSE.get(status, status))
        if handed_over:
            transfers.leg_missed(rt, interaction_id)


def agent_refused(rt: Runtime, leg_id: int, reason: str) -> str:
    """Twilio refused to place an agent's leg: close the leg and its assignment, take the
    agent offline with the reason, and put the caller back exactly where they were (their
    original place in line, routed to the next agent; a transfer's caller back to the
    agent handing over, or to the line). Only the leg's own offer is undone, once."""
    with rt.db.session() as s:
        leg = _leg(s, leg_id)
        if leg.ended_at is not None:
            return "already settled"
        leg.ended_at, leg.status = rt.clock.now(), REFUSED_LEG
        offer_open = _end_assignment(s, leg, REFUSED_LEG, rt)
        interaction = leg.interaction
        handed_over = leg.kind in transfers.TRANSFER_LEG_KINDS
        back = offer_open and not handed_over and interaction.status == OFFERED
        if back:
            advance(interaction, WAITING)
        agent_id, interaction_id = leg.agent_id, leg.interaction_id
    if agent_id is not None:
        agents.take_offline(rt, agent_id, reason, (BUSY,))
    if back:
        put_back(rt, interaction_id)
    elif handed_over:
        transfers.leg_missed(rt, interaction_id)
    return "agent refused"


def begin_wrap_up(rt: Runtime, agent_id: int) -> bool:
    """Move an agent from a call into wrap-up; False when Redis no longer knows them as busy
    (its data was lost: the reconciler restores them from the database)."""
    try:
        dispatch.system_change(rt, agent_id, WRAP_UP)
    except StateRefused as refused:
        log.warning("agent %s not put in wrap-up: live state is %s", agent_id, refused.current)
        return False
    return True


def _start_wrap_up(rt: Runtime, agent_id: int, interaction_id: int) -> None:
    wrap_up(rt, agent_id)
    if not _other_agents_on(rt, interaction_id) and _bridged(rt, interaction_id):
        rt.enqueue(tasks.FINISH_CALL, interaction_id, job_id=f"finish-{interaction_id}")


def wrap_up(rt: Runtime, agent_id: int) -> None:
    """A call of the agent's ended: wrap-up now, available when HOLDLESS_WRAP_UP_SECONDS
    have run out (unless Redis no longer knows them as busy)."""
    if begin_wrap_up(rt, agent_id):
        since = rt.live.hget(keys.agent(agent_id), "since")
        rt.enqueue(tasks.END_WRAP_UP, agent_id, str(since), delay=rt.settings.wrap_up_seconds)


# How long (seconds) a console that (re)syncs is still told of the agent's last missed offer.
MISSED_NOTICE_SECONDS = 120

# Why an offer was missed, in the agent's words, from the agent leg's final status.
MISSED_BECAUSE = {"busy": "you rejected it", "no-answer": "it rang out unanswered",
                  "failed": "your phone could not be reached",
                  "canceled": "it was withdrawn before you answered"}


def _offer_missed(rt: Runtime, agent_id: int, interaction_id: int, why: str = "") -> None:
    with rt.db.session() as s:
        interaction = s.get(Interaction, interaction_id)
        back = interaction is not None and interaction.status == OFFERED
        if back and interaction is not None:
            advance(interaction, WAITING)
    missed_offer(rt, agent_id, [lines.caller_entry_id(interaction_id)] if back else [], why)


def missed_offer(rt: Runtime, agent_id: int, entries: list[str], why: str = "") -> None:
    """An agent let an offer ring out (or rejected it: `why`): put `entries` (a caller, or
    a callback) back at their original places, count the miss when someone was still
    waiting, free the agent (offline after too many misses in a row, saying why) and tell
    their console what happened."""
    with rt.db.session() as s:
        agent = s.get(Agent, agent_id)
        misses = agent.missed_offers if agent else 0
        if agent is not None and entries:  # a caller who hung up is not the agent's miss
            misses = agent.missed_offers = agent.missed_offers + 1
    log.info("agent %s missed an offer (%s in a row)", agent_id, misses)
    state = OFFLINE if misses >= rt.settings.max_missed_offers else AVAILABLE
    reason = (f"{misses} offers in a row missed (the last: {why or 'not answered'})"
              if state == OFFLINE else "")
    agents.change(rt, agent_id, state, (BUSY,), reason=reason)
    if entries:
        _tell_missed(rt, agent_id, {"id": secrets.token_hex(6), "why": why or "not answered",
                                    "offline": state == OFFLINE, "misses": misses})
    for entry_id in entries:
        put_back_entry(rt, entry_id)
    if state == AVAILABLE:
        queues = str(rt.live.hget(keys.agent(agent_id), "queues") or "")
        dispatch.route_and_offer(rt, [q for q in queues.split(",") if q])


def _tell_missed(rt: Runtime, agent_id: int, notice: dict[str, Any]) -> None:
    """Tell the agent's console of a missed offer: written first, then pushed. A page whose
    live stream was being (re)opened when the push went out (the console switches streams
    as the offer ends) misses the push, but its stream's opening resyncs it, and that
    reads the notice written here (missed_offer_notice)."""
    try:
        rt.live.set(keys.missed_offer_notice(agent_id), json.dumps(notice),
                    ex=MISSED_NOTICE_SECONDS)
    except redis.RedisError as exc:  # a courtesy, as the push is: never fails the miss
        log.warning("missed-offer notice not kept (%s)", type(exc).__name__)
    push.publish(rt, push.agent_audience(agent_id), "missed-offer", notice)


def missed_offer_notice(rt: Runtime, agent_id: int) -> dict[str, Any] | None:
    """The agent's last missed offer of the past MISSED_NOTICE_SECONDS ({id, why, offline,
    misses}: `id` tells a page whether it showed it already), or None."""
    try:
        raw = rt.live.get(keys.missed_offer_notice(agent_id))
    except redis.RedisError:
        return None
    return json.loads(raw) if raw else None


def put_back(rt: Runtime, interaction_id: int) -> None:
    """Return a still-holding caller to their original place in line, and route again."""
    put_back_entry(rt, lines.caller_entry_id(interaction_id))


def put_back_entry(rt: Runtime, entry_id: str) -> None:
    """Return an entry (live caller or callback) to its original place in line, and route."""
    entry = lines.load(rt.live, entry_id)
    if entry is None:
        return
    lines.join(rt.live, entry)
    dispatch.route_and_offer(rt, [entry.queue])


def _end_assignment(s: Session, leg: Leg, outcome: str, rt: Runtime) -> bool:
    """Close the leg's assignment; whether it was still open (this call closed it)."""
    if leg.assignment_id is None:
        return False
    assignment = s.get(Assignment, leg.assignment_id)
    if assignment is None or assignment.ended_at is not None:
        return False
    assignment.ended_at, assignment.outcome = rt.clock.now(), outcome
    assignment.active_agent_id = assignment.active_entry = None
    return True


def _other_agents_on(rt: Runtime, interaction_id: int) -> bool:
    with rt.db.session() as s:
        live = s.scalars(select(Leg).where(Leg.interaction_id == interaction_id,
                                           Leg.ended_at.is_(None)))
        return any(True for _ in live)


def _bridged(rt: Runtime, interaction_id: int) -> bool:
    """Whether the caller is still in the conference (not sent back to a line)."""
    with rt.db.session() as s:
        interaction = s.get(Interaction, interaction_id)
        return interaction is not None and interaction.status == CONNECTED


def _leg(s: Session, leg_id: int) -> Leg:
    leg = s.get(Leg, leg_id)
    if leg is None:
        raise UnknownLeg(str(leg_id))
    return leg


__all__ = ["AVAILABLE", "UnknownLeg", "agent_answered", "agent_leg_status", "agent_refused",
           "begin_wrap_up", "missed_offer", "missed_offer_notice", "put_back", "put_back_entry"]

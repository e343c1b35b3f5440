"""RQ jobs. Each one reloads what it needs, is safe to run twice, and raises on failure
(so RQ records it and retries) instead of swallowing errors."""

from __future__ import annotations

import logging

from sqlalchemy import select

from entrypoints import runtime
from holdless import paths
from holdless.twilio_gateway import TwilioRestException
from ivr.booking import callback_id_of
from models.entities import OFFERED, Assignment, Interaction, Leg
from models.states import is_final
from queueing import agents, keys, stats
from queueing.limits import AGENT_RING_TIMEOUT_SECONDS
from queueing.presence import AVAILABLE, BUSY, WRAP_UP

log = logging.getLogger(__name__)

# Twilio's answers that mean "that call is not there any more".
CALL_GONE_STATUSES = (404,)
CALL_GONE_CODES = (20404, 21220)
LEG_CALL_MEMORY_SECONDS = 24 * 3600


def connect(assignment_id: int) -> str:
    """Ring the agent of an assignment, unless the caller has gone (then free the agent);
    for a callback entry, start the agent-first callback attempt instead."""
    rt = runtime.get()
    if _is_callback(rt, assignment_id):
        from callbacks import placing
        return placing.ring_agent(rt, assignment_id)
    with rt.db.session() as s:
        assignment = s.get(Assignment, assignment_id)
        if assignment is None or assignment.ended_at is not None:
            return "already ended"
        interaction = s.get(Interaction, assignment.interaction_id or 0)
        if interaction is None or interaction.status != OFFERED:
            assignment.ended_at, assignment.outcome = rt.clock.now(), "caller gone"
            assignment.active_agent_id = assignment.active_entry = None
            agent_id = assignment.agent_id
            gone = True
        else:
            gone = False
            leg = s.scalar(select(Leg).where(Leg.assignment_id == assignment_id))
            if leg is not None and _dialled(rt, leg):
                return "already dialled"
            redial = leg is not None
            if leg is None:
                leg = Leg(interaction_id=interaction.id, agent_id=assignment.agent_id,
                          assignment_id=assignment_id, kind="answer", started_at=rt.clock.now())
                s.add(leg)
                s.flush()
            leg_id, contact, since = leg.id, assignment_agent_contact(s, assignment), \
                leg.started_at
    if gone:
        agents.change(rt, agent_id, AVAILABLE, (BUSY,))
        return "caller gone"
    from callbacks import sweeper
    if redial and sweeper.adopt_if_placed(rt, sweeper.LEG, leg_id, contact, since):
        return "already dialled"
    sid = rt.gateway.dial(contact, rt.url(paths.AGENT_WHISPER, leg=leg_id),
                          rt.url(paths.AGENT_STATUS, leg=leg_id),
                          timeout=AGENT_RING_TIMEOUT_SECONDS)
    rt.live.set(keys.leg_call(leg_id), sid, ex=LEG_CALL_MEMORY_SECONDS)
    with rt.db.session() as s:
        leg_row = s.get(Leg, leg_id)
        if leg_row is not None:
            leg_row.call_sid = sid
    return "dialled"


def _is_callback(rt: runtime.Runtime, assignment_id: int) -> bool:
    with rt.db.session() as s:
        entry = s.scalar(select(Assignment.entry).where(Assignment.id == assignment_id))
    return entry is not None and callback_id_of(entry) is not None


def _dialled(rt: runtime.Runtime, leg: Leg) -> bool:
    """Whether a leg's dial reached Twilio: a CallSid recorded (by the job, in Redis right
    after the dial, or by Twilio's first status callback) or any status reported."""
    if leg.call_sid or leg.status != "dialling":
        return True
    sid = rt.live.get(keys.leg_call(leg.id))
    if sid:
        leg.call_sid = str(sid)
    return bool(sid)


def assignment_agent_contact(s: object, assignment: Assignment) -> str:
    """How to reach the agent of an assignment (phone number or client:identity)."""
    from models.entities import Agent
    agent = s.get(Agent, assignment.agent_id)  # type: ignore[attr-defined]
    return str(agent.contact)


def redirect_caller(call_sid: str, url: str) -> str:
    """Send a live caller's call to new TwiML; a call already gone is not an error."""
    rt = runtime.get()
    try:
        rt.gateway.redirect(call_sid, url)
    except TwilioRestException as exc:
        if _gone(exc):
            return "call gone"
        raise
    return "redirected"


def caller_gone(interaction_id: int) -> str:
    """The caller hung up: end every agent leg still live (ringing, or answered but alone
    in the conference because the caller left before being bridged), which frees them."""
    rt = runtime.get()
    with rt.db.session() as s:
        legs = list(s.scalars(select(Leg).where(Leg.interaction_id == interaction_id,
                                                Leg.ended_at.is_(None))))
        ringing = [(leg.call_sid, leg.agent_id) for leg in legs]
    for call_sid, _agent in ringing:
        if call_sid:
            _hang_up(rt, call_sid)
    return f"stopped {len(ringing)} leg(s)"


def finish_call(interaction_id: int) -> str:
    """The last agent left: send the caller to the survey where their queue opted in,
    else end their call."""
    from ivr import survey
    rt = runtime.get()
    with rt.db.session() as s:
        interaction = s.get(Interaction, interaction_id)
        if interaction is None or is_final(interaction):
            return "already over"
        call_sid, surveyed = interaction.call_sid, survey.wanted(interaction)
    if surveyed:
        done = redirect_caller(call_sid, rt.url(paths.SURVEY))
        return "surveying" if done == "redirected" else done
    _hang_up(rt, call_sid)
    return "ended"


def end_wrap_up(agent_id: int, since: str) -> str:
    """End the wrap-up that began at `since` (not a later one) and make the agent available."""
    rt = runtime.get()
    live = rt.live.hgetall(f"hl:agent:{agent_id}")
    if live.get("state") != WRAP_UP or live.get("since") != since:
        return "wrap-up already over"
    try:
        agents.system_change(rt, agent_id, AVAILABLE)
    except agents.StateRefused:  # it moved on meanwhile (the agent signed out, say)
        return "wrap-up already over"
    _record_handle_time(rt, agent_id)
    return "available"


def _record_handle_time(rt: runtime.Runtime, agent_id: int) -> None:
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == agent_id, Leg.answered_at.is_not(None))
                       .order_by(Leg.id.desc()).limit(1))
        if leg is None or leg.answered_at is None or leg.interaction.queue is None:
            return
        seconds = (rt.clock.now() - leg.answered_at).total_seconds()
        stats.record_handle_time(rt.live, leg.interaction.queue.slug, seconds)


def _hang_up(rt: runtime.Runtime, call_sid: str) -> None:
    try:
        rt.gateway.hang_up(call_sid)
    except TwilioRestException as exc:
        if not _gone(exc):
            raise


def _gone(exc: TwilioRestException) -> bool:
    return exc.status in CALL_GONE_STATUSES or exc.code in CALL_GONE_CODES


def caller_status(call_sid: str) -> str:
    """A caller's call ended while the database was unreachable: apply it now (retried)."""
    from ivr import calls
    calls.caller_left(runtime.get(), call_sid)
    return "applied"


def agent_status(leg_id: int, status: str, call_sid: str) -> str:
    """An agent leg's status that came while the database was unreachable: apply it now."""
    from callbacks import agent_legs as legs
    legs.agent_leg_status(runtime.get(), leg_id, status, call_sid)
    return "applied"

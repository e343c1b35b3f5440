"""RQ job bodies for live callers and their agents (see holdless.tasks for the table of
every job). Each one takes the worker's runtime first, reloads what it needs, is safe to
run twice, and raises on failure (so RQ records it and retries) instead of swallowing it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from callbacks import adoption, agent_legs, call_ends, customer_first, placing, sweeper, window
from holdless import paths
from holdless.twilio_gateway import AGENT_RING_TIMEOUT_SECONDS, DialRefused
from ivr import booking, survey
from ivr.interactions import UnknownCall
from models.callbacks import Callback, CallbackAttempt
from models.console import TIMED_OUT, WrapUp
from models.entities import OFFERED, Agent, Assignment, Interaction, Leg
from models.states import is_final
from queueing import agents, dispatch, keys, stats, transfers
from queueing.presence import AVAILABLE, BUSY, WRAP_UP

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from entrypoints.runtime import Runtime


log = logging.getLogger(__name__)

# Twilio's status of a call ended while it still waited in the account's CPS queue.
QUEUED_LEG_CANCELLED = "canceled"


def ring_agent(rt: Runtime, assignment_id: int) -> str:
    """Ring the agent of an assignment, unless the caller has gone (then free the agent);
    for a callback entry, start the callback's attempt (agent first, or customer first)."""
    callback = _is_callback(rt, assignment_id)
    if callback and _held_outside_hours(rt, assignment_id):
        return "held for its hours"
    if callback and customer_first.is_customer_first(rt, assignment_id):
        return customer_first.start(rt, assignment_id)
    if callback:
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
        dispatch.change_state(rt, agent_id, AVAILABLE, (BUSY,))
        return "caller gone"
    if redial and adoption.adopt_if_placed(rt, call_ends.AGENT_LEG, leg_id, contact, since):
        return "already dialled"
    try:
        sid = rt.gateway.dial(contact, rt.url(paths.AGENT_WHISPER, leg=leg_id),
                              rt.url(paths.AGENT_STATUS, leg=leg_id),
                              timeout=AGENT_RING_TIMEOUT_SECONDS)
    except DialRefused as refused:
        return agent_legs.agent_refused(rt, leg_id, refused.reason)
    adoption.remember_leg_call(rt, leg_id, sid)
    with rt.db.session() as s:
        leg_row = s.get(Leg, leg_id)
        if leg_row is not None:
            leg_row.call_sid = sid
    return "dialled"


def _held_outside_hours(rt: Runtime, assignment_id: int) -> bool:
    """A callback paired while it may not ring (queue closed, customer's quiet hours): end
    the pairing, hold the queue's callbacks for their hours and free the agent."""
    with rt.db.session() as s:
        assignment = s.get(Assignment, assignment_id)
        callback = s.get(Callback, booking.callback_id_of(assignment.entry) or 0) \
            if assignment is not None and assignment.ended_at is None else None
        if assignment is None or callback is None or window.may_ring_now(s, rt, callback):
            return False
        placing.end_assignment(assignment, window.HELD_OUTSIDE_HOURS, rt)
        agent_id, queue_id = assignment.agent_id, callback.queue_id
    window.hold(rt, queue_id)
    placing.free(rt, agent_id)
    return True


def _is_callback(rt: Runtime, assignment_id: int) -> bool:
    with rt.db.session() as s:
        entry = s.scalar(select(Assignment.entry).where(Assignment.id == assignment_id))
    return entry is not None and booking.callback_id_of(entry) is not None


def _dialled(rt: Runtime, leg: Leg) -> bool:
    """Whether a leg's dial reached Twilio: a CallSid recorded (by the job, in Redis right
    after the dial, or by Twilio's first status callback) or any status reported."""
    if leg.call_sid or leg.status != "dialling":
        return True
    sid = rt.live.get(keys.leg_call(leg.id))
    if sid:
        leg.call_sid = str(sid)
    return bool(sid)


def assignment_agent_contact(s: Session, assignment: Assignment) -> str:
    """How to reach the agent of an assignment (phone number or client:identity)."""
    agent = s.get(Agent, assignment.agent_id)
    return str(agent.contact) if agent is not None else ""


def redirect_caller(rt: Runtime, call_sid: str, url: str) -> str:
    """Send a live caller's call to new TwiML; a call already gone is not an error."""
    return "redirected" if rt.gateway.redirect_if_live(call_sid, url) else "call gone"


def stop_agent_legs(rt: Runtime, interaction_id: int) -> str:
    """The caller hung up: end every agent leg still live (ringing, or answered but alone
    in the conference because the caller left before being bridged), which frees them."""
    with rt.db.session() as s:
        legs = list(s.scalars(select(Leg).where(Leg.interaction_id == interaction_id,
                                                Leg.ended_at.is_(None))))
        ringing = [(leg.id, leg.call_sid) for leg in legs]
    for leg_id, call_sid in ringing:
        if call_sid and rt.gateway.end_leg(call_sid) == QUEUED_LEG_CANCELLED:
            # still in Twilio's calls-per-second queue: no status callback will ever come
            # (call resource docs), so the agent is freed now, not by the sweeper
            call_ends.settle(rt, call_ends.AGENT_LEG, leg_id, QUEUED_LEG_CANCELLED, call_sid)
    return f"stopped {len(ringing)} leg(s)"


def finish_call(rt: Runtime, interaction_id: int) -> str:
    """The last agent left: send the caller to the survey where their queue opted in,
    else end their call."""
    with rt.db.session() as s:
        interaction = s.get(Interaction, interaction_id)
        if interaction is None or is_final(interaction):
            return "already over"
        call_sid, surveyed = interaction.call_sid, survey.wanted(interaction)
    if surveyed:
        done = redirect_caller(rt, call_sid, rt.url(paths.SURVEY))
        return "surveying" if done == "redirected" else done
    rt.gateway.end_call(call_sid)
    return "ended"


def end_wrap_up(rt: Runtime, agent_id: int, since: str) -> str:
    """End the wrap-up that began at `since` (not a later one) and make the agent available."""
    live = rt.live.hgetall(keys.agent(agent_id))
    if live.get("state") != WRAP_UP or live.get("since") != since:
        return "wrap-up already over"
    # Read what this wrap-up follows before the agent is free: routing may hand them the
    # next call at once, and that call must not be taken for the one wrapped up.
    with rt.db.session() as s:
        handled = _last_handled(s, agent_id)
    handle_time = _handle_time(rt, agent_id)
    try:
        dispatch.system_change(rt, agent_id, AVAILABLE)
    except agents.StateRefused:  # it moved on meanwhile (the agent signed out, say)
        return "wrap-up already over"
    if handle_time is not None:
        stats.record_handle_time(rt.live, *handle_time)
    if handled is not None:
        record_timed_out_wrap_up(rt, agent_id, handled)
    return "available"


def _last_handled(s: Session, agent_id: int) -> int | None:
    """The interaction the agent last talked on: an answered leg or callback attempt."""
    leg = s.scalar(select(Leg).where(Leg.agent_id == agent_id, Leg.answered_at.is_not(None))
                   .order_by(Leg.answered_at.desc()).limit(1))
    attempt = s.scalar(select(CallbackAttempt).where(
        CallbackAttempt.agent_id == agent_id, CallbackAttempt.agent_answered_at.is_not(None))
        .order_by(CallbackAttempt.agent_answered_at.desc()).limit(1))
    if attempt is not None and attempt.agent_answered_at is not None and (
            leg is None or leg.answered_at is None
            or attempt.agent_answered_at > leg.answered_at):
        return attempt.callback.interaction_id
    return leg.interaction_id if leg is not None else None


def record_timed_out_wrap_up(rt: Runtime, agent_id: int, interaction_id: int) -> bool:
    """A wrap-up of `interaction_id` the agent did not finish in time is still recorded
    (disposition "timed-out"), and their draft note becomes a note; False when they had
    finished it."""
    with rt.db.session() as s:
        if s.scalar(select(WrapUp.id).where(
                WrapUp.interaction_id == interaction_id, WrapUp.agent_id == agent_id)):
            return False
        now = rt.clock.now()
        s.add(WrapUp(interaction_id=interaction_id, agent_id=agent_id,
                     disposition=TIMED_OUT, created_at=now))
        transfers.finalize_draft(s, interaction_id, agent_id, now)
    log.info("agent %s: wrap-up of interaction %s timed out (recorded)", agent_id,
             interaction_id)
    return True


def _handle_time(rt: Runtime, agent_id: int) -> tuple[str, float] | None:
    """The queue and seconds (answer to now) of the agent's last answered leg."""
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == agent_id, Leg.answered_at.is_not(None))
                       .order_by(Leg.id.desc()).limit(1))
        if leg is None or leg.answered_at is None or leg.interaction.queue is None:
            return None
        return leg.interaction.queue.slug, (rt.clock.now() - leg.answered_at).total_seconds()


def settle_call_end(rt: Runtime, kind: str, ident: int, status: str, call_sid: str) -> str:
    """A call's end reported while the database was unreachable: settle it now (retried).
    A call the database never recorded (its first webhook failed in the same outage) has
    nothing to settle, as the webhook would have answered 404: done, not retried."""
    try:
        call_ends.settle(rt, kind, ident, status, call_sid)
    except (UnknownCall, agent_legs.UnknownLeg, placing.UnknownAttempt):
        return "unknown call: nothing to settle"
    return "applied"


def settle_adopted_call(rt: Runtime, kind: str, ident: int, call_sid: str) -> str:
    """A call found already placed and already over: ask Twilio how it ended and settle it
    as its lost status callback would have (its caller first, as a sweep does)."""
    swept = sweeper.settle(rt, sweeper.Watched(kind, ident, call_sid))
    return "settled" if swept.ended else "not over"

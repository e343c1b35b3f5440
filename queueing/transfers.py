"""Transfers and escalations: one more Leg of the same Interaction, never a new record.

Warm: the caller is held (hearing why), the receiving agent is dialled with a whisper of
the context into the SAME conference, and the first agent may drop once they have joined.
Cold to an agent: the same, but the first agent is released at once. Cold to a queue: the
caller goes back to the line of that queue at their ORIGINAL place and hears the updated
estimate. The web request only records and reserves; every REST call runs in an RQ job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from holdless import paths, tasks
from holdless.speech import ENGLISH, Speech
from holdless.twilio_gateway import (
    AGENT_RING_TIMEOUT_SECONDS,
    DialRefused,
    TwilioRestException,
    is_call_gone,
)
from models.console import COLD, WARM, AuditEntry, Note, Transfer, draft_key
from models.entities import (
    BUSY,
    CONNECTED,
    WAITING,
    Agent,
    Interaction,
    Leg,
    Queue,
)
from models.states import advance, is_final
from queueing import agents, dispatch, lines, priority
from queueing.presence import AVAILABLE, StateRefused

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

WARM_LEG, COLD_LEG, QUEUE_LEG, ESCALATION_LEG = (
    "warm_transfer", "cold_transfer", "queue_transfer", "escalation")
TRANSFER_LEG_KINDS = (WARM_LEG, COLD_LEG, ESCALATION_LEG)
REFUSED_TRANSFER = "refused"  # the status of a transfer leg Twilio would not place

# What the agent handing over may do while their warm transfer's colleague is consulted
# (the caller on hold), and the audit action each leaves.
CANCEL, COMPLETE, THREE_WAY = "cancel", "complete", "three-way"
WARM_ENDINGS = {CANCEL: "warm-transfer-cancel", COMPLETE: "warm-transfer-complete",
                THREE_WAY: "warm-transfer-three-way"}

__all__ = ["TransferRefused", "TransferRequest", "end_warm", "escalate_to", "live_leg",
           "senders", "transfer", "warm_in_progress"]


class TransferRefused(Exception):
    """The transfer cannot happen now (no live call, target busy...); the message says why."""


@dataclass(frozen=True)
class TransferRequest:
    """A validated ask to hand an interaction on."""

    interaction_id: int
    from_agent_id: int
    mode: str
    reason: str
    to_agent_id: int | None = None
    to_queue: str | None = None


def transfer(rt: Runtime, ask: TransferRequest) -> int:
    """Record and start a transfer; returns the Transfer id. TransferRefused when it cannot."""
    if ask.to_queue is not None:
        return _to_queue(rt, ask)
    if ask.to_agent_id is None or ask.to_agent_id == ask.from_agent_id:
        raise TransferRefused("choose another agent or a queue")
    kind = WARM_LEG if ask.mode == WARM else COLD_LEG
    return _to_agent(rt, ask, ask.to_agent_id, kind)


def escalate_to(rt: Runtime, interaction_id: int, agent_id: int, reason: str,
                supervisor_id: int) -> int:
    """Warm-transfer to supervisor `supervisor_id` (reserved from available); returns the
    Transfer id (queueing.escalations chooses the supervisor, or holds the caller)."""
    ask = TransferRequest(interaction_id, agent_id, WARM, reason, to_agent_id=supervisor_id)
    return _to_agent(rt, ask, supervisor_id, ESCALATION_LEG)


def live_leg(s: Session, ask: TransferRequest) -> tuple[Interaction, Leg]:
    """The call of `ask` and the asking agent's live leg on it; TransferRefused when the
    call is not connected or they are not on it."""
    return _live_leg(s, ask)


def _live_leg(s: Session, ask: TransferRequest) -> tuple[Interaction, Leg]:
    interaction = s.get(Interaction, ask.interaction_id)
    if interaction is None or is_final(interaction) or interaction.status != CONNECTED:
        raise TransferRefused("the call is not connected")
    leg = s.scalar(select(Leg).where(
        Leg.interaction_id == interaction.id, Leg.agent_id == ask.from_agent_id,
        Leg.answered_at.is_not(None), Leg.ended_at.is_(None)))
    if leg is None:
        raise TransferRefused("you are not on this call")
    return interaction, leg


def _reserve(rt: Runtime, agent_id: int) -> None:
    try:
        agents.change(rt, agent_id, BUSY, (AVAILABLE,))
    except StateRefused as exc:
        raise TransferRefused(f"that agent is {exc.current}, not available") from exc
    except agents.UnknownAgent as exc:
        raise TransferRefused("no such agent") from exc


def _to_agent(rt: Runtime, ask: TransferRequest, to_agent_id: int, kind: str) -> int:
    with rt.db.session() as s:
        _live_leg(s, ask)  # refuse before reserving anyone
    _reserve(rt, to_agent_id)
    try:
        with rt.db.session() as s:
            interaction, from_leg = _live_leg(s, ask)
            now = rt.clock.now()
            leg = Leg(interaction_id=interaction.id, agent_id=to_agent_id, kind=kind,
                      reason=ask.reason, started_at=now)
            s.add(leg)
            s.flush()
            record = Transfer(interaction_id=interaction.id, from_agent_id=ask.from_agent_id,
                              to_agent_id=to_agent_id, mode=ask.mode, reason=ask.reason,
                              leg_id=leg.id, created_at=now)
            s.add(record)
            finalize_draft(s, interaction.id, ask.from_agent_id, now)
            s.flush()
            leg_id, transfer_id, drop = leg.id, record.id, from_leg.call_sid
    except BaseException:
        dispatch.change_state(rt, to_agent_id, AVAILABLE, (BUSY,))
        raise
    log.info("interaction %s: %s transfer to agent %s", ask.interaction_id, kind, to_agent_id)
    rt.enqueue(tasks.DIAL_TRANSFER, leg_id, job_id=f"transfer-dial-{leg_id}")
    if ask.mode == COLD and drop:
        rt.enqueue(tasks.DROP_AGENT, drop, job_id=f"transfer-drop-{leg_id}")
    return transfer_id


def _to_queue(rt: Runtime, ask: TransferRequest) -> int:
    with rt.db.session() as s:
        interaction, from_leg = _live_leg(s, ask)
        queue = s.scalar(select(Queue).where(Queue.slug == ask.to_queue, Queue.active))
        if queue is None:
            raise TransferRefused("no such queue")
        now = rt.clock.now()
        s.add(Leg(interaction_id=interaction.id, agent_id=None, kind=QUEUE_LEG,
                  reason=ask.reason, status="completed", started_at=now, ended_at=now))
        record = Transfer(interaction_id=interaction.id, from_agent_id=ask.from_agent_id,
                          to_queue=queue.slug, mode=COLD, reason=ask.reason, created_at=now)
        s.add(record)
        finalize_draft(s, interaction.id, ask.from_agent_id, now)
        _back_in_line(interaction, queue)
        s.flush()
        transfer_id, caller_sid, drop = record.id, interaction.call_sid, from_leg.call_sid
        entry = _entry(interaction, queue.slug, sender=ask.from_agent_id)
    lines.join(rt.live, entry)
    log.info("interaction %s: back to %s at the original place", ask.interaction_id, entry.queue)
    rt.enqueue(tasks.TRANSFER_TO_LINE, caller_sid, job_id=f"transfer-line-{transfer_id}")
    if drop:
        rt.enqueue(tasks.DROP_AGENT, drop, job_id=f"transfer-drop-q{transfer_id}")
    return transfer_id


def _back_in_line(interaction: Interaction, queue: Queue) -> None:
    advance(interaction, WAITING)
    interaction.queue_id, interaction.queue = queue.id, queue
    interaction.conference = None


def _entry(interaction: Interaction, queue: str, sender: int = 0) -> lines.Entry:
    joined = interaction.joined_at if interaction.joined_at is not None else 0.0
    same = interaction.queue is not None and interaction.queue.slug == queue
    return lines.Entry(lines.caller_entry_id(interaction.id), queue, lines.CALLER, joined,
                       interaction.call_sid, interaction.id,
                       bonus=priority.caller_bonus(interaction) if same else 0.0, sender=sender)


def senders(s: Session, interaction_ids: Iterable[int]) -> dict[int, int]:
    """The agent who last cold-transferred each of these interactions to a queue (only those
    that were), as the transfers table records it: a line rebuilt from the database keeps
    the sender its live entry had, so routing still never hands the caller back to them."""
    ids = list(interaction_ids)
    if not ids:
        return {}
    rows = s.execute(select(Transfer.interaction_id, Transfer.from_agent_id).where(
        Transfer.interaction_id.in_(ids), Transfer.to_queue.is_not(None)).order_by(Transfer.id))
    return {interaction_id: agent_id for interaction_id, agent_id in rows}  # the last wins


def finalize_draft(s: Session, interaction_id: int, agent_id: int, now: object) -> None:
    """Make an agent's draft note final (a hand-over passes on what they typed)."""
    draft = s.scalar(select(Note).where(Note.draft_key == draft_key(interaction_id, agent_id)))
    if draft is None:
        return
    if draft.text.strip():
        draft.draft, draft.draft_key, draft.updated_at = False, None, now  # type: ignore[assignment]
    else:
        s.delete(draft)


def transfer_whisper(leg: Leg, context: str, sp: Speech = ENGLISH) -> str:
    """What a receiving agent hears before joining: who hands over, why, and the context."""
    said = sp.gettext("Transfer from {agent}.", agent=_from_agent_name(leg, sp))
    if leg.reason:
        said += " " + sp.gettext("Reason: {reason}.", reason=leg.reason)
    return f"{said} {context}"


def _from_agent_name(leg: Leg, sp: Speech = ENGLISH) -> str:
    s = Session.object_session(leg)
    if s is None:
        return sp.gettext("a colleague")
    record = s.scalar(select(Transfer).where(Transfer.leg_id == leg.id))
    agent = s.get(Agent, record.from_agent_id) if record is not None else None
    return agent.name if agent is not None else sp.gettext("a colleague")


def leg_answered(rt: Runtime, interaction_id: int, leg_id: int) -> None:
    """A receiving agent joined the conference: take the caller off hold, unless it is a
    warm transfer whose sender is still there to consult them (the caller stays held)."""
    with rt.db.session() as s:
        record = _consulting(s, interaction_id)
        consulted = record is not None and record.leg_id == leg_id
    if not consulted:
        rt.enqueue(tasks.HOLD_CALLER, interaction_id, False, job_id=None)


def leg_left(rt: Runtime, interaction_id: int) -> None:
    """An agent on the call hung up: when a warm transfer was being consulted, the caller is
    taken off hold for whoever is still there (the sender leaving completes it)."""
    with rt.db.session() as s:
        pending = _pending_warm(s, interaction_id)
        leg = s.get(Leg, pending.leg_id or 0) if pending is not None else None
        consulted = leg is not None and leg.answered_at is not None
    if consulted:
        rt.enqueue(tasks.HOLD_CALLER, interaction_id, False, job_id=None)


def _pending_warm(s: Session, interaction_id: int) -> Transfer | None:
    """The interaction's latest warm transfer to a colleague, unless its sender ended it."""
    record = s.scalar(select(Transfer).join(Leg, Leg.id == Transfer.leg_id).where(
        Transfer.interaction_id == interaction_id, Transfer.mode == WARM,
        Leg.kind == WARM_LEG).order_by(Transfer.id.desc()).limit(1))
    if record is None:
        return None
    ended = s.scalar(select(AuditEntry.id).where(
        AuditEntry.interaction_id == interaction_id, AuditEntry.agent_id == record.from_agent_id,
        AuditEntry.action.in_(WARM_ENDINGS.values()),
        AuditEntry.created_at >= record.created_at).limit(1))
    return None if ended is not None else record


def _consulting(s: Session, interaction_id: int) -> Transfer | None:
    """The pending warm transfer whose colleague is live and whose sender is still on."""
    record = _pending_warm(s, interaction_id)
    if record is None:
        return None
    leg = s.get(Leg, record.leg_id or 0)
    sender = s.scalar(select(Leg.id).where(
        Leg.interaction_id == interaction_id, Leg.agent_id == record.from_agent_id,
        Leg.answered_at.is_not(None), Leg.ended_at.is_(None)).limit(1))
    live = leg is not None and leg.ended_at is None
    return record if live and sender is not None else None


def warm_in_progress(rt: Runtime, interaction_id: int, agent_id: int) -> dict[str, Any] | None:
    """The warm transfer `agent_id` started on the call and may still cancel, complete or
    make three-way (to whom, since when, whether the colleague has answered), from the
    server's record; None once it was ended, the colleague hung up or the sender left."""
    with rt.db.session() as s:
        record = _consulting(s, interaction_id)
        if record is None or record.from_agent_id != agent_id:
            return None
        leg = s.get(Leg, record.leg_id or 0)
        colleague = s.get(Agent, record.to_agent_id or 0)
        return {"transfer_id": record.id, "to_agent_id": record.to_agent_id,
                "to": colleague.name if colleague is not None else "",
                "since": record.created_at.isoformat(),
                "answered": leg is not None and leg.answered_at is not None}


def end_warm(rt: Runtime, interaction_id: int, agent_id: int, how: str) -> str:
    """The sender of a warm transfer being consulted cancels it (the colleague dropped, the
    caller back with them), completes it (they leave, the caller with the colleague) or
    makes it three-way (the caller joins both); audited. TransferRefused when none is."""
    with rt.db.session() as s:
        _, from_leg = _live_leg(s, TransferRequest(interaction_id, agent_id, WARM, how))
        record = _consulting(s, interaction_id)
        if record is None or record.from_agent_id != agent_id:
            raise TransferRefused("no warm transfer of yours is in progress on this call")
        leg = s.get(Leg, record.leg_id or 0)
        assert leg is not None  # _consulting found it live
        if how != CANCEL and leg.answered_at is None:
            raise TransferRefused("your colleague has not answered yet: wait, or cancel")
        s.add(AuditEntry(agent_id=agent_id, action=WARM_ENDINGS[how],
                         interaction_id=interaction_id, created_at=rt.clock.now()))
        leaving = {CANCEL: leg.call_sid, COMPLETE: from_leg.call_sid}.get(how)
    log.info("interaction %s: warm transfer %s", interaction_id, how)
    rt.enqueue(tasks.END_WARM, interaction_id, leaving, job_id=None)
    return how


def leg_missed(rt: Runtime, interaction_id: int) -> None:
    """The receiving agent did not answer: back to the agent still on the call, or to the line."""
    with rt.db.session() as s:
        interaction = s.get(Interaction, interaction_id)
        if interaction is None or is_final(interaction):
            return
        others = s.scalar(select(Leg).where(Leg.interaction_id == interaction_id,
                                            Leg.answered_at.is_not(None), Leg.ended_at.is_(None)))
        if others is not None:
            caller_sid = ""
        else:
            queue = interaction.queue
            if queue is None:
                return
            _back_in_line(interaction, queue)
            entry, caller_sid = _entry(interaction, queue.slug), interaction.call_sid
    if not caller_sid:
        rt.enqueue(tasks.HOLD_CALLER, interaction_id, False)
        return
    lines.join(rt.live, entry)
    rt.enqueue(tasks.TRANSFER_TO_LINE, caller_sid, job_id=f"transfer-missed-{interaction_id}")


def ask_hold(rt: Runtime, interaction_id: int, agent_id: int, hold: bool) -> None:
    """The agent on the call puts its caller on hold (or back); TransferRefused when the
    agent is not talking on it now."""
    with rt.db.session() as s:
        _live_leg(s, TransferRequest(interaction_id, agent_id, COLD, "hold"))
    rt.enqueue(tasks.HOLD_CALLER, interaction_id, hold, job_id=None)


def hold_url_for(rt: Runtime, leg_kind: str) -> str:
    """Where a caller on hold during a hand-over fetches what they hear (an escalation says
    a supervisor is coming)."""
    if leg_kind == ESCALATION_LEG:
        return rt.url(paths.TRANSFER_HOLD, escalation=1)
    return rt.url(paths.TRANSFER_HOLD)


# RQ jobs: each reloads what it needs, is safe to run twice, and raises on failure.

def dial_transfer(rt: Runtime, leg_id: int) -> str:
    """Hold the caller (hearing why) and ring the receiving agent into the same conference."""
    with rt.db.session() as s:
        leg = s.get(Leg, leg_id)
        if leg is None or leg.call_sid or leg.ended_at is not None:
            return "already dialled"
        interaction = leg.interaction
        agent = s.get(Agent, leg.agent_id or 0)
        if is_final(interaction) or agent is None:
            leg.ended_at, leg.status = rt.clock.now(), "missed"
            gone, agent_id = True, leg.agent_id
        else:
            gone, agent_id, contact = False, agent.id, agent.contact
            conference, caller_sid = interaction.conference, interaction.call_sid
            hold_url = hold_url_for(rt, leg.kind)
    if gone:
        if agent_id is not None:
            dispatch.change_state(rt, agent_id, AVAILABLE, (BUSY,))
        return "caller gone"
    if conference:  # best effort: a caller not (yet) in the conference cannot be held
        _tolerating_gone(rt.gateway.hold_in_conference, conference, caller_sid, True,
                         hold_url)
    try:
        sid = rt.gateway.dial(contact, rt.url(paths.AGENT_WHISPER, leg=leg_id),
                              rt.url(paths.AGENT_STATUS, leg=leg_id),
                              timeout=AGENT_RING_TIMEOUT_SECONDS)
    except DialRefused as refused:
        return transfer_refused(rt, leg_id, refused.reason)
    with rt.db.session() as s:
        row = s.get(Leg, leg_id)
        if row is not None:
            row.call_sid = sid
    return "dialled"


def transfer_refused(rt: Runtime, leg_id: int, reason: str) -> str:
    """Twilio refused to ring a transfer's receiving agent: end that leg, take the agent
    offline with the reason, and give the caller back to the agent handing over (or to
    their line at their original place when that agent has gone)."""
    with rt.db.session() as s:
        leg = s.get(Leg, leg_id)
        if leg is None or leg.ended_at is not None:
            return "already settled"
        leg.ended_at, leg.status = rt.clock.now(), REFUSED_TRANSFER
        agent_id, interaction_id = leg.agent_id, leg.interaction_id
    if agent_id is not None:
        agents.take_offline(rt, agent_id, reason, (BUSY,))
    leg_missed(rt, interaction_id)
    return "transfer refused"


def hold_caller(rt: Runtime, interaction_id: int, hold: bool, hold_url: str | None = None) -> str:
    """Put the caller of an interaction on hold in its conference (hearing `hold_url`, by
    default the transfer notice), or take them off it."""
    with rt.db.session() as s:
        interaction = s.get(Interaction, interaction_id)
        if interaction is None or is_final(interaction) or not interaction.conference:
            return "no conference"
        conference, caller_sid = interaction.conference, interaction.call_sid
    url = (hold_url or rt.url(paths.TRANSFER_HOLD)) if hold else None
    done = _tolerating_gone(rt.gateway.hold_in_conference, conference, caller_sid, hold, url)
    return ("held" if hold else "unheld") if done else "no conference"


def end_warm_job(rt: Runtime, interaction_id: int, leaving_sid: str | None) -> str:
    """Take `leaving_sid` out of the call's conference (DeleteParticipant; a colleague still
    ringing has their call ended instead), then the caller off hold (UpdateParticipant
    Hold=false; twilio.com/docs/voice/api/conference-participant-resource)."""
    with rt.db.session() as s:
        interaction = s.get(Interaction, interaction_id)
        if interaction is None or is_final(interaction) or not interaction.conference:
            return "no conference"
        conference = interaction.conference
    if leaving_sid and not rt.gateway.remove_participant(conference, leaving_sid):
        rt.gateway.end_call(leaving_sid)
    return hold_caller(rt, interaction_id, False)


def redirect_to_line(rt: Runtime, caller_sid: str) -> str:
    """Send a transferred caller back to their line (original place, updated estimate)."""
    done = _tolerating_gone(rt.gateway.redirect, caller_sid, rt.url(paths.REJOIN))
    return "redirected" if done else "call gone"


def drop_agent(rt: Runtime, agent_call_sid: str) -> str:
    """End the handing-over agent's leg (its status callback then starts their wrap-up)."""
    done = _tolerating_gone(rt.gateway.hang_up, agent_call_sid)
    return "dropped" if done else "already gone"


def _tolerating_gone(action: Callable[..., bool | None], *args: Any) -> bool:
    """Run a REST action; False when Twilio says the call or conference is gone."""
    try:
        return action(*args) is not False
    except TwilioRestException as exc:
        if is_call_gone(exc):
            return False
        raise

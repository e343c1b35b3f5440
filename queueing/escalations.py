"""Escalation that waits: an agent asks for a supervisor when none is free, so the caller is
told and held for the next one, and given back to the agent when none frees up in time.

The wait is committed (EscalationWait) before the caller is told; Redis keeps the order of
the waits (keys.escalations). A supervisor becoming available (queueing.dispatch) hands the
worker a job that gives them the oldest wait (a warm transfer, as when one was free at once);
a job at the deadline gives the caller back to the agent, who is told on their console.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from rq.job import Job
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from holdless import paths, tasks
from models.entities import ROLE_SUPERVISOR, Agent, Interaction
from models.states import is_final
from models.supervision import (
    ESCALATION_CALL_ENDED,
    ESCALATION_REACHED,
    ESCALATION_TIMED_OUT,
    EscalationWait,
)
from queueing import keys, transfers
from queueing.presence import AVAILABLE

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

WAITING = "waiting"
__all__ = ["escalate", "offer_job", "restore_waits", "status_of", "timeout_job"]


def _free_supervisor(rt: Runtime, asking_agent_id: int) -> int | None:
    """The longest-free available supervisor (not the agent asking), if any."""
    with rt.db.session() as s:
        supervisors = list(s.scalars(select(Agent).where(
            Agent.role == ROLE_SUPERVISOR, Agent.id != asking_agent_id).order_by(
            Agent.state_since)))
    return next((a.id for a in supervisors if rt.presence.state(a.id) == AVAILABLE), None)


def escalate(rt: Runtime, interaction_id: int, agent_id: int, reason: str) -> dict[str, Any]:
    """Warm-transfer to the longest-free available supervisor; when none is free, hold the
    caller for the next one until the deadline. Returns what happened (transfer_id, or
    waiting with the escalation's id and deadline). TransferRefused when it cannot."""
    supervisor = _free_supervisor(rt, agent_id)
    if supervisor is not None:
        try:
            return {"transfer_id": transfers.escalate_to(rt, interaction_id, agent_id, reason,
                                                         supervisor), "waiting": False}
        except transfers.TransferRefused:
            if rt.presence.state(supervisor) == AVAILABLE:
                raise  # refused for the call's sake, not because the supervisor was taken
    return _wait(rt, interaction_id, agent_id, reason)


def _wait(rt: Runtime, interaction_id: int, agent_id: int, reason: str) -> dict[str, Any]:
    ask = transfers.TransferRequest(interaction_id, agent_id, "warm", reason)
    try:
        with rt.db.session() as s:
            transfers.live_leg(s, ask)
            now = rt.clock.now()
            wait = EscalationWait(interaction_id=interaction_id, from_agent_id=agent_id,
                                  reason=reason, created_at=now, deadline=now + timedelta(
                                      seconds=rt.settings.escalation_wait_seconds),
                                  open_interaction_id=interaction_id)
            s.add(wait)
            s.flush()
            wait_id, deadline = wait.id, wait.deadline
    except IntegrityError as exc:
        raise transfers.TransferRefused("this call already waits for a supervisor") from exc
    rt.live.zadd(keys.escalations(), {str(wait_id): rt.clock.time()})
    rt.enqueue(tasks.HOLD_CALLER, interaction_id, True,
               rt.url(paths.TRANSFER_HOLD, escalation="wait"), job_id=None)
    rt.enqueue(tasks.ESCALATION_TIMEOUT, wait_id, job_id=f"escalation-timeout-{wait_id}",
               delay=float(rt.settings.escalation_wait_seconds))
    log.info("interaction %s waits for a supervisor (escalation %s)", interaction_id, wait_id)
    return {"transfer_id": None, "waiting": True, "escalation_id": wait_id,
            "deadline": deadline.isoformat()}


def _settle(rt: Runtime, wait_id: int, outcome: str, transfer_id: int | None = None) -> bool:
    """Close a wait with `outcome` (once); False when it was already closed."""
    rt.live.zrem(keys.escalations(), str(wait_id))
    with rt.db.session() as s:
        wait = s.get(EscalationWait, wait_id)
        if wait is None or wait.settled_at is not None:
            return False
        wait.settled_at, wait.outcome, wait.open_interaction_id = rt.clock.now(), outcome, None
        wait.transfer_id = transfer_id
    return True


def _oldest(rt: Runtime) -> list[int]:
    return [int(i) for i in cast("list[str]", rt.live.zrange(keys.escalations(), 0, -1))]


def offer_job(rt: Runtime, supervisor_id: int) -> str:
    """A supervisor became available: hand them the oldest escalation still waiting on a
    live call (waits whose call has ended are closed on the way)."""
    with rt.db.session() as s:
        supervisor = s.get(Agent, supervisor_id)
        if supervisor is None or supervisor.role != ROLE_SUPERVISOR:
            return "not a supervisor"
    for wait_id in _oldest(rt):
        with rt.db.session() as s:
            wait = s.get(EscalationWait, wait_id)
            if wait is None or wait.settled_at is not None:
                rt.live.zrem(keys.escalations(), str(wait_id))
                continue
            interaction_id, agent_id, reason = (wait.interaction_id, wait.from_agent_id,
                                                wait.reason)
        if rt.presence.state(supervisor_id) != AVAILABLE:
            return "supervisor taken"
        try:
            transfer_id = transfers.escalate_to(rt, interaction_id, agent_id, reason,
                                                supervisor_id)
        except transfers.TransferRefused:
            if rt.presence.state(supervisor_id) != AVAILABLE:
                return "supervisor taken"
            _settle(rt, wait_id, ESCALATION_CALL_ENDED)
            continue
        _settle(rt, wait_id, ESCALATION_REACHED, transfer_id)
        return "offered"
    return "nothing waiting"


def timeout_job(rt: Runtime, wait_id: int) -> str:
    """The deadline came with no supervisor free: the caller goes back to the agent (off
    hold), and the agent's console says so."""
    with rt.db.session() as s:
        wait = s.get(EscalationWait, wait_id)
        if wait is None or wait.settled_at is not None:
            return "already settled"
        call = s.get(Interaction, wait.interaction_id)
        interaction_id, ended = wait.interaction_id, call is None or is_final(call)
    if not _settle(rt, wait_id, ESCALATION_CALL_ENDED if ended else ESCALATION_TIMED_OUT):
        return "already settled"
    if ended:
        return "call ended"
    rt.enqueue(tasks.HOLD_CALLER, interaction_id, False, job_id=None)
    log.info("escalation %s: no supervisor in time, back to the agent", wait_id)
    return "back to the agent"


def restore_waits(rt: Runtime) -> int:
    """After Redis lost its data: every escalation still waiting back in line at its place,
    and its deadline's job scheduled again when it was lost; returns how many."""
    with rt.db.session() as s:
        waits = [(w.id, w.created_at.timestamp(), w.deadline.timestamp()) for w in s.scalars(
            select(EscalationWait).where(EscalationWait.settled_at.is_(None)))]
    for wait_id, asked, deadline in waits:
        rt.live.zadd(keys.escalations(), {str(wait_id): asked})
        job_id = f"escalation-timeout-{wait_id}"
        if not Job.exists(job_id, connection=rt.jobs_redis):
            rt.enqueue(tasks.ESCALATION_TIMEOUT, wait_id, job_id=job_id,
                       delay=max(deadline - rt.clock.time(), 0.0))
    return len(waits)


def status_of(rt: Runtime, interaction_id: int) -> dict[str, Any] | None:
    """The newest escalation wait of a call (status and deadline), for the agent's console."""
    with rt.db.session() as s:
        wait = s.scalar(select(EscalationWait).where(
            EscalationWait.interaction_id == interaction_id).order_by(
            EscalationWait.id.desc()).limit(1))
        if wait is None:
            return None
        return {"id": wait.id, "status": wait.outcome or WAITING,
                "deadline": wait.deadline.isoformat()}

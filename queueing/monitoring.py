"""Supervisors on live calls: listen (muted, heard by nobody), coach (heard by the agent
only) and barge (heard by all), through the conference's participants at Twilio.

The web request records the period (who, which call, mode, from) and hands the REST call to
a job; switching mode ends the period and starts the next on the same phone leg; leaving,
or the supervisor's phone hanging up, ends it. Every period is a `MonitoringSession` row, so
the audit is the table itself.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from holdless import paths, tasks
from holdless.twilio_gateway import MonitorMode
from models.entities import CONNECTED, ROLE_ADMIN, ROLE_SUPERVISOR, Agent, Interaction, Leg
from models.states import is_final
from models.supervision import BARGE, COACH, LISTEN, MONITOR_MODES, MonitoringSession

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

SUPERVISING_ROLES = (ROLE_SUPERVISOR, ROLE_ADMIN)
# HOLDLESS_AGENT_SEES_MONITORING: which supervisors an agent is shown on their call.
NOTICE_ALL, NOTICE_HEARD, NOTICE_NONE = "all", "heard", "none"
NOTICE_POLICIES = (NOTICE_ALL, NOTICE_HEARD, NOTICE_NONE)
# Twilio's final call statuses: the supervisor's phone leg is over.
FINAL_CALL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")

__all__ = ["MONITOR_MODES", "SUPERVISING_ROLES", "MonitorRefused", "leave", "monitor",
           "supervisors_on"]


class MonitorRefused(Exception):
    """The supervisor cannot do that now; the message says why in plain words."""


def _open(s: Session, supervisor_id: int) -> MonitoringSession | None:
    return s.scalar(select(MonitoringSession).where(
        MonitoringSession.active_supervisor_id == supervisor_id))


def _agent_leg(s: Session, interaction: Interaction) -> Leg | None:
    """The newest answered, live agent leg of the call (who the supervisor would coach)."""
    return s.scalar(select(Leg).where(
        Leg.interaction_id == interaction.id, Leg.answered_at.is_not(None),
        Leg.ended_at.is_(None), Leg.call_sid.is_not(None)).order_by(Leg.id.desc()).limit(1))


def _live_call(s: Session, interaction_id: int) -> tuple[Interaction, Leg]:
    interaction = s.get(Interaction, interaction_id)
    if (interaction is None or is_final(interaction) or interaction.status != CONNECTED
            or not interaction.conference):
        raise MonitorRefused("that call is not connected to an agent")
    leg = _agent_leg(s, interaction)
    if leg is None:
        raise MonitorRefused("that call is not connected to an agent")
    return interaction, leg


def _supervisor(s: Session, supervisor_id: int) -> Agent:
    found = s.get(Agent, supervisor_id)
    if found is None or found.role not in SUPERVISING_ROLES:
        raise MonitorRefused("only supervisors may listen to calls")
    return found


def _end(row: MonitoringSession, now: object, reason: str) -> None:
    row.ended_at, row.end_reason, row.active_supervisor_id = now, reason, None  # type: ignore[assignment]


def monitor(rt: Runtime, supervisor_id: int, interaction_id: int, mode: str) -> int:
    """Start listening, coaching or barging on a live call, or switch to `mode` on the call
    the supervisor is already on; returns the period's id. MonitorRefused when it cannot."""
    if mode not in MONITOR_MODES:
        raise MonitorRefused(f"mode must be one of: {', '.join(MONITOR_MODES)} (not {mode!r})")
    with rt.db.session() as s:
        supervisor = _supervisor(s, supervisor_id)
        interaction, leg = _live_call(s, interaction_id)
        current = _open(s, supervisor_id)
        if current is not None and current.interaction_id != interaction_id:
            raise MonitorRefused("you are already on another call: leave it first")
        if current is not None and current.mode == mode:
            return current.id
        if current is not None and not current.call_sid:
            current.mode = mode  # their phone is still ringing: it joins in the new mode
            return current.id
        now = rt.clock.now()
        row = MonitoringSession(supervisor_id=supervisor_id, interaction_id=interaction.id,
                                agent_id=leg.agent_id, mode=mode, phone=supervisor.contact,
                                started_at=now, active_supervisor_id=supervisor_id)
        if current is not None:
            row.call_sid = current.call_sid
            _end(current, now, f"switched to {mode}")
            s.flush()
        s.add(row)
        s.flush()
        row_id, joined = row.id, current is not None
    log.info("supervisor %s: %s on interaction %s", supervisor_id, mode, interaction_id)
    rt.enqueue(tasks.MONITOR_MODE if joined else tasks.MONITOR_JOIN, row_id)
    return row_id


def leave(rt: Runtime, supervisor_id: int) -> int | None:
    """The supervisor leaves the call they are on (their phone leg is removed); returns the
    ended period's id, or None when they were on no call."""
    with rt.db.session() as s:
        current = _open(s, supervisor_id)
        if current is None:
            return None
        _end(current, rt.clock.now(), "left")
        row_id = current.id
    rt.enqueue(tasks.MONITOR_LEAVE, row_id)
    return row_id


def phone_ended(rt: Runtime, call_sid: str, status: str,
                ended_at: datetime | None = None) -> bool:
    """A supervisor's phone leg reported `status`: when it is over, the open period on it
    ends, at `ended_at` when Twilio says when the call ended (the sweeper asking about a
    call whose report was lost; never before the period began nor after now), else now.
    Returns whether one ended."""
    if status not in FINAL_CALL_STATUSES or not call_sid:
        return False
    with rt.db.session() as s:
        row = s.scalar(select(MonitoringSession).where(
            MonitoringSession.call_sid == call_sid, MonitoringSession.ended_at.is_(None)))
        if row is None:
            return False
        now = rt.clock.now()
        at = now if ended_at is None else min(max(ended_at, row.started_at), now)
        _end(row, at, "phone hung up" if status == "completed" else status)
    return True


def mode_of(row: MonitoringSession, coached_call_sid: str | None) -> MonitorMode:
    """The Twilio participant flags of a period's mode."""
    if row.mode == COACH and coached_call_sid:
        return MonitorMode(listen_only=False, coach_call_sid=coached_call_sid)
    return MonitorMode(listen_only=row.mode == LISTEN)


def supervisors_on(rt: Runtime, interaction_id: int) -> list[dict[str, str]]:
    """Who is on a live call now and how (name, mode), as the agent is allowed to see it
    (HOLDLESS_AGENT_SEES_MONITORING: all, heard - coach and barge only -, or none)."""
    policy = rt.settings.agent_sees_monitoring
    if policy == NOTICE_NONE:
        return []
    shown = MONITOR_MODES if policy == NOTICE_ALL else (COACH, BARGE)
    with rt.db.session() as s:
        rows = s.execute(select(Agent.name, MonitoringSession.mode).join(
            Agent, Agent.id == MonitoringSession.supervisor_id).where(
            MonitoringSession.interaction_id == interaction_id,
            MonitoringSession.ended_at.is_(None), MonitoringSession.mode.in_(shown)))
        return [{"name": name, "mode": mode} for name, mode in rows]


# RQ jobs: each reloads its period, does nothing once it no longer applies, and raises on
# Twilio's failures (RQ retries).

def _job_view(s: Session, row_id: int) -> tuple[MonitoringSession, str, str | None] | None:
    """A period with its conference's name and the agent leg to coach (None when gone)."""
    row = s.get(MonitoringSession, row_id)
    interaction = s.get(Interaction, row.interaction_id) if row is not None else None
    if row is None or interaction is None or not interaction.conference:
        return None
    leg = _agent_leg(s, interaction)
    return row, interaction.conference, leg.call_sid if leg is not None else None


def join_job(rt: Runtime, row_id: int) -> str:
    """Ring the supervisor's phone into the call's conference in the period's mode."""
    with rt.db.session() as s:
        view = _job_view(s, row_id)
        if view is None or view[0].ended_at is not None or view[0].call_sid:
            return "nothing to join"
        row, conference, coached = view
        mode, phone, row_mode = mode_of(row, coached), row.phone, row.mode
    sid = rt.gateway.join_supervisor(conference, phone, mode,
                                     rt.url(paths.SUPERVISOR_STATUS, session=row_id))
    with rt.db.session() as s:
        found = s.get(MonitoringSession, row_id)
        assert found is not None
        if sid is None:
            _end(found, rt.clock.now(), "call over")
            return "call over"
        found.call_sid = sid
        changed, left = found.mode != row_mode, found.ended_at is not None
    if left:  # they left before the phone was in: take it out again
        rt.gateway.remove_participant(conference, sid)
    elif changed:  # they switched while it rang
        rt.enqueue(tasks.MONITOR_MODE, row_id)
    return "joined"


def mode_job(rt: Runtime, row_id: int) -> str:
    """Move the supervisor's participant to the period's mode (if the period still holds)."""
    with rt.db.session() as s:
        view = _job_view(s, row_id)
        if view is None or view[0].ended_at is not None or not view[0].call_sid:
            return "nothing to change"
        row, conference, coached = view
        mode, call_sid = mode_of(row, coached), str(row.call_sid)
    done = rt.gateway.set_supervisor_mode(conference, call_sid, mode)
    return "changed" if done else "call over"


def leave_job(rt: Runtime, row_id: int) -> str:
    """Take the supervisor's participant out of the conference (their phone leg ends)."""
    with rt.db.session() as s:
        view = _job_view(s, row_id)
        if view is None or not view[0].call_sid:
            return "nothing to remove"
        conference, call_sid = view[1], view[0].call_sid
    done = rt.gateway.remove_participant(conference, call_sid)
    return "removed" if done else "already gone"

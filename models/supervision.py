"""What supervisors do on live calls: each listen, coach or barge period (audited, who, which
call, mode, from-to), and the escalations waiting for a supervisor to be free."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

# How a supervisor is on a call: heard by nobody, heard by the agent only, heard by all.
LISTEN, COACH, BARGE = "listen", "coach", "barge"
MONITOR_MODES = (LISTEN, COACH, BARGE)
# How an escalation's wait for a supervisor ended.
ESCALATION_REACHED, ESCALATION_TIMED_OUT, ESCALATION_CALL_ENDED = (
    "reached", "timed-out", "call-ended")


class MonitoringSession(Base):
    """One period of a supervisor on a live call in one mode, from `started_at` to
    `ended_at`. Switching mode ends the row and starts the next one on the same phone leg
    (`call_sid`); `active_supervisor_id` is set only while the row is open, so a supervisor
    is on at most one call at a time."""

    __tablename__ = "monitoring_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    mode: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str] = mapped_column(String(80))
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str] = mapped_column(String(40), default="")
    active_supervisor_id: Mapped[int | None] = mapped_column(Integer, unique=True)


class EscalationWait(Base):
    """An agent asked for a supervisor when none was free: the caller is held for the next
    one until `deadline`, then given back to the agent. `open_interaction_id` is set only
    while it waits (one waiting escalation per call)."""

    __tablename__ = "escalation_waits"

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True)
    from_agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20), default="")
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    open_interaction_id: Mapped[int | None] = mapped_column(Integer, unique=True)

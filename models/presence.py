"""How agents spent their time: not-ready reasons (configured by admins) and one row per
spell in a state (available, busy, wrap-up, not-ready with its reason, offline), written
whenever an agent's state or not-ready reason changes, whoever changes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, event, inspect, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from holdless import clock
from models.base import Base, UTCDateTime
from models.entities import Agent

# The reasons a new contact center starts with (admins add, rename and retire them).
DEFAULT_NOT_READY_REASONS = ("Break", "Lunch", "Training", "Meeting")
NOT_READY_REASON_MAX = 60


class NotReadyReason(Base):
    """Why an agent may be signed in but take no calls (break, lunch, training...)."""

    __tablename__ = "not_ready_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NOT_READY_REASON_MAX), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PresenceSpell(Base):
    """One stretch of an agent's time in one state (and not-ready reason); open until the
    next change (ended_at NULL)."""

    __tablename__ = "presence_spells"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(NOT_READY_REASON_MAX), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _changed(agent: Agent) -> bool:
    attrs = inspect(agent).attrs
    return bool(attrs.state.history.has_changes() or attrs.not_ready_reason.history.has_changes())


@event.listens_for(Session, "before_flush")
def _record_spells(session: Session, _context: Any, _instances: Any) -> None:
    """Close the agent's open spell and open one for their new state (and reason)."""
    for agent in [a for a in session.dirty if isinstance(a, Agent) and _changed(a)]:
        now = agent.state_since or clock.now()
        session.execute(update(PresenceSpell).where(
            PresenceSpell.agent_id == agent.id, PresenceSpell.ended_at.is_(None))
            .values(ended_at=now))
        session.add(PresenceSpell(agent_id=agent.id, state=agent.state,
                                  reason=agent.not_ready_reason or "", started_at=now))

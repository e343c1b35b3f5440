"""What agents add to an interaction: notes, wrap-ups (dispositions), transfers, audit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime
from models.entities import Agent

# How a transfer hands the caller on.
WARM, COLD = "warm", "cold"
# Wrap-up dispositions an agent may choose.
DISPOSITIONS = ("resolved", "follow-up", "escalated", "callback-booked", "no-resolution",
                "wrong-number")
# Recorded, never chosen: the wrap-up time ran out before the agent chose a disposition.
TIMED_OUT = "timed-out"


def draft_key(interaction_id: int, agent_id: int) -> str:
    """The unique key of an agent's one draft note on an interaction."""
    return f"{interaction_id}:{agent_id}"


class Note(Base):
    """A note on an interaction. A draft (autosaved as typed) is one per agent per interaction,
    kept unique by `draft_key`, which is cleared when the note is final."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    draft: Mapped[bool] = mapped_column(default=True)
    draft_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agent: Mapped[Agent] = relationship()


class WrapUp(Base):
    """How an agent closed their part of an interaction."""

    __tablename__ = "wrap_ups"
    __table_args__ = (UniqueConstraint("interaction_id", "agent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    disposition: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Transfer(Base):
    """One hand-over of an interaction: from an agent to an agent or back to a queue.
    The receiving side is a Leg of the same interaction (`leg_id`) when it is an agent."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True)
    from_agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    to_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    to_queue: Mapped[str | None] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    leg_id: Mapped[int | None] = mapped_column(ForeignKey("legs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Something an agent did that must be accountable (e.g. revealing a full number)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    interaction_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

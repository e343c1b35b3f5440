"""Callbacks: a promise to call a customer back at their place in line, and each try at it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime
from models.entities import Interaction, Queue

# Callback states. Booked and dialling are open (a promise still to keep).
BOOKED, DIALLING, COMPLETED, UNREACHABLE, CANCELLED = (
    "booked", "dialling", "completed", "unreachable", "cancelled")
OPEN_STATUSES = (BOOKED, DIALLING)
CALLBACK_STATUSES = (BOOKED, DIALLING, COMPLETED, UNREACHABLE, CANCELLED)

# The texts a customer may be sent about their callback: booked, not reachable, or moved
# to another day (held outside the queue's hours or the customer's quiet hours).
TEXT_BOOKED, TEXT_UNREACHABLE, TEXT_MOVED = "booked", "unreachable", "moved"

# How a callback attempt ended ("" while it runs): the customer talking to the agent, the
# call over after talking, the agent not answering or leaving first, the callback closed
# meanwhile, or (customer first) the agent released to ring the customer.
ATTEMPT_CONNECTED, ATTEMPT_FINISHED = "connected", "completed"
ATTEMPT_AGENT_MISSED, ATTEMPT_AGENT_LEFT = "agent missed", "agent left"
ATTEMPT_CLOSED = "callback closed"
ATTEMPT_RELEASED = "customer first: agent released"


def open_key(queue_id: int, number: str) -> str:
    """The value that makes one open callback per (number, queue) unique in the database."""
    return f"{queue_id}:{number}"


class Callback(Base):
    """A customer asked to be called back, keeping the place in line they had.

    `place` is the moment the customer first joined the line (the score of their entry),
    so a callback never jumps ahead of callers who were there first; a callback booked for
    a slot (`slot_start`–`slot_end`) is placed at the slot's start, in booking order, and
    enters the line then (`next_attempt_at`). While the callback
    is open, `open_key` is set and unique: the database's backstop for one open callback
    per number and queue.
    """

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), index=True)
    number: Mapped[str] = mapped_column(String(20), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id"))
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=BOOKED, index=True)
    place: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recording_url: Mapped[str | None] = mapped_column(Text)
    slot_start: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    slot_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The first allowed moment a callback held outside its hours waits for (its batch)."""
    promised_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promised_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promised_words: Mapped[str | None] = mapped_column(String(160))
    """What the customer was told when booking ("in about 12 minutes", "tomorrow after 8
    AM"), and the moments those words stand for (`promised_from`–`promised_by`: booking +
    [11.25, 12.25] min; a slot, its start and end). Set once per booking and never moved,
    so the promise can be said again as it was, and measured against the ring."""
    language: Mapped[str | None] = mapped_column(String(16))
    """The language the customer booked in: the call back and every text speak it."""
    open_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    queue: Mapped[Queue] = relationship()
    interaction: Mapped[Interaction | None] = relationship()
    tries: Mapped[list[CallbackAttempt]] = relationship(
        back_populates="callback", order_by="CallbackAttempt.id", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        """Whether the promise still has to be kept."""
        return self.status in OPEN_STATUSES


class CallbackAttempt(Base):
    """One try at a callback: the agent rung first, then the customer dialled.

    The row (with its unique idempotency key) is committed before anyone is dialled, so
    a job that runs twice finds it and places no second call.
    """

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("callbacks.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    agent_call_sid: Mapped[str | None] = mapped_column(String(64))
    call_sid: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(40), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    agent_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    customer_dialled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    customer_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Twilio's AnsweredBy for the customer's call (asynchronous answering-machine detection):
    # human, unknown, fax, machine_start, machine_end_beep/_silence/_other; "" until known.
    answered_by: Mapped[str] = mapped_column(String(24), default="", server_default="")

    callback: Mapped[Callback] = relationship(back_populates="tries")

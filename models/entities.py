"""The contact center's durable records."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, Time
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime

# Interaction states, in the only order they may move (see models.states).
IVR, WAITING, OFFERED, CONNECTED, COMPLETED, ABANDONED = (
    "ivr", "waiting", "offered", "connected", "completed", "abandoned")

# Agent states.
OFFLINE, AVAILABLE, BUSY, WRAP_UP = "offline", "available", "busy", "wrap-up"
NOT_READY = "not-ready"  # signed in, taking no calls, for a reason (break, lunch...)
AGENT_STATES = (OFFLINE, AVAILABLE, BUSY, WRAP_UP, NOT_READY)

# Agent roles.
ROLE_AGENT, ROLE_SUPERVISOR, ROLE_ADMIN = "agent", "supervisor", "admin"


class Queue(Base):
    """A line callers wait in (sales, support), with its own policy."""

    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    digit: Mapped[str | None] = mapped_column(String(1), unique=True)
    greeting: Mapped[str] = mapped_column(Text, default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    callback_threshold_seconds: Mapped[int] = mapped_column(Integer, default=120)
    busy_threshold_seconds: Mapped[int] = mapped_column(Integer, default=600)
    max_waiting: Mapped[int | None] = mapped_column(Integer)
    # VIP callers and overdue callbacks are served as if they had arrived this much earlier
    # (0: first come, first served); see queueing.priority.
    priority_bonus_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Overflow (queueing.overflow): after overflow_after_seconds waiting, an entry may also be
    # taken by the agents of the queue called overflow_queue (None: no overflow).
    overflow_queue: Mapped[str | None] = mapped_column(String(40))
    overflow_after_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sl_target_seconds: Mapped[int] = mapped_column(Integer, default=20)
    sl_target_percent: Mapped[int] = mapped_column(Integer, default=80)
    # The live board's alarms (None: off): a caller waiting longer, or today's service
    # level below this percent, turns the queue's row red.
    alert_oldest_wait_seconds: Mapped[int | None] = mapped_column(Integer)
    alert_service_level_percent: Mapped[int | None] = mapped_column(Integer)
    dial_mode: Mapped[str] = mapped_column(String(20), default="agent-first")
    survey_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    ask_account: Mapped[bool] = mapped_column(Boolean, default=False)
    # Conversation recording (models.privacy.RECORDING_MODES) and retention in days of what
    # is held about callers (None: kept until erased); see admin.retention.
    recording_mode: Mapped[str] = mapped_column(String(20), default="off", server_default="off")
    keep_recordings_days: Mapped[int | None] = mapped_column(Integer)
    keep_voicemails_days: Mapped[int | None] = mapped_column(Integer)
    keep_notes_days: Mapped[int | None] = mapped_column(Integer)
    keep_identity_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Languages (holdless.speech, docs/languages.md): the line's own (None: English), the
    # Twilio voice it speaks in (None: the one documented for the language), further
    # languages its callers may choose (comma-separated tags), and its admin-written texts
    # per language: {"greeting": {"de-DE": "…"}, "closed": {…}}.
    language: Mapped[str | None] = mapped_column(String(16))
    voice: Mapped[str | None] = mapped_column(String(64))
    languages: Mapped[str | None] = mapped_column(String(80))
    texts: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="queue", cascade="all, delete-orphan", order_by="OpeningHours.weekday")


class OpeningHours(Base):
    """One open range of a queue on one weekday (0 = Monday), local to the queue's zone."""

    __tablename__ = "opening_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)

    queue: Mapped[Queue] = relationship(back_populates="hours")


class Holiday(Base):
    """A closed day or range (or one with special hours), for one queue or every queue."""

    __tablename__ = "holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    starts: Mapped[date] = mapped_column(Date, index=True)
    ends: Mapped[date] = mapped_column(Date)
    opens: Mapped[time | None] = mapped_column(Time)
    closes: Mapped[time | None] = mapped_column(Time)
    message: Mapped[str] = mapped_column(Text, default="")
    # The message in other languages than the one written in `message`: {"de-DE": "…"}.
    messages: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Agent(Base):
    """A person who takes calls (or supervises, or administers)."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(20), default=ROLE_AGENT)
    contact: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(20), default=OFFLINE)
    state_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed_offers: Mapped[int] = mapped_column(Integer, default=0)
    # Why the system took the agent offline (Twilio refused to ring them, say); "" otherwise.
    offline_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The reason of a not-ready agent (models.presence.NotReadyReason's name); "" otherwise.
    not_ready_reason: Mapped[str] = mapped_column(String(60), default="", server_default="")
    # False once an admin deactivates them: no sign-in, no queues, their history kept.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())

    queue_links: Mapped[list[AgentQueue]] = relationship(
        back_populates="agent", cascade="all, delete-orphan")

    @property
    def queue_slugs(self) -> list[str]:
        """The slugs of the queues this agent serves."""
        return sorted(link.queue.slug for link in self.queue_links)


class AgentQueue(Base):
    """Which queues an agent serves."""

    __tablename__ = "agent_queues"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)

    agent: Mapped[Agent] = relationship(back_populates="queue_links")
    queue: Mapped[Queue] = relationship()


class Caller(Base):
    """A customer known by their number (E.164)."""

    __tablename__ = "callers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    account_ref: Mapped[str] = mapped_column(String(60), default="")
    difficult: Mapped[bool] = mapped_column(Boolean, default=False)
    # served ahead in queues that give a priority bonus (queueing.priority)
    vip: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # The language they chose (or were served in) last: their next call, callbacks and texts.
    language: Mapped[str | None] = mapped_column(String(16))


class Interaction(Base):
    """One customer contact, from first ring to wrap-up, across every leg and transfer."""

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="inbound")
    caller_id: Mapped[int | None] = mapped_column(ForeignKey("callers.id"), index=True)
    caller_number: Mapped[str | None] = mapped_column(String(20))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=IVR, index=True)
    ivr_choices: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    joined_at: Mapped[float | None] = mapped_column(Float)
    announced_wait: Mapped[float | None] = mapped_column(Float)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    conference: Mapped[str | None] = mapped_column(String(64))
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(40), default="")
    # Decided once when the caller arrives (models.privacy.POLICY_*; None: not recorded).
    recording_policy: Mapped[str | None] = mapped_column(String(20))
    # The first-contact outcome (no repeat call within 24 h), kept when the caller's number
    # is anonymised or erased, so reports stay the same (None: computed from the number).
    resolved_first: Mapped[bool | None] = mapped_column(Boolean)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(16))
    """The language the call is spoken to in (None: its queue's)."""

    caller: Mapped[Caller | None] = relationship()
    queue: Mapped[Queue | None] = relationship()
    agent: Mapped[Agent | None] = relationship()
    legs: Mapped[list[Leg]] = relationship(
        back_populates="interaction", order_by="Leg.id", cascade="all, delete-orphan")

    # Every UPDATE of an interaction is made only if its status is still the one read
    # (compare-and-set; StaleDataError otherwise), so two processes racing on one call,
    # e.g. the caller hanging up as the agent answers, cannot overwrite each other.
    __mapper_args__ = {"version_id_col": status, "version_id_generator": False}


class Leg(Base):
    """One agent's part in an interaction (the first answer, or a transfer)."""

    __tablename__ = "legs"

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), unique=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="answer")
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="dialling")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    interaction: Mapped[Interaction] = relationship(back_populates="legs")
    agent: Mapped[Agent | None] = relationship()


class Assignment(Base):
    """A pairing of an agent with an entry of a line, made by routing.

    While active, `active_agent_id` and `active_entry` are set and unique: the database's
    backstop against one agent or one entry being handed out twice.
    """

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    entry: Mapped[str] = mapped_column(String(64), index=True)
    queue_slug: Mapped[str] = mapped_column(String(40))
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id"))
    joined_at: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(40), default="")
    active_agent_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    active_entry: Mapped[str | None] = mapped_column(String(64), unique=True)

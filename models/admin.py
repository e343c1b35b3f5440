"""What administrators configure beyond the core entities, and the audit trail of every change."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

# Tries at a callback before it is closed as unreachable, and the wait between them.
CALLBACK_MAX_ATTEMPTS = 3
CALLBACK_RETRY_SECONDS = 5 * 60

# A customer's quiet hours (their own local time): no callback rings from the first to the
# second. Equal times mean no quiet hours.
CALLBACK_QUIET_STARTS = time(21, 0)
CALLBACK_QUIET_ENDS = time(8, 0)

# Number types a callback may be placed to, named as phonenumbers.PhoneNumberType names them.
DEFAULT_NUMBER_TYPES = ("MOBILE", "FIXED_LINE", "FIXED_LINE_OR_MOBILE")

# A queue without a policy row of its own follows these.
CALLBACK_DEFAULTS: dict[str, Any] = {
    "attempts": CALLBACK_MAX_ATTEMPTS,
    "spacing_minutes": CALLBACK_RETRY_SECONDS // 60,
    "allowed_countries": [],  # filled in with the line's own region (see admin.config)
    "allowed_number_types": list(DEFAULT_NUMBER_TYPES),
    "sms_booked": "We will call you back soon. You keep your place in line.",
    "sms_unreachable": "We tried to call you back but could not reach you. Please call us again.",
    "quiet_starts": CALLBACK_QUIET_STARTS,
    "quiet_ends": CALLBACK_QUIET_ENDS,
}


class CallbackPolicy(Base):
    """How callbacks of one queue are placed: attempts, spacing, numbers allowed, SMS texts."""

    __tablename__ = "callback_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), unique=True)
    attempts: Mapped[int] = mapped_column(Integer)
    spacing_minutes: Mapped[int] = mapped_column(Integer)
    allowed_countries: Mapped[list[str]] = mapped_column(JSON)
    allowed_number_types: Mapped[list[str]] = mapped_column(JSON)
    sms_booked: Mapped[str] = mapped_column(Text)
    sms_unreachable: Mapped[str] = mapped_column(Text)
    quiet_starts: Mapped[time] = mapped_column(Time, default=CALLBACK_QUIET_STARTS)
    quiet_ends: Mapped[time] = mapped_column(Time, default=CALLBACK_QUIET_ENDS)


class StaffingPlan(Base):
    """Agents planned for one queue in one 30-minute interval of one weekday (local time)."""

    __tablename__ = "staffing_plans"
    __table_args__ = (UniqueConstraint("queue_id", "weekday", "interval_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    interval_start: Mapped[time] = mapped_column(Time)
    agents: Mapped[int] = mapped_column(Integer, default=0)


class ConfigAuditEntry(Base):
    """One change to the line's configuration: who, when, what, and the record before and after.

    Named apart from the console's AuditEntry (agents' accountable actions, table
    audit_entries), which records a different thing.
    """

    __tablename__ = "config_audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[str] = mapped_column(String(80))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)

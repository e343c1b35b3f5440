"""Callers' data under control: conversation recordings, and who may hear them or see numbers.

A queue says how its conversations are recorded (`Queue.recording_mode`) and how long what
is held about callers is kept (`Queue.keep_*_days`); each interaction keeps the recording
policy decided when its caller arrived (`Interaction.recording_policy`), whatever queue a
transfer takes it to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

# How a queue records conversations: not at all, after telling the caller, or only when the
# caller agrees with a key press.
RECORDING_OFF, RECORDING_ANNOUNCE, RECORDING_CONSENT = "off", "announce", "consent"
RECORDING_MODES = (RECORDING_OFF, RECORDING_ANNOUNCE, RECORDING_CONSENT)

# An interaction's recording policy, decided once when the caller arrives: record (told,
# or agreed), or not (the queue records nothing, or the caller did not agree).
POLICY_RECORD, POLICY_NOT = "record", "do-not-record"

# A conversation recording's states: asked of Twilio, running, paused by an agent, paused
# while the caller waits in line away from any agent (held), over (its media at Twilio),
# deleted at Twilio (retention or erasure), or Twilio refused to start it.
REQUESTED, IN_PROGRESS, PAUSED, HELD = "requested", "in-progress", "paused", "held"
COMPLETED, DELETED, FAILED = "completed", "deleted", "failed"
LIVE_RECORDING = (REQUESTED, IN_PROGRESS, PAUSED, HELD)

# The kinds of data a queue keeps for a number of days (None: kept until erased).
RETENTION_FIELDS = ("keep_recordings_days", "keep_voicemails_days", "keep_notes_days",
                    "keep_identity_days")


class ConversationRecording(Base):
    """A recording of a caller's conversation with agents (both channels of the caller's
    call), started through Twilio's REST API once the caller is bridged; one per interaction
    at a time, whatever transfers follow."""

    __tablename__ = "conversation_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=REQUESTED, index=True)
    media_url: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoleAccess(Base):
    """What people of one role may do with callers' data: hear recordings (conversations and
    voicemails) and see full numbers. A role without a row follows ROLE_ACCESS_DEFAULTS."""

    __tablename__ = "role_access"

    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    hear_recordings: Mapped[bool] = mapped_column(Boolean)
    see_numbers: Mapped[bool] = mapped_column(Boolean)


# Until an admin says otherwise: every role may reveal numbers and hear recordings of the
# interactions it may open (as before this setting existed).
ROLE_ACCESS_DEFAULTS = {"hear_recordings": True, "see_numbers": True}


class PrivacyRequest(Base):
    """One export or erasure of what is held about a number: who, when, which number
    (masked), and what it found or changed (counts per kind, never the data itself)."""

    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(20))
    masked_number: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(Text, default="")

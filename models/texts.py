"""Texts (SMS): each text the app sends and what Twilio said of it, and who opted out.

Twilio answers opt-out keywords on long codes itself and refuses later messages to that
number (error 21610) until the customer opts back in; the messaging webhook still receives
the keyword, and `TextOptOut` keeps the app's own record of it.
https://help.twilio.com/hc/en-us/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

# A text's states. SENDING: recorded before the REST call (its key is taken); the rest are
# Twilio's message statuses (https://www.twilio.com/docs/messaging/api/message-resource),
# plus REFUSED (Twilio answered the create with an error: nothing was sent) and SKIPPED
# (the app did not send: the number opted out or cannot receive texts).
SENDING, REFUSED, SKIPPED = "sending", "refused", "skipped"
QUEUED, SENT, DELIVERED = "queued", "sent", "delivered"
FAILED, UNDELIVERED = "failed", "undelivered"
# Statuses an admin must see: the text did not reach the customer.
FAILURE_STATUSES = (FAILED, UNDELIVERED, REFUSED)
# Twilio's final statuses: a later callback with an earlier status does not undo them.
FINAL_STATUSES = (DELIVERED, FAILED, UNDELIVERED, REFUSED, SKIPPED)


class TextMessage(Base):
    """One text the app meant to send: its key (taken before sending, so a retried job
    never sends twice), Twilio's sid once created, and its latest delivery status."""

    __tablename__ = "text_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(20), index=True)
    sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=SENDING, index=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TextOptOut(Base):
    """A number's latest word on texts: opted out (STOP and its kin, or Twilio's 21610)
    or back in (START, UNSTOP, YES)."""

    __tablename__ = "text_opt_outs"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

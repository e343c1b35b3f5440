"""Texts that did not reach the customer, for admins: Twilio's final status and error code.

A message is `queued` when Twilio accepts it and may end `failed` or `undelivered` later
(its status callback says so, with ErrorCode); a create Twilio refused (21610 opted out,
21614 not a mobile number) is shown too.
https://www.twilio.com/docs/messaging/api/message-resource#message-status-values
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ivr import texting
from models.texts import FAILURE_STATUSES

# At most this many failed texts are listed at once.
MAX_FAILURES = 200


@dataclass(frozen=True)
class TextFailure:
    """One text that did not reach its customer (the number shown by its last four digits)."""

    id: int
    callback_id: int | None
    kind: str
    number_ending: str
    status: str
    error_code: int | None
    sid: str | None
    at: datetime


def failures(s: Session, limit: int = MAX_FAILURES) -> list[TextFailure]:
    """The latest texts that failed, were undelivered or were refused, newest first."""
    return [TextFailure(t.id, t.callback_id, t.kind, t.number[-4:], t.status, t.error_code,
                        t.sid, t.updated_at)
            for t in texting.failures(s, FAILURE_STATUSES, limit)]


def summary(s: Session) -> dict[str, int]:
    """How many texts are in each status (queued, sent, delivered, failed, ...)."""
    return texting.counts(s)

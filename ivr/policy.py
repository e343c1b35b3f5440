"""The callback policy an administrator set for a queue, as the callbacks code uses it.

A queue with a policy row follows it: tries, spacing between them, the countries and number
types a callback may go to, the texts of its SMS and the customers' quiet hours. A queue
without one follows the
defaults: CALLBACK_MAX_ATTEMPTS tries CALLBACK_RETRY_SECONDS apart, the countries of the
HOLDLESS_CALLBACK_REGIONS setting (else the line's own region), the ordinary number types,
and the built-in texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from holdless.settings import Settings
from ivr import callback_number
from models.admin import (
    CALLBACK_MAX_ATTEMPTS,
    CALLBACK_QUIET_ENDS,
    CALLBACK_QUIET_STARTS,
    CALLBACK_RETRY_SECONDS,
    DEFAULT_NUMBER_TYPES,
    CallbackPolicy,
)
from models.entities import Interaction, Queue


@dataclass(frozen=True)
class Policy:
    """How one queue's callbacks are placed (a read-only copy, safe outside the session)."""

    attempts: int
    spacing_seconds: float
    countries: tuple[str, ...]
    number_types: tuple[str, ...]
    sms_booked: str = ""
    sms_unreachable: str = ""
    """Empty texts mean the built-in wording."""
    quiet_starts: time = CALLBACK_QUIET_STARTS
    quiet_ends: time = CALLBACK_QUIET_ENDS
    """The customer's quiet hours, in their own local time (equal: none)."""

    def allows(self, number: str) -> bool:
        """Whether a callback to `number` (E.164) is allowed by its countries and types."""
        row = CallbackPolicy(allowed_countries=list(self.countries),
                             allowed_number_types=list(self.number_types))
        return number_allowed(row, number)


def default(settings: Settings) -> Policy:
    """The policy of a queue whose administrator set none."""
    regions = callback_number.allowed_regions(settings.callback_regions, settings.default_region)
    return Policy(CALLBACK_MAX_ATTEMPTS, float(CALLBACK_RETRY_SECONDS), regions,
                  DEFAULT_NUMBER_TYPES)


def for_queue(s: Session, settings: Settings, queue_id: int | None) -> Policy:
    """The policy of the queue `queue_id` (its row, or the defaults)."""
    row = None if queue_id is None else s.scalar(
        select(CallbackPolicy).where(CallbackPolicy.queue_id == queue_id))
    if row is None:
        return default(settings)
    return Policy(row.attempts, row.spacing_minutes * 60.0,
                  tuple(c.upper() for c in row.allowed_countries),
                  tuple(row.allowed_number_types), row.sms_booked, row.sms_unreachable,
                  row.quiet_starts, row.quiet_ends)


def for_slug(s: Session, settings: Settings, slug: str) -> Policy:
    """The policy of the queue named `slug`."""
    return for_queue(s, settings, s.scalar(select(Queue.id).where(Queue.slug == slug)))


def for_call(s: Session, settings: Settings, call_sid: str) -> Policy:
    """The policy of the queue the call `call_sid` is waiting in (defaults when none)."""
    queue_id = s.scalar(select(Interaction.queue_id).where(Interaction.call_sid == call_sid))
    return for_queue(s, settings, queue_id)

def number_allowed(policy: CallbackPolicy, number: str) -> bool:
    """Whether a callback to `number` (E.164) is allowed by the policy's countries and types."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(parsed):
        return False
    kind = phonenumbers.number_type(parsed)
    names = {n for n in policy.allowed_number_types
             if getattr(phonenumbers.PhoneNumberType, n, None) == kind}
    region = phonenumbers.region_code_for_number(parsed)
    return bool(names) and region in policy.allowed_countries

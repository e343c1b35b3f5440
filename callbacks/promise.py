"""What a callback can honestly promise: "when it is your turn" today, or after we reopen.

A callback keeps its place in line overnight, so one that cannot be reached before the
queue closes is called first when it opens again; the offer and the confirmation say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ivr import directory, hours, wording
from models.entities import Queue
from queueing.estimate import WaitEstimate


@dataclass(frozen=True)
class Promise:
    """When the callback should come, and how the caller is told."""

    expected_at: datetime
    phrase: str
    after_opening: bool = False


def promise(s: Session, queue: Queue, wait: WaitEstimate, now: datetime) -> Promise:
    """The callback's expected time: within today's hours, or carried over to the opening."""
    due = now + timedelta(seconds=wait.seconds)
    in_hours = Promise(due, wording.callback_wait_phrase(wait))
    if not queue.hours:
        return in_hours
    schedule = directory.schedule(s, queue)
    closes = hours.closing_time(schedule, now)
    if closes is None or due <= closes:
        return in_hours
    opening = hours.next_opening(schedule, closes)
    if opening is None:
        return in_hours
    when = wording.opening_phrase(opening, now.astimezone(opening.tzinfo))
    return Promise(opening + (due - closes), f"after we open again {when}", after_opening=True)


def offer_sentence(s: Session, queue: Queue, wait: WaitEstimate, now: datetime) -> str:
    """The callback offer a holding caller hears, or "" when the wait is short enough."""
    if wait.seconds <= queue.callback_threshold_seconds:
        return ""
    kept = promise(s, queue, wait, now)
    if kept.after_opening:
        return f"Press 1 to be called back {kept.phrase}, keeping your place in line."
    return wording.CALLBACK_OFFER

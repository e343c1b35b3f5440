"""Callbacks as the console shows them, without Flask: which callback attempt an agent is on
now, "callback, attempt N of M" with its reference and voicemail recording, and the
caller's callback history (requested, attempts, outcomes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.callbacks import Callback, CallbackAttempt
from models.entities import Agent, Interaction

HISTORY_LIMIT = 10
# Attempt outcomes while the agent is still on the attempt (rung, or talking).
LIVE_OUTCOMES = ("", "connected")
FINISHED = "completed"


def iso(moment: datetime | None) -> str | None:
    """An ISO 8601 UTC timestamp, or None."""
    return None if moment is None else moment.isoformat()


def latest_attempt(s: Session, agent_id: int) -> CallbackAttempt | None:
    """The newest callback attempt the agent was rung for, or None."""
    return s.scalar(select(CallbackAttempt).where(CallbackAttempt.agent_id == agent_id)
                    .order_by(CallbackAttempt.id.desc()).limit(1))


def phase(attempt: CallbackAttempt, in_wrap_up: bool) -> str | None:
    """Where the agent is with the attempt: ringing, connected, wrap-up, or None (over)."""
    if attempt.callback.interaction_id is None:
        return None
    if attempt.outcome in LIVE_OUTCOMES:
        return "ringing" if attempt.agent_answered_at is None else "connected"
    if attempt.outcome == FINISHED and in_wrap_up:
        return "wrap-up"
    return None


def handled_by(s: Session, interaction_id: int, agent_id: int, since: datetime) -> bool:
    """Whether the agent was rung for a callback of this interaction since `since`."""
    return s.scalar(select(CallbackAttempt.id).join(Callback).where(
        Callback.interaction_id == interaction_id, CallbackAttempt.agent_id == agent_id,
        CallbackAttempt.started_at >= since).limit(1)) is not None


def summary(s: Session, interaction: Interaction, viewer_id: int) -> dict[str, Any] | None:
    """The callback this interaction asked for (the newest), with the attempt the viewer is
    on (or the number made so far), or None when it asked for none."""
    callback = s.scalar(select(Callback).where(Callback.interaction_id == interaction.id)
                        .order_by(Callback.id.desc()).limit(1))
    if callback is None:
        return None
    mine = next((a for a in reversed(callback.tries) if a.agent_id == viewer_id
                 and a.outcome in LIVE_OUTCOMES), None)
    return {
        "id": callback.id, "reference": callback.reference, "status": callback.status,
        "queue": callback.queue.name, "time_zone": callback.queue.time_zone,
        "requested_at": iso(callback.created_at),
        "attempt": mine.number if mine is not None else callback.attempts,
        "max_attempts": callback.max_attempts, "on_attempt_now": mine is not None,
        "recording_url": recording_path(callback, interaction.id),
    }


def recording_path(callback: Callback, via: int) -> str | None:
    """Where a signed-in agent hears the callback's message: through the app, which fetches
    it with the account's credentials (never Twilio's link), or None without a message."""
    if not callback.recording_url:
        return None
    return f"/api/callbacks/{callback.id}/recording?via={via}"


def history(s: Session, number: str | None, via: int) -> list[dict[str, Any]]:
    """The caller's callbacks, newest first: when requested, each attempt and its outcome."""
    if not number:
        return []
    rows = s.scalars(select(Callback).where(Callback.number == number)
                     .order_by(Callback.id.desc()).limit(HISTORY_LIMIT))
    return [_one(s, row, via) for row in rows]


def _one(s: Session, callback: Callback, via: int) -> dict[str, Any]:
    ids = {a.agent_id for a in callback.tries if a.agent_id is not None}
    names = {a.id: a.name for a in s.scalars(select(Agent).where(Agent.id.in_(ids)))}
    return {
        "id": callback.id, "reference": callback.reference, "queue": callback.queue.name,
        "time_zone": callback.queue.time_zone, "status": callback.status,
        "requested_at": iso(callback.created_at),
        "interaction_id": callback.interaction_id, "max_attempts": callback.max_attempts,
        "recording_url": recording_path(callback, via),
        "attempts": [{"number": a.number, "started_at": iso(a.started_at),
                      "agent": names.get(a.agent_id or 0), "outcome": a.outcome or "ringing"}
                     for a in callback.tries],
    }

"""Not ready: an agent signed in but taking no calls, for a reason an admin configured
(break, lunch, training, meeting...); and how long agents spent not ready, by reason."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.entities import AVAILABLE, NOT_READY, OFFLINE, WRAP_UP
from models.presence import NOT_READY_REASON_MAX, NotReadyReason, PresenceSpell
from queueing import agents

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

# An agent may step away from any state but a call (busy) or an offer being rung.
NOT_READY_FROM = (AVAILABLE, NOT_READY, OFFLINE, WRAP_UP)


class BadReason(ValueError):
    """Not a not-ready reason the contact center uses; the message lists the ones it does."""


def reasons(s: Session) -> list[str]:
    """The reasons an agent may choose now, in the admins' order."""
    return list(s.scalars(select(NotReadyReason.name).where(NotReadyReason.active)
                          .order_by(NotReadyReason.position, NotReadyReason.id)))


def go_not_ready(rt: Runtime, agent_id: int, reason: str) -> str:
    """Make the agent not ready for `reason` (one of `reasons`); StateRefused on a call."""
    with rt.db.session() as s:
        allowed = reasons(s)
    if reason not in allowed:
        raise BadReason(f"reason: choose one of {', '.join(allowed) or '(none configured)'}")
    agents.change(rt, agent_id, NOT_READY, NOT_READY_FROM, reset_misses=True, not_ready=reason)
    return NOT_READY


def save_reasons(s: Session, names: list[str]) -> list[str]:
    """Make `names` the reasons agents choose from, in this order (a reason left out is
    retired: kept for the reports, no longer offered). BadReason on a blank, too long or
    repeated name."""
    cleaned = [n.strip() for n in names]
    for name in cleaned:
        if not name or len(name) > NOT_READY_REASON_MAX:
            raise BadReason(f"reasons: each is 1 to {NOT_READY_REASON_MAX} characters")
    if len({n.lower() for n in cleaned}) != len(cleaned):
        raise BadReason("reasons: each reason once")
    rows = {r.name: r for r in s.scalars(select(NotReadyReason))}
    for row in rows.values():
        row.active = False
    for position, name in enumerate(cleaned):
        row = rows.get(name) or NotReadyReason(name=name)
        row.position, row.active = position, True
        s.add(row)
    s.flush()
    return cleaned


def seconds_by_reason(s: Session, start: datetime, end: datetime,
                      agent_ids: list[int] | None = None) -> dict[str, float]:
    """Seconds agents spent not ready between `start` and `end`, by reason (spells still
    open count up to `end`); only `agent_ids`' when given."""
    query = select(PresenceSpell).where(
        PresenceSpell.state == NOT_READY, PresenceSpell.started_at < end,
        or_(PresenceSpell.ended_at.is_(None), PresenceSpell.ended_at > start))
    if agent_ids is not None:
        query = query.where(PresenceSpell.agent_id.in_(agent_ids))
    totals: dict[str, float] = defaultdict(float)
    for spell in s.scalars(query):
        until = min(spell.ended_at or end, end)
        totals[spell.reason] += max(0.0, (until - max(spell.started_at, start)).total_seconds())
    return dict(totals)


__all__ = ["NOT_READY", "NOT_READY_REASON_MAX", "OFFLINE", "BadReason", "go_not_ready",
           "reasons", "save_reasons", "seconds_by_reason"]

"""Who may change the line's configuration, and the audit entry every change writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from holdless import clock
from models.admin import ConfigAuditEntry
from models.entities import ROLE_ADMIN, Agent


class NotAllowed(PermissionError):
    """The person asking is not an administrator (a 403 at the edge)."""


@dataclass(frozen=True)
class Actor:
    """The administrator making a change: an admin agent, or the operator at the CLI."""

    id: int | None
    name: str

    @classmethod
    def admin(cls, agent: Agent) -> Actor:
        """The actor for a signed-in agent; NotAllowed unless their role is admin."""
        if agent.role != ROLE_ADMIN:
            raise NotAllowed(f"{agent.username} is not an administrator")
        return cls(agent.id, agent.username)

    @classmethod
    def operator(cls, name: str = "cli") -> Actor:
        """The operator with shell access (the `holdless admin` command)."""
        return cls(None, name)


def plain(value: Any) -> Any:
    """`value` as JSON can hold it (dates and times in ISO form, HH:MM for clock times)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def snapshot(row: Any, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """The column values of a model row as a JSON-safe dict."""
    return {attr.key: plain(getattr(row, attr.key)) for attr in inspect(row).mapper.column_attrs
            if attr.key not in leave_out}


def record(s: Session, actor: Actor, action: str, entity: str, entity_id: object,
           before: Any, after: Any) -> ConfigAuditEntry:
    """Add one audit entry to the change's own transaction (committed with it or not at all)."""
    entry = ConfigAuditEntry(at=clock.now(), actor_id=actor.id, actor=actor.name, action=action,
                       entity=entity, entity_id=str(entity_id), before=plain(before),
                       after=plain(after))
    s.add(entry)
    s.flush()
    return entry


def history(s: Session, entity: str | None = None, limit: int = 100) -> list[ConfigAuditEntry]:
    """The newest audit entries first, of one kind of entity or of all."""
    query = select(ConfigAuditEntry).order_by(ConfigAuditEntry.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(ConfigAuditEntry.entity == entity)
    return list(s.scalars(query))

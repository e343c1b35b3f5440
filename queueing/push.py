"""Live updates pushed to pages: the domain publishes, web processes stream them.

An update is a topic and a small JSON payload sent to an *audience*: one agent
("agent:7"), everyone looking at one interaction ("interaction:12"), every console
("presence") or the supervisors' board ("board"). `publish` sends it through Redis
pub/sub; each web process listens once and serves the updates to its open pages as
server-sent events (webhooks/push.py). Nothing is kept: a page that (re)connects
fetches its whole state once, then applies the updates as they come.

`watch_rows` publishes, after every commit, a "changed" update to the agents and the
interactions whose rows the commit wrote (legs, notes, transfers, wrap-ups, offers,
callback attempts), so no domain function has to remember to say it.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

from queueing import keys

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

PRESENCE = "presence"  # every console: colleagues' live states (transfer targets)
BOARD = "board"  # the supervisors' board
CHANGED = "changed"  # the topic of a row change: fetch the state again
# Tables whose changes the supervisors' board shows (agents, calls, callbacks, queues,
# supervisors on calls, escalations waiting).
BOARD_TABLES = frozenset({"agents", "interactions", "legs", "assignments", "callbacks",
                          "queues", "opening_hours", "monitoring_sessions",
                          "escalation_waits"})
_PENDING = "holdless_push_pending"


def agent_audience(agent_id: int) -> str:
    """The audience of one agent's console."""
    return f"agent:{agent_id}"


def interaction_audience(interaction_id: int) -> str:
    """The audience of every page showing one interaction."""
    return f"interaction:{interaction_id}"


def message(topic: str, data: dict[str, Any]) -> str:
    """The wire form of one update."""
    return json.dumps({"topic": topic, "data": data}, separators=(",", ":"))


def publish(rt: Runtime, audience: str, topic: str, data: dict[str, Any]) -> None:
    """Send `topic` with `data` to the pages of `audience` now open (none: nothing happens).
    A live update is a courtesy: Redis refusing it never fails the caller's action."""
    try:
        rt.live.publish(keys.push_channel(audience), message(topic, data))
    except redis.RedisError as exc:
        log.warning("live update to %s not sent (%s)", audience, type(exc).__name__)


def audiences_of(row: object) -> set[tuple[str, str, str]]:
    """(audience, topic, table) of the updates a written row calls for."""
    table = getattr(row, "__tablename__", "")
    found: set[tuple[str, str, str]] = set()
    if table == "agents":
        found.add((agent_audience(row.id), CHANGED, table))  # type: ignore[attr-defined]
        return found
    if table == "interactions":
        found.add((interaction_audience(row.id), CHANGED, table))  # type: ignore[attr-defined]
    for name in ("agent_id", "active_agent_id", "to_agent_id"):
        agent_id = getattr(row, name, None)
        if isinstance(agent_id, int):
            found.add((agent_audience(agent_id), CHANGED, table))
    interaction_id = getattr(row, "interaction_id", None)
    if isinstance(interaction_id, int):
        found.add((interaction_audience(interaction_id), CHANGED, table))
    return found


def watch_rows(rt: Runtime) -> None:
    """After each commit of `rt`'s database, publish "changed" to the agents and
    interactions its rows belong to, and each agent's new state to every console."""

    def flushed(session: Session, _flush: UOWTransaction) -> None:
        pending = session.info.setdefault(_PENDING, set())
        for row in (*session.new, *session.dirty, *session.deleted):
            pending.update(audiences_of(row))
            table = getattr(row, "__tablename__", "")
            if table in BOARD_TABLES:
                pending.add((BOARD, CHANGED, table))
            if getattr(row, "__tablename__", "") == "agents":
                pending.add((PRESENCE, "presence", f"{row.id}|{row.state}"))

    def committed(session: Session) -> None:
        for audience, topic, detail in sorted(session.info.pop(_PENDING, set())):
            if topic == "presence":
                agent_id, _, state = detail.partition("|")
                publish(rt, audience, topic, {"id": int(agent_id), "state": state})
            else:
                publish(rt, audience, topic, {"table": detail})

    def rolled_back(session: Session) -> None:
        session.info.pop(_PENDING, None)

    event.listen(rt.db.sessions, "after_flush", flushed)
    event.listen(rt.db.sessions, "after_commit", committed)
    event.listen(rt.db.sessions, "after_rollback", rolled_back)

"""Optional overflow: after N seconds waiting, an entry may also be taken by the agents of a
named overflow queue, keeping its place in its own line.

The database holds each queue's `overflow_queue` and `overflow_after_seconds`; Redis holds
them for the routing script (one hash, queueing.keys.overflow), rewritten whole after every
change to the queues and when the lines are rebuilt after a Redis loss.
"""

from __future__ import annotations

import redis
from sqlalchemy import select

from models.base import Database
from models.entities import Queue
from queueing import keys


def routes(db: Database) -> dict[str, str]:
    """Every active overflow: source queue slug → "target slug|seconds"."""
    with db.session() as s:
        rows = s.execute(select(Queue.slug, Queue.overflow_queue, Queue.overflow_after_seconds)
                         .where(Queue.overflow_queue.is_not(None), Queue.active.is_(True)))
        return {slug: f"{target}|{after or 0}" for slug, target, after in rows
                if target and target != slug}


def publish(r: redis.Redis, db: Database) -> None:
    """Write the overflow routes routing follows (all of them, in one transaction)."""
    found = routes(db)
    pipe = r.pipeline(transaction=True)
    pipe.delete(keys.overflow())
    if found:
        pipe.hset(keys.overflow(), mapping=found)  # type: ignore[arg-type]
    pipe.execute()


def sources(r: redis.Redis) -> list[str]:
    """The queues whose waiting entries may overflow (so routing them again as time passes
    may hand an entry that has now waited long enough to an overflow queue's agent)."""
    return sorted(str(q) for q in r.hkeys(keys.overflow()))


def overflows(r: redis.Redis, queue: str) -> bool:
    """Whether `queue`'s entries may overflow to another queue."""
    return bool(r.hexists(keys.overflow(), queue))

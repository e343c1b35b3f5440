"""Recent figures per queue that feed the wait estimate (kept in Redis, capped)."""

from __future__ import annotations

import redis

from queueing import keys
from queueing.estimate import QueueStats
from queueing.limits import STATS_WINDOW
from queueing.presence import Presence


def record_handle_time(r: redis.Redis, queue: str, seconds: float) -> None:
    """Remember how long one call of `queue` occupied its agent (talk plus wrap-up)."""
    pipe = r.pipeline()
    pipe.lpush(keys.handle_times(queue), f"{seconds:.1f}")
    pipe.ltrim(keys.handle_times(queue), 0, STATS_WINDOW - 1)
    pipe.execute()


def record_outcome(r: redis.Redis, queue: str, waited: float | None) -> None:
    """Remember how a waiting caller left: answered after `waited` seconds, or abandoned (None)."""
    pipe = r.pipeline()
    pipe.lpush(keys.outcomes(queue), "a" if waited is None else f"w:{waited:.1f}")
    pipe.ltrim(keys.outcomes(queue), 0, STATS_WINDOW - 1)
    pipe.execute()


def queue_stats(r: redis.Redis, presence: Presence, queue: str) -> QueueStats:
    """What the estimator may know about `queue` right now."""
    handle = [float(x) for x in reversed(r.lrange(keys.handle_times(queue), 0, -1))]  # type: ignore[arg-type]
    outcomes = list(reversed(r.lrange(keys.outcomes(queue), 0, -1)))  # type: ignore[arg-type]
    waits = [float(o[2:]) for o in outcomes if o.startswith("w:")]
    abandon_rate = (len(outcomes) - len(waits)) / len(outcomes) if outcomes else 0.0
    return QueueStats(
        agents_serving=presence.staffed(queue),
        agents_available=presence.available(queue),
        handle_times=tuple(handle),
        abandon_rate=abandon_rate,
        recent_waits=tuple(waits),
    )

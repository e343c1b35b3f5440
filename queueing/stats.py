"""Recent figures per queue that feed the wait estimate (kept in Redis, capped)."""

from __future__ import annotations

from typing import Any, cast

import redis

from queueing import keys
from queueing.estimate import QueueStats, fold_handle_time
from queueing.limits import OUTCOMES_WINDOW, STATS_WINDOW
from queueing.presence import Presence


def record_handle_time(r: redis.Redis, queue: str, seconds: float) -> None:
    """Remember how long one call of `queue` occupied its agent (talk plus wrap-up)."""
    pipe = r.pipeline()
    pipe.lpush(keys.handle_times(queue), f"{seconds:.1f}")
    pipe.ltrim(keys.handle_times(queue), 0, STATS_WINDOW - 1)
    pipe.execute()
    r.transaction(lambda p: _fold(p, queue, seconds), keys.handle_average(queue))


def _fold(pipe: redis.client.Pipeline, queue: str, seconds: float) -> None:
    raw = cast("dict[str, Any]", pipe.hgetall(keys.handle_average(queue)))
    average = float(raw["average"]) if raw else None
    new_average, calls = fold_handle_time(average, int(raw.get("calls", 0)) if raw else 0, seconds)
    pipe.multi()
    pipe.hset(keys.handle_average(queue), mapping={"average": repr(new_average), "calls": calls})


def record_outcome(r: redis.Redis, queue: str, waited: float, abandoned: bool = False) -> None:
    """Remember how a waiting caller left: answered after `waited` seconds, or gave up then."""
    pipe = r.pipeline()
    pipe.lpush(keys.outcomes(queue), f"{'a' if abandoned else 'w'}:{max(waited, 0.0):.1f}")
    pipe.ltrim(keys.outcomes(queue), 0, OUTCOMES_WINDOW - 1)
    pipe.execute()


def queue_stats(r: redis.Redis, presence: Presence, queue: str) -> QueueStats:
    """What the estimator may know about `queue` right now."""
    recent = cast("list[str]", r.lrange(keys.handle_times(queue), 0, -1))
    handle = [float(x) for x in reversed(recent)]
    outcomes = list(reversed(cast("list[str]", r.lrange(keys.outcomes(queue), 0, -1))))
    waits = [float(o[2:]) for o in outcomes if o.startswith("w:")]
    gave_up = [float(o[2:]) for o in outcomes if o.startswith("a:")]
    average = cast("dict[str, str]", r.hgetall(keys.handle_average(queue)))
    return QueueStats(
        agents_serving=presence.staffed(queue),
        agents_available=presence.available(queue),
        handle_times=tuple(handle),
        abandon_rate=len(gave_up) / len(outcomes) if outcomes else 0.0,
        recent_waits=tuple(waits[-STATS_WINDOW:]),
        handle_time_average=float(average["average"]) if average else None,
        handle_time_calls=int(average.get("calls", 0)) if average else 0,
        recent_abandon_waits=tuple(gave_up[-STATS_WINDOW:]),
    )

"""Recent figures per queue that feed the wait estimate (kept in Redis, capped).

Every change to a queue's figures also sets its version key to a fresh token, so each
process can keep the figures it last read (parsed) and, on every webhook, ask Redis only
for the version and the live agent counts: one small round trip instead of ~250 values.
"""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass
from typing import Any, cast

import redis

from queueing import keys
from queueing.estimate import QueueStats, fold_handle_time
from queueing.limits import OUTCOMES_WINDOW, STATS_WINDOW
from queueing.presence import Presence


def _new_version() -> str:
    return uuid.uuid4().hex


def record_handle_time(r: redis.Redis, queue: str, seconds: float) -> None:
    """Remember how long one call of `queue` occupied its agent (talk plus wrap-up)."""
    pipe = r.pipeline()
    pipe.lpush(keys.handle_times(queue), f"{seconds:.1f}")
    pipe.ltrim(keys.handle_times(queue), 0, STATS_WINDOW - 1)
    pipe.set(keys.stats_version(queue), _new_version())
    pipe.execute()
    r.transaction(lambda p: _fold(p, queue, seconds), keys.handle_average(queue))


def _fold(pipe: redis.client.Pipeline, queue: str, seconds: float) -> None:
    raw = cast("dict[str, Any]", pipe.hgetall(keys.handle_average(queue)))
    average = float(raw["average"]) if raw else None
    new_average, calls = fold_handle_time(average, int(raw.get("calls", 0)) if raw else 0, seconds)
    pipe.multi()
    pipe.hset(keys.handle_average(queue), mapping={"average": repr(new_average), "calls": calls})
    pipe.set(keys.stats_version(queue), _new_version())


def prime_handle_average(r: redis.Redis, queue: str, average: float, calls: int) -> bool:
    """Start the queue's long-run handle-time average from history (`average` over
    `calls` past calls) when it has no handle figure at all; False when it had one."""
    with r.pipeline() as pipe:
        try:
            pipe.watch(keys.handle_average(queue), keys.handle_times(queue))
            if pipe.exists(keys.handle_average(queue), keys.handle_times(queue)):
                return False
            pipe.multi()
            pipe.hset(keys.handle_average(queue),
                      mapping={"average": repr(average), "calls": calls})
            pipe.set(keys.stats_version(queue), _new_version())
            pipe.execute()
        except redis.WatchError:  # a call was handled meanwhile: its figure wins
            return False
    return True


def has_handle_figures(r: redis.Redis, queue: str) -> bool:
    """Whether Redis holds any handle figure of `queue` (recent times or an average)."""
    return bool(r.exists(keys.handle_average(queue), keys.handle_times(queue)))


def record_outcome(r: redis.Redis, queue: str, waited: float, abandoned: bool = False) -> None:
    """Remember how a waiting caller left: answered after `waited` seconds, or gave up then."""
    pipe = r.pipeline()
    pipe.lpush(keys.outcomes(queue), f"{'a' if abandoned else 'w'}:{max(waited, 0.0):.1f}")
    pipe.ltrim(keys.outcomes(queue), 0, OUTCOMES_WINDOW - 1)
    pipe.set(keys.stats_version(queue), _new_version())
    pipe.execute()


@dataclass(frozen=True)
class _Figures:
    """A queue's recorded figures as read at one version (the slow-changing part)."""

    handle_times: tuple[float, ...]
    abandon_rate: float
    recent_waits: tuple[float, ...]
    handle_time_average: float | None
    handle_time_calls: int
    recent_abandon_waits: tuple[float, ...]


# Per Redis connection: queue → (version token, figures read at that version).
_read: weakref.WeakKeyDictionary[redis.Redis, dict[str, tuple[str, _Figures]]] = (
    weakref.WeakKeyDictionary())


def queue_stats(r: redis.Redis, presence: Presence, queue: str) -> QueueStats:
    """What the estimator may know about `queue` right now.

    The agents' counts (which `presence` keeps) are read on every call; the recorded
    figures only when their version changed since this process last read them.
    """
    pipe = r.pipeline(transaction=False)
    pipe.get(keys.stats_version(queue))
    pipe.scard(keys.staffed(queue))
    pipe.zcard(keys.idle(queue))
    version, staffed, idle = pipe.execute()
    return stats_at(r, queue, version, int(staffed), int(idle))


def stats_at(r: redis.Redis, queue: str, version: str | None, staffed: int,
             idle: int) -> QueueStats:
    """`queue_stats` from a figures version and agent counts already read (e.g. by
    `HoldView`'s script): Redis is asked again only when the figures changed."""
    known = _read.setdefault(r, {}).get(queue)
    if version is not None and known is not None and known[0] == version:
        figures = known[1]
    else:
        figures = _read_figures(r, queue)
    return QueueStats(agents_serving=int(staffed), agents_available=int(idle),
                      **figures.__dict__)


def _read_figures(r: redis.Redis, queue: str) -> _Figures:
    """Read (atomically, with their version) and remember a queue's recorded figures."""
    pipe = r.pipeline(transaction=True)
    pipe.get(keys.stats_version(queue))
    pipe.lrange(keys.handle_times(queue), 0, -1)
    pipe.lrange(keys.outcomes(queue), 0, -1)
    pipe.hgetall(keys.handle_average(queue))
    version, recent, outcomes_raw, average = cast("list[Any]", pipe.execute())
    outcomes = list(reversed(cast("list[str]", outcomes_raw)))
    waits = [float(o[2:]) for o in outcomes if o.startswith("w:")]
    gave_up = [float(o[2:]) for o in outcomes if o.startswith("a:")]
    figures = _Figures(
        handle_times=tuple(float(x) for x in reversed(recent)),
        abandon_rate=len(gave_up) / len(outcomes) if outcomes else 0.0,
        recent_waits=tuple(waits[-STATS_WINDOW:]),
        handle_time_average=float(average["average"]) if average else None,
        handle_time_calls=int(average.get("calls", 0)) if average else 0,
        recent_abandon_waits=tuple(gave_up[-STATS_WINDOW:]),
    )
    if version is not None:
        _read.setdefault(r, {})[queue] = (str(version), figures)
    return figures

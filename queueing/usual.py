"""What is usual for a queue at this time of day, learned from its own history.

"Unusually busy" means busier than the queue usually is for that weekday and half-hour:
the usual wait is the median wait of the queue's answered callers who joined in the same
half-hour of the same weekday over the last `HISTORY_WEEKS` weeks (local to the queue's
time zone). With fewer than `MIN_HISTORY_CALLS` such callers the history is too thin and
the queue's fixed busy threshold decides instead (cold start).
"""

from __future__ import annotations

import statistics
import time
import weakref
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, or_, select

from models.entities import Interaction, Leg

# Weeks of history the usual wait of a weekday and half-hour is learned from.
HISTORY_WEEKS = 4
# Fewer answered callers than this in those half-hours: history too thin (cold start).
MIN_HISTORY_CALLS = 20
# Length of the time-of-day slot the usual wait is learned for (seconds).
SLOT_SECONDS = 30 * 60
# A wait is unusually long when it exceeds the usual one by this factor...
BUSY_FACTOR = 1.5
# ...and by at least this many seconds (so a queue usually answered at once is not
# "unusually busy" at a minute).
BUSY_MIN_EXCESS_SECONDS = 120.0
# How long (real seconds) a process trusts a usual wait it computed.
USUAL_CACHE_SECONDS = 300.0

# Days of a queue's answered calls its first estimate of a day starts from.
PRIOR_HANDLE_DAYS = 14
# Fewer answered calls than this in those days: no history to start from.
MIN_PRIOR_HANDLE_CALLS = 10
# The history counts as at most this many calls: yesterday's handle times are a good
# start, not certainty (its relative error stays near 1/sqrt of this).
PRIOR_HANDLE_WEIGHT = 25

# Per engine: (queue id, slot start) → (monotonic time read, usual wait or None).
_cache: weakref.WeakKeyDictionary[Engine, dict[tuple[int, float], tuple[float, float | None]]] = (
    weakref.WeakKeyDictionary())


def slot_start(now: datetime, zone: str) -> datetime:
    """The start of the half-hour (local to `zone`) that `now` falls in."""
    local = now.astimezone(ZoneInfo(zone))
    return local.replace(minute=local.minute - local.minute % 30, second=0, microsecond=0)


def usual_wait(engine: Engine, queue_id: int, zone: str, now: datetime) -> float | None:
    """The queue's usual wait (seconds) for the weekday and half-hour of `now`; None when
    its history there is thinner than `MIN_HISTORY_CALLS` answered callers."""
    start = slot_start(now, zone)
    key = (queue_id, start.timestamp())
    known = _cache.setdefault(engine, {}).get(key)
    if known is not None and time.monotonic() - known[0] < USUAL_CACHE_SECONDS:
        return known[1]
    waits = _past_waits(engine, queue_id, start)
    usual = statistics.median(waits) if len(waits) >= MIN_HISTORY_CALLS else None
    _cache[engine][key] = (time.monotonic(), usual)
    return usual


def _past_waits(engine: Engine, queue_id: int, start: datetime) -> list[float]:
    """Waits of answered callers who joined in the same local half-hour of past weeks."""
    windows = []
    for weeks in range(1, HISTORY_WEEKS + 1):
        # Local wall-clock arithmetic, then back to an instant (right across DST changes).
        begins = (start - timedelta(weeks=weeks)).replace(tzinfo=start.tzinfo).timestamp()
        windows.append(and_(Interaction.joined_at >= begins,
                            Interaction.joined_at < begins + SLOT_SECONDS))
    query = select(Interaction.wait_seconds).where(
        Interaction.queue_id == queue_id, Interaction.wait_seconds.is_not(None), or_(*windows))
    with engine.connect() as conn:
        return [float(w) for w in conn.execute(query).scalars() if w is not None]


def unusually_busy(wait_seconds: float, usual: float | None, fallback_threshold: float) -> bool:
    """Whether a wait is unusually long: beyond the usual one by `BUSY_FACTOR` and
    `BUSY_MIN_EXCESS_SECONDS`, or (no usual wait known) beyond the fixed threshold."""
    if usual is None:
        return wait_seconds > fallback_threshold
    return wait_seconds > max(usual * BUSY_FACTOR, usual + BUSY_MIN_EXCESS_SECONDS)


def recent_handle(engine: Engine, queue_id: int, now: datetime,
                  wrap_up_seconds: float) -> tuple[float, int] | None:
    """The queue's average handle time (talk plus wrap-up) over its answered calls of the
    last `PRIOR_HANDLE_DAYS` days, and how many calls it counts as (at most
    `PRIOR_HANDLE_WEIGHT`); None with fewer than `MIN_PRIOR_HANDLE_CALLS` calls."""
    since = now - timedelta(days=PRIOR_HANDLE_DAYS)
    query = select(Leg.answered_at, Leg.ended_at).join(Interaction).where(
        Interaction.queue_id == queue_id, Leg.answered_at.is_not(None),
        Leg.ended_at.is_not(None), Leg.answered_at >= since, Leg.answered_at < now)
    with engine.connect() as conn:
        talks = [(ended - answered).total_seconds() for answered, ended in conn.execute(query)
                 if answered is not None and ended is not None]
    if len(talks) < MIN_PRIOR_HANDLE_CALLS:
        return None
    return statistics.fmean(talks) + wrap_up_seconds, min(len(talks), PRIOR_HANDLE_WEIGHT)

"""Estimated wait for a caller at a given place in line.

The interface the rest of Holdless uses is `estimate_wait(position, stats)`; the
statistics come from `queueing.stats`. Keep the interface; improve the inside.
"""

from __future__ import annotations

from dataclasses import dataclass

# With no history yet, assume this average handle time (seconds, talk + wrap-up).
FALLBACK_HANDLE_SECONDS = 240.0


@dataclass(frozen=True)
class QueueStats:
    """What the estimator may know about one queue right now."""

    agents_serving: int
    """Agents signed in for this queue (available, busy or in wrap-up)."""
    agents_available: int
    """Agents free to take a call this instant."""
    handle_times: tuple[float, ...] = ()
    """Recent handle times in seconds (talk plus wrap-up), oldest first."""
    abandon_rate: float = 0.0
    """Share of recent callers of this queue who hung up while waiting."""
    recent_waits: tuple[float, ...] = ()
    """Recent actual waits of answered callers in seconds, oldest first."""


@dataclass(frozen=True)
class WaitEstimate:
    """An expected wait with an honest range around it (seconds)."""

    seconds: float
    low: float
    high: float


def mean_handle_seconds(stats: QueueStats) -> float:
    """The average handle time learned from recent calls, or the fallback."""
    if not stats.handle_times:
        return FALLBACK_HANDLE_SECONDS
    return sum(stats.handle_times) / len(stats.handle_times)


def estimate_wait(position: int, stats: QueueStats) -> WaitEstimate:
    """Expected wait for the caller at 1-based `position` in line."""
    if position <= stats.agents_available:
        return WaitEstimate(0.0, 0.0, 0.0)
    agents = max(stats.agents_serving, 1)
    ahead = max(position - stats.agents_available, 0)
    survive = 1.0 - min(max(stats.abandon_rate, 0.0), 0.9) / 2
    seconds = ahead * survive * mean_handle_seconds(stats) / agents
    return WaitEstimate(seconds, seconds * 0.75, seconds * 1.35)

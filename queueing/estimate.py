"""Estimated wait for a caller at a given place in line.

The interface the rest of Holdless uses is `estimate_wait(position, stats)`; the
statistics come from `queueing.stats`. Keep the interface; improve the inside.

The model is a queue-length predictor (Erlang A seen from one caller): with every agent
busy, the caller at place k needs k departures from the line ahead of them. While m
callers are ahead, the line moves at the agents' completion rate (agents signed in over
the learned average handle time) plus m times the rate at which a waiting caller gives
up. The expected wait is the sum of those phase means; the spoken range comes from the
same phases (their variance plus the uncertainty of the learned handle time) and is
meant to hold the actual wait of `COVERAGE_TARGET` of callers who stay on the line.
How well it does is measured in `bench/ewt.py` (see docs/wait-estimates.md).
"""

from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass

# With no history yet, assume this average handle time (seconds, talk + wrap-up).
FALLBACK_HANDLE_SECONDS = 240.0
# Relative standard error of that guess: large, so the range told is wide.
FALLBACK_RELATIVE_ERROR = 0.5
# Coefficient of variation of handle times assumed with fewer than two samples.
FALLBACK_HANDLE_CV = 1.0
# The long-run handle-time average summarises at most this many calls (see
# `fold_handle_time`); past that it becomes an exponentially weighted average.
HANDLE_AVERAGE_WINDOW = 400
# The recent handle times overrule the long-run average when they differ from it by
# more than this many standard errors (handle times really changed).
SHIFT_Z = 3.0
# Share of callers who stay on the line whose actual wait should fall in [low, high].
COVERAGE_TARGET = 0.80
LOW_QUANTILE = (1.0 - COVERAGE_TARGET) / 2.0
HIGH_QUANTILE = 1.0 - LOW_QUANTILE
# Abandonment shares above this are treated as this (the data is then mostly noise).
MAX_ABANDON_SHARE = 0.95
# Floor on the mean time callers spend in line, so a patience rate stays finite.
MIN_MEAN_TIME_IN_LINE = 5.0


@dataclass(frozen=True)
class QueueStats:
    """What the estimator may know about one queue right now."""

    agents_serving: int
    """Agents signed in for this queue (available, busy or in wrap-up)."""
    agents_available: int
    """Agents free to take a call this instant."""
    handle_times: tuple[float, ...] = ()
    """Recent handle times in seconds (talk plus wrap-up), oldest first (~50 calls)."""
    abandon_rate: float = 0.0
    """Share of recent callers of this queue who hung up while waiting. Count every
    caller who joined, including those answered at once (e.g. the last 200 callers)."""
    recent_waits: tuple[float, ...] = ()
    """Recent actual waits of answered callers in seconds, oldest first, including the
    zero waits of callers answered at once (e.g. the last 50)."""
    handle_time_average: float | None = None
    """Long-run average handle time of this queue in seconds, kept by the app with
    `fold_handle_time` at every wrap-up end; None when the app keeps none."""
    handle_time_calls: int = 0
    """How many calls `handle_time_average` summarises (as `fold_handle_time` returns)."""
    recent_abandon_waits: tuple[float, ...] = ()
    """How long recent callers who hung up had waited before they did, in seconds,
    oldest first (e.g. the last 50). Used to learn how patient callers are."""


@dataclass(frozen=True)
class WaitEstimate:
    """An expected wait with an honest range around it (seconds)."""

    seconds: float
    low: float
    high: float
    known: bool = True
    """False when the queue has no handle time to go on yet (the fallback guess only):
    the figures are then no estimate worth telling a caller."""


def fold_handle_time(
    average: float | None, calls: int, handle_seconds: float
) -> tuple[float, int]:
    """The long-run handle-time average and call count after one more finished call.

    A plain running mean for the first `HANDLE_AVERAGE_WINDOW` calls, then an
    exponentially weighted average over about that many calls. The app stores the pair
    per queue and passes it as `handle_time_average` / `handle_time_calls`.
    """
    if average is None or calls <= 0:
        return handle_seconds, 1
    calls = min(calls + 1, HANDLE_AVERAGE_WINDOW)
    return average + (handle_seconds - average) / calls, calls


def _recent_handle(stats: QueueStats) -> tuple[float, float] | None:
    """Mean and coefficient of variation of the recent handle times, if any."""
    if not stats.handle_times:
        return None
    return _handle_moments(stats.handle_times)


@functools.lru_cache(maxsize=256)
def _handle_moments(handle_times: tuple[float, ...]) -> tuple[float, float]:
    """Mean and CV of handle times (cached: the window changes once per finished call,
    and statistics.stdev, exact but slow, would otherwise run on every webhook)."""
    mean = statistics.fmean(handle_times)
    if len(handle_times) < 2 or mean <= 0:
        return mean, FALLBACK_HANDLE_CV
    return mean, statistics.stdev(handle_times) / mean


def learned_handle(stats: QueueStats) -> tuple[float, float]:
    """The average handle time to plan with, and its relative standard error."""
    recent = _recent_handle(stats)
    long_run = stats.handle_time_average
    long_calls = stats.handle_time_calls
    if recent is None:
        if long_run is not None and long_run > 0 and long_calls > 0:
            return long_run, FALLBACK_HANDLE_CV / math.sqrt(long_calls)
        return FALLBACK_HANDLE_SECONDS, FALLBACK_RELATIVE_ERROR
    mean, cv = recent
    recent_error = max(cv, 0.1) / math.sqrt(len(stats.handle_times))
    if long_run is None or long_run <= 0 or long_calls <= len(stats.handle_times):
        return mean, recent_error
    if abs(mean - long_run) > SHIFT_Z * recent_error * mean:
        return mean, recent_error
    return long_run, max(cv, 0.1) / math.sqrt(long_calls)


def has_handle_figures(stats: QueueStats) -> bool:
    """Whether anything was learned of the queue's handle times (recent or long-run)."""
    return bool(stats.handle_times) or (
        stats.handle_time_average is not None and stats.handle_time_average > 0
        and stats.handle_time_calls > 0)


def mean_handle_seconds(stats: QueueStats) -> float:
    """The average handle time learned from recent calls, or the fallback."""
    return learned_handle(stats)[0]


def patience_rate(stats: QueueStats) -> float:
    """Rate (per second) at which a waiting caller gives up, learned from recent callers.

    Maximum-likelihood for exponential patience: abandonments over the total time all
    recent callers spent in line, both expressed per caller.
    """
    share = min(max(stats.abandon_rate, 0.0), MAX_ABANDON_SHARE)
    if share <= 0.0 or not stats.recent_waits:
        return 0.0
    answered = statistics.fmean(stats.recent_waits)
    gave_up = (
        statistics.fmean(stats.recent_abandon_waits) if stats.recent_abandon_waits else answered
    )
    in_line = (1.0 - share) * answered + share * gave_up
    return share / max(in_line, MIN_MEAN_TIME_IN_LINE)


def phase_moments(departures: int, completion_rate: float, give_up_rate: float) -> tuple[
    float, float
]:
    """Mean and variance of the time until `departures` callers have left the line.

    The last phase (nobody ahead) ends at the next completion; each earlier phase with
    m callers ahead also ends when one of them gives up. Constant time in `departures`:
    past `EXACT_PHASES` the sums over phases come from the digamma and trigamma functions.
    """
    if give_up_rate <= 0.0 or give_up_rate * departures < NEGLIGIBLE * completion_rate:
        return departures / completion_rate, departures / completion_rate**2
    if departures > EXACT_PHASES:
        mean_gap, variance_gap = _polygamma_gaps(completion_rate / give_up_rate, departures)
        return mean_gap / give_up_rate, variance_gap / give_up_rate**2
    mean = variance = 0.0
    for ahead in range(departures):
        rate = completion_rate + ahead * give_up_rate
        mean += 1.0 / rate
        variance += 1.0 / rate**2
    return mean, variance


# Up to this many phases the sums are added up term by term (exact and cheap).
EXACT_PHASES = 256
# Giving up this slowly (relative to the line's whole movement) changes nothing.
NEGLIGIBLE = 1e-12
# Below this the polygamma recurrences step up before the asymptotic series.
_ASYMPTOTIC_FROM = 10.0


def _polygamma_gaps(a: float, n: int) -> tuple[float, float]:
    """ψ(a+n) − ψ(a) and ψ′(a) − ψ′(a+n) for a > 0, accurate even when n ≪ a.

    These are Σ 1/(a+m) and Σ 1/(a+m)² over m < n: recurrence up to a ≥ 10, then the
    asymptotic series written as differences so that nothing cancels.
    """
    mean = variance = 0.0
    while a < _ASYMPTOTIC_FROM:
        mean += 1.0 / a - 1.0 / (a + n)
        variance += 1.0 / (a * a) - 1.0 / ((a + n) * (a + n))
        a += 1.0
    b = a + n
    mean += math.log1p(n / a) + n / (2.0 * a * b) - (_digamma_tail(b) - _digamma_tail(a))
    variance += n / (a * b) + (1.0 / (a * a) - 1.0 / (b * b)) / 2.0
    variance += _trigamma_tail(a) - _trigamma_tail(b)
    return mean, variance


def _digamma_tail(x: float) -> float:
    """The series part of ψ(x) ≈ ln x − 1/(2x) − tail(x), for x ≥ 10."""
    inv2 = 1.0 / (x * x)
    return inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))


def _trigamma_tail(x: float) -> float:
    """The series part of ψ′(x) ≈ 1/x + 1/(2x²) + tail(x), for x ≥ 10."""
    inv2 = 1.0 / (x * x)
    return inv2 / x * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 * (1 / 30 - inv2 * 5 / 66))))


def gamma_quantile(mean: float, variance: float, probability: float) -> float:
    """The `probability` quantile of a gamma law with this mean and variance.

    Wilson–Hilferty approximation; exact enough for a spoken range.
    """
    if mean <= 0.0:
        return 0.0
    if variance <= 0.0:
        return mean
    shape = mean**2 / variance
    z = statistics.NormalDist().inv_cdf(probability)
    spread = 1.0 / (9.0 * shape)
    cube = 1.0 - spread + z * math.sqrt(spread)
    return max(mean * cube**3, 0.0) if cube > 0 else 0.0


def estimate_wait(position: int, stats: QueueStats) -> WaitEstimate:
    """Expected wait for the caller at 1-based `position` in line, with a range that
    should hold the actual wait of `COVERAGE_TARGET` of callers who stay on the line."""
    if position <= stats.agents_available:
        return WaitEstimate(0.0, 0.0, 0.0)
    agents = max(stats.agents_serving, stats.agents_available, 1)
    departures = position - max(stats.agents_available, 0)
    handle, handle_error = learned_handle(stats)
    mean, variance = phase_moments(departures, agents / handle, patience_rate(stats))
    variance += (mean * handle_error) ** 2
    return WaitEstimate(
        mean,
        min(gamma_quantile(mean, variance, LOW_QUANTILE), mean),
        max(gamma_quantile(mean, variance, HIGH_QUANTILE), mean),
        has_handle_figures(stats),
    )

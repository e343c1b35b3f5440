"""Properties of the wait estimate told to callers (queueing.estimate)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queueing.estimate import (
    FALLBACK_HANDLE_SECONDS,
    HANDLE_AVERAGE_WINDOW,
    HIGH_QUANTILE,
    LOW_QUANTILE,
    QueueStats,
    WaitEstimate,
    estimate_wait,
    fold_handle_time,
    learned_handle,
    patience_rate,
)

handle_lists = st.lists(st.floats(min_value=5.0, max_value=3600.0), min_size=0, max_size=60)
wait_lists = st.lists(st.floats(min_value=0.0, max_value=3600.0), min_size=0, max_size=60)


@st.composite
def busy_queues(draw: st.DrawFn) -> QueueStats:
    """A queue whose agents are all busy, with arbitrary but plausible history."""
    return QueueStats(
        agents_serving=draw(st.integers(min_value=0, max_value=200)),
        agents_available=0,
        handle_times=tuple(draw(handle_lists)),
        abandon_rate=draw(st.floats(min_value=0.0, max_value=1.0)),
        recent_waits=tuple(draw(wait_lists)),
        recent_abandon_waits=tuple(draw(wait_lists)),
    )


def erlang_cdf(departures: int, rate: float, seconds: float) -> float:
    """P(sum of `departures` exponentials with `rate` <= seconds)."""
    x = rate * seconds
    term, total = 1.0, 1.0
    for n in range(1, departures):
        term *= x / n
        total += term
    return 1.0 - math.exp(-x) * total


def steady_history(agents: int, handle: float = 240.0) -> QueueStats:
    """All agents busy, a long and consistent handle-time history, nobody giving up."""
    return QueueStats(
        agents_serving=agents,
        agents_available=0,
        handle_times=(handle * 0.5, handle * 1.5) * 25,
        handle_time_average=handle,
        handle_time_calls=HANDLE_AVERAGE_WINDOW,
    )


@given(busy_queues(), st.integers(min_value=1, max_value=300))
def test_wait_never_shrinks_as_position_grows(stats: QueueStats, position: int) -> None:
    assert estimate_wait(position + 1, stats).seconds > estimate_wait(position, stats).seconds


@given(busy_queues(), st.integers(min_value=1, max_value=300))
def test_range_brackets_the_estimate_and_is_never_negative(
    stats: QueueStats, position: int
) -> None:
    told = estimate_wait(position, stats)
    assert 0.0 <= told.low <= told.seconds <= told.high


@given(st.integers(min_value=1, max_value=50), st.integers(min_value=0, max_value=50))
def test_caller_within_reach_of_a_free_agent_waits_zero(available: int, extra: int) -> None:
    stats = QueueStats(agents_serving=available + extra, agents_available=available)
    for position in range(1, available + 1):
        assert estimate_wait(position, stats) == WaitEstimate(0.0, 0.0, 0.0)


def test_caller_beyond_the_free_agents_is_told_a_wait() -> None:
    stats = QueueStats(agents_serving=5, agents_available=2)
    assert estimate_wait(3, stats).seconds > 0.0


@given(busy_queues(), st.integers(min_value=1, max_value=300), st.integers(1, 50))
def test_more_agents_signed_in_shorten_the_wait(
    stats: QueueStats, position: int, more: int
) -> None:
    fewer = QueueStats(**{**stats.__dict__, "agents_serving": max(stats.agents_serving, 1)})
    staffed = QueueStats(**{**fewer.__dict__, "agents_serving": fewer.agents_serving + more})
    assert estimate_wait(position, staffed).seconds < estimate_wait(position, fewer).seconds


def test_no_history_falls_back_to_the_default_handle_time() -> None:
    told = estimate_wait(8, QueueStats(agents_serving=4, agents_available=0))
    assert told.seconds == pytest.approx(8 * FALLBACK_HANDLE_SECONDS / 4)
    assert told.high - told.low > told.seconds


def test_without_abandonment_the_estimate_is_position_times_handle_over_agents() -> None:
    assert estimate_wait(30, steady_history(20)).seconds == pytest.approx(30 * 240.0 / 20)


@pytest.mark.parametrize("position", [1, 3, 10, 40])
def test_range_holds_the_middle_eighty_percent_of_the_erlang_wait(position: int) -> None:
    told = estimate_wait(position, steady_history(20))
    rate = 20 / 240.0
    assert erlang_cdf(position, rate, told.low) == pytest.approx(LOW_QUANTILE, abs=0.02)
    assert erlang_cdf(position, rate, told.high) == pytest.approx(HIGH_QUANTILE, abs=0.02)


def test_callers_ahead_who_give_up_shorten_the_wait() -> None:
    patient = steady_history(10)
    giving_up = QueueStats(
        **{**patient.__dict__, "abandon_rate": 0.2, "recent_waits": (60.0,) * 50}
    )
    assert estimate_wait(20, giving_up).seconds < estimate_wait(20, patient).seconds


def test_first_in_line_is_not_helped_by_others_giving_up() -> None:
    patient = steady_history(10)
    giving_up = QueueStats(
        **{**patient.__dict__, "abandon_rate": 0.2, "recent_waits": (60.0,) * 50}
    )
    assert estimate_wait(1, giving_up).seconds == pytest.approx(estimate_wait(1, patient).seconds)


def test_patience_rate_is_abandonments_over_time_spent_in_line() -> None:
    stats = QueueStats(
        agents_serving=5,
        agents_available=0,
        abandon_rate=0.25,
        recent_waits=(40.0, 80.0),
        recent_abandon_waits=(120.0,),
    )
    # Per caller: 0.25 abandonments over 0.75 * 60 s + 0.25 * 120 s = 75 s in line.
    assert patience_rate(stats) == pytest.approx(0.25 / 75.0)


def test_nobody_giving_up_means_no_patience_correction() -> None:
    assert patience_rate(QueueStats(5, 0, recent_waits=(30.0,) * 10)) == 0.0


def test_fold_handle_time_is_a_running_mean_until_the_window_is_full() -> None:
    average, calls = None, 0
    for handle in (100.0, 200.0, 300.0):
        average, calls = fold_handle_time(average, calls, handle)
    assert (average, calls) == (pytest.approx(200.0), 3)


def test_fold_handle_time_weighs_a_new_call_by_one_window_once_full() -> None:
    average, calls = fold_handle_time(200.0, HANDLE_AVERAGE_WINDOW, 200.0 + HANDLE_AVERAGE_WINDOW)
    assert (average, calls) == (pytest.approx(201.0), HANDLE_AVERAGE_WINDOW)


def test_long_run_average_is_used_while_recent_calls_agree_with_it() -> None:
    stats = QueueStats(
        5, 0, handle_times=(230.0, 250.0) * 25, handle_time_average=245.0, handle_time_calls=400
    )
    assert learned_handle(stats)[0] == 245.0


def test_recent_calls_overrule_a_stale_long_run_average() -> None:
    stats = QueueStats(
        5, 0, handle_times=(380.0, 420.0) * 25, handle_time_average=245.0, handle_time_calls=400
    )
    assert learned_handle(stats)[0] == pytest.approx(400.0)


def test_longer_history_makes_the_range_narrower() -> None:
    short = QueueStats(20, 0, handle_times=(120.0, 360.0) * 5)
    long = QueueStats(**{**short.__dict__, "handle_time_average": 240.0, "handle_time_calls": 400})
    short_told, long_told = estimate_wait(30, short), estimate_wait(30, long)
    assert long_told.high - long_told.low < short_told.high - short_told.low

"""Staffing maths: published Erlang C values, exact cross-checks, Erlang A properties."""

from __future__ import annotations

import math
import time
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queueing.erlang import (
    StaffingInputError,
    agents_needed,
    average_speed_of_answer,
    erlang_a,
    erlang_b,
    erlang_c,
    evaluate,
    log_regularized_lower_gamma,
    occupancy,
    recommend,
    service_level,
    with_shrinkage,
)

# Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example":
# 100 calls per 30 minutes, AHT 180 s (10 Erlangs), 80% within 20 s, shrinkage 30%.
# Its P(wait) figures 68.21% / 44.94% / 28.53% / 17.41% for 11..14 agents and the answer
# of 14 agents (20 with shrinkage) are the published ones; the SL and ASA columns were
# recomputed from the closed forms (and P(wait) is checked against exact fractions below).
CALL_CENTRE_HELPER = [
    # agents, P(wait), service level within 20 s, ASA seconds
    (11, 0.6821, 0.3896, 122.8),
    (12, 0.4494, 0.6402, 40.4),
    (13, 0.2853, 0.7956, 17.1),
    (14, 0.1741, 0.8884, 7.8),
]


def erlang_c_exact(agents: int, load: Fraction) -> Fraction:
    """Textbook Erlang C with factorials in exact rational arithmetic (reference only)."""
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    bottom = sum(load**k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


@pytest.mark.parametrize(("agents", "waiting", "level", "asa"), CALL_CENTRE_HELPER)
def test_erlang_c_matches_call_centre_helper_worked_example(agents, waiting, level, asa):
    assert erlang_c(agents, 10.0) == pytest.approx(waiting, abs=5e-5)
    assert service_level(agents, 10.0, 180, 20) == pytest.approx(level, abs=5e-4)
    assert average_speed_of_answer(agents, 10.0, 180) == pytest.approx(asa, abs=0.05)


def test_call_centre_helper_example_needs_14_agents_and_20_with_30_percent_shrinkage():
    result = recommend(100, 1800, 180, 0.8, 20, shrinkage=0.3)
    assert (result.agents, result.agents_with_shrinkage) == (14, 20)
    assert result.occupancy == pytest.approx(10 / 14)
    assert result.abandonment is None


def test_westbay_example_360_calls_4_minutes_55_agents_15_seconds():
    # Inputs of Westbay Engineers' "The Erlang-C formula" step-by-step example: 360 calls
    # per half hour, 4 minute calls, 55 agents, 15 s target (48 Erlangs). Expected values
    # recomputed here; P(wait) agrees with the exact-fraction formula.
    result = evaluate(360, 1800, 240, 55, 15)
    assert result.offered_load_erlangs == pytest.approx(48.0)
    assert result.occupancy == pytest.approx(0.8727, abs=5e-5)
    assert result.probability_of_waiting == pytest.approx(0.2387, abs=5e-4)
    assert result.average_speed_of_answer == pytest.approx(8.18, abs=0.01)
    assert result.service_level == pytest.approx(0.8459, abs=5e-4)


@pytest.mark.parametrize(
    ("agents", "load"), [(1, "1/2"), (3, "2"), (7, "13/2"), (30, "25"), (55, "48")]
)
def test_erlang_c_equals_exact_factorial_formula(agents, load):
    exact = erlang_c_exact(agents, Fraction(load))
    assert erlang_c(agents, float(Fraction(load))) == pytest.approx(float(exact), rel=1e-12)


def test_erlang_b_recursion_equals_log_space_sum_for_thousands_of_agents():
    agents, load = 3000, 2900.0
    log_terms = [k * math.log(load) - math.lgamma(k + 1) for k in range(agents + 1)]
    top = max(log_terms)
    expected = math.exp(log_terms[-1] - top) / sum(math.exp(t - top) for t in log_terms)
    assert erlang_b(agents, load) == pytest.approx(expected, rel=1e-10)


def test_erlang_c_with_2000_agents_and_1950_erlangs_is_fast_and_a_probability():
    started = time.perf_counter()
    waiting = erlang_c(2000, 1950.0)
    level = service_level(2000, 1950.0, 180, 20)
    assert time.perf_counter() - started < 0.5
    assert 0.0 < waiting < 1.0 and 0.0 < level <= 1.0


def test_recommend_for_1950_erlangs_finishes_quickly_with_and_without_patience():
    started = time.perf_counter()
    plain = agents_needed(19500, 1800, 180, 0.8, 20)
    patient = agents_needed(19500, 1800, 180, 0.8, 20, patience_seconds=120)
    assert time.perf_counter() - started < 5
    assert plain > 1950 and patient <= plain


def test_occupancy_cap_adds_agents_beyond_the_service_level_answer():
    assert agents_needed(100, 1800, 180, 0.8, 20) == 14
    assert agents_needed(100, 1800, 180, 0.8, 20, max_occupancy=0.7) == 15
    assert occupancy(15, 10.0) <= 0.7


def test_shrinkage_rounds_up_but_not_on_float_noise():
    assert with_shrinkage(14, 0.3) == 20  # 14 / 0.7 is 20.000000000000004 in floats
    assert with_shrinkage(15, 0.3) == 22
    assert with_shrinkage(7, 0.0) == 7


def test_no_calls_need_no_agents_and_evaluate_reports_a_quiet_interval():
    assert agents_needed(0, 1800, 180, 0.8, 20) == 0
    quiet = evaluate(0, 1800, 180, 0, 20)
    assert (quiet.service_level, quiet.probability_of_waiting, quiet.occupancy) == (1, 0, 0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"calls": -1}, "calls"),
        ({"interval_seconds": 0}, "interval_seconds"),
        ({"aht_seconds": -180}, "aht_seconds"),
        ({"within_seconds": -1}, "within_seconds"),
        ({"target": 0}, "target"),
        ({"target": 1.01}, "target"),
        ({"patience_seconds": 0}, "patience_seconds"),
        ({"max_occupancy": 1.5}, "max_occupancy"),
        ({"shrinkage": 1.0}, "shrinkage"),
        ({"shrinkage": -0.1}, "shrinkage"),
        ({"calls": math.nan}, "calls"),
    ],
)
def test_recommend_rejects_nonsense_naming_the_field(kwargs, field):
    arguments = {"calls": 100, "interval_seconds": 1800, "aht_seconds": 180,
                 "target": 0.8, "within_seconds": 20} | kwargs
    with pytest.raises(StaffingInputError) as caught:
        recommend(**arguments)
    assert caught.value.field == field and field in str(caught.value)


def test_evaluate_rejects_erlang_c_staffing_at_or_below_the_load():
    with pytest.raises(StaffingInputError, match="agents"):
        evaluate(100, 1800, 180, 10, 20)
    with pytest.raises(StaffingInputError, match="agents"):
        evaluate(100, 1800, 180, -1, 20, patience_seconds=60)


def test_evaluate_with_patience_accepts_understaffing_and_reports_heavy_abandonment():
    result = evaluate(100, 1800, 180, 8, 20, patience_seconds=120)
    assert result.abandonment is not None and result.abandonment > 0.15
    assert result.occupancy < 1.0


# --- Erlang A -------------------------------------------------------------------------


def birth_death_reference(agents, load, aht, patience, states=4000):
    """P(wait), P(abandon) from the M/M/n+M chain truncated far out (reference only)."""
    rate, mu, theta = load / aht, 1 / aht, 1 / patience
    weights, weight = [1.0], 1.0
    for k in range(1, states):
        weight *= rate / (min(k, agents) * mu + max(k - agents, 0) * theta)
        weights.append(weight)
    total = sum(weights)
    waiting = sum(weights[agents:]) / total
    queue = sum((k - agents) * w for k, w in enumerate(weights) if k > agents) / total
    return waiting, theta * queue / rate


@pytest.mark.parametrize(
    ("agents", "load", "patience"),
    [(12, 10.0, 180.0), (8, 10.0, 60.0), (3, 2.5, 30.0), (50, 48.0, 600.0), (40, 48.0, 90.0)],
)
def test_erlang_a_waiting_and_abandonment_match_the_birth_death_chain(agents, load, patience):
    waiting, abandonment = birth_death_reference(agents, load, 180.0, patience)
    metrics = erlang_a(agents, load, 180.0, patience, 20.0)
    assert metrics.probability_of_waiting == pytest.approx(waiting, rel=1e-9)
    assert metrics.abandonment == pytest.approx(abandonment, rel=1e-9)


def test_erlang_a_service_level_runs_from_answered_at_once_to_all_answered():
    metrics = erlang_a(12, 10.0, 180.0, 180.0, 0.0)
    assert metrics.service_level == pytest.approx(1 - metrics.probability_of_waiting)
    forever = erlang_a(12, 10.0, 180.0, 180.0, 1e6)
    assert forever.service_level == pytest.approx(1 - forever.abandonment, rel=1e-9)


def test_erlang_a_speed_of_answer_agrees_with_the_integral_of_the_service_level_curve():
    # P(answered) * ASA = integral over t of P(answered, still waiting at t).
    agents, load, aht, patience = 11, 10.0, 180.0, 120.0
    metrics = erlang_a(agents, load, aht, patience, 0.0)
    answered = 1 - metrics.abandonment
    step, area = 0.5, 0.0
    for i in range(int(3000 / step)):
        t = (i + 0.5) * step
        area += (answered - erlang_a(agents, load, aht, patience, t).service_level) * step
    assert metrics.average_speed_of_answer == pytest.approx(area / answered, rel=1e-4)


def test_erlang_a_approaches_erlang_c_as_patience_grows():
    metrics = erlang_a(12, 10.0, 180.0, 1e7, 20.0)
    assert metrics.probability_of_waiting == pytest.approx(erlang_c(12, 10.0), rel=1e-4)
    assert metrics.service_level == pytest.approx(service_level(12, 10.0, 180, 20), rel=1e-4)
    expected_asa = average_speed_of_answer(12, 10.0, 180)
    assert metrics.average_speed_of_answer == pytest.approx(expected_asa, rel=1e-3)
    assert metrics.abandonment < 1e-5


def test_short_patience_does_not_let_abandonment_meet_the_target():
    # Service level counts answered callers only: a line whose callers hang up after a
    # second still needs enough agents to answer 80% of them at once.
    needed = agents_needed(100, 1800, 180, 0.8, 20, patience_seconds=1)
    assert needed >= 11
    assert evaluate(100, 1800, 180, needed, 20, patience_seconds=1).service_level >= 0.8


def test_erlang_a_can_need_more_agents_than_erlang_c_when_target_outlasts_patience():
    # 95% within 300 s, callers give up after 60 s on average: Erlang C assumes they
    # would wait 300 s; they do not, so answering 95% of them takes one more agent.
    assert agents_needed(100, 1800, 180, 0.95, 300) == 12
    assert agents_needed(100, 1800, 180, 0.95, 300, patience_seconds=60) == 13


def test_regularized_gamma_matches_closed_forms():
    # P(1, z) = 1 - e^-z ; P(2, z) = 1 - (1 + z) e^-z
    for z in (0.01, 0.5, 3.0, 40.0):
        assert math.exp(log_regularized_lower_gamma(1.0, z)) == pytest.approx(-math.expm1(-z))
        expected = 1 - (1 + z) * math.exp(-z)
        assert math.exp(log_regularized_lower_gamma(2.0, z)) == pytest.approx(expected)


loads = st.floats(min_value=0.05, max_value=300.0)
ahts = st.floats(min_value=10.0, max_value=1200.0)
patiences = st.floats(min_value=1.0, max_value=3600.0)


@settings(max_examples=150, deadline=None)
@given(load=loads, aht=ahts, patience=patiences, agents=st.integers(1, 400),
       within=st.floats(0.0, 600.0))
def test_erlang_a_probabilities_stay_within_zero_and_one(load, aht, patience, agents, within):
    metrics = erlang_a(agents, load, aht, patience, within)
    for value in (metrics.probability_of_waiting, metrics.abandonment, metrics.service_level):
        assert 0.0 <= value <= 1.0
    assert metrics.service_level <= 1.0 - metrics.abandonment + 1e-9
    assert metrics.average_speed_of_answer >= 0.0


@settings(max_examples=150, deadline=None)
@given(load=loads, aht=ahts, patience=patiences, extra=st.integers(1, 30))
def test_abandonment_never_makes_waiting_likelier_or_longer_for_the_same_staffing(
    load, aht, patience, extra
):
    # Callers who give up shorten the line, so with the same agents both the chance of
    # waiting and the average speed of answer are at most Erlang C's. (Agents *needed*
    # are not ordered this way: abandons count against the service level; see
    # test_erlang_a_can_need_more_agents_than_erlang_c_when_target_outlasts_patience.)
    agents = math.floor(load) + extra
    with_patience = erlang_a(agents, load, aht, patience, 20.0)
    assert with_patience.probability_of_waiting <= erlang_c(agents, load) + 1e-9
    assert with_patience.average_speed_of_answer <= (
        average_speed_of_answer(agents, load, aht) + 1e-6)


@settings(max_examples=100, deadline=None)
@given(load=loads, aht=ahts, target=st.floats(0.05, 1.0), within=st.floats(0.0, 600.0))
def test_agents_needed_is_the_smallest_count_meeting_the_target(load, aht, target, within):
    calls = load * 1800 / aht
    load = calls / 1800 * aht  # the load agents_needed itself sees
    needed = agents_needed(calls, 1800, aht, target, within)
    assert service_level(needed, load, aht, within) >= target
    if needed - 1 > load:
        assert service_level(needed - 1, load, aht, within) < target

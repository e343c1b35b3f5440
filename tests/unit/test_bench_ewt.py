"""The wait-estimate benchmark (bench.ewt) on small seeded runs."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from bench.ewt import (
    FIGURES_END,
    FIGURES_START,
    SCENARIOS,
    MovingAverage,
    Result,
    Simulation,
    ideal_estimate,
    run_scenarios,
    write_figures,
)

SMALL_RUN = 3000
SEED = 7
STEADY, PEAK, STAFFING, IMPATIENT = SCENARIOS
QUICK_WARMUP = 1800.0


@cache
def steady_run() -> Result:
    """A small seeded steady run (short warm-up, SMALL_RUN callers)."""
    return run_scenarios(SMALL_RUN, SEED, [replace(STEADY, warmup=QUICK_WARMUP)])[0]


def steady_figures() -> dict[str, dict[str, float]]:
    """Every predictor's figures on the small steady run."""
    result = steady_run()
    return {name: tally.figures() for name, tally in result.tallies.items()}


def test_holdless_beats_the_moving_average_on_a_small_steady_run() -> None:
    figures = steady_figures()
    assert figures["holdless"]["rmse"] < figures["moving average"]["rmse"]


def test_holdless_stays_near_the_ideal_predictor_on_a_small_steady_run() -> None:
    figures = steady_figures()
    assert figures["holdless"]["rmse"] < 1.25 * figures["ideal"]["rmse"]


def test_same_seed_gives_the_same_figures() -> None:
    first, second = (Simulation(IMPATIENT, 1000, 11).run() for _ in range(2))
    assert first.waits == second.waits
    assert first.tallies == second.tallies


def test_different_seeds_give_different_runs() -> None:
    first, second = (Simulation(IMPATIENT, 1000, seed).run() for seed in (11, 12))
    assert first.waits != second.waits


def test_callers_who_hang_up_are_counted_apart_from_the_errors() -> None:
    result = Simulation(replace(IMPATIENT, warmup=QUICK_WARMUP), SMALL_RUN, SEED).run()
    assert result.abandoned > 0
    assert result.tallies["holdless"].count == result.queued == len(result.waits)
    assert result.queued + result.abandoned <= result.measured


def test_nobody_hangs_up_when_callers_have_no_patience_limit() -> None:
    result = steady_run()
    assert result.abandoned == 0
    assert result.queued > 0


def test_agents_leaving_mid_call_sign_out_instead_of_taking_the_next_caller() -> None:
    simulation = Simulation(STAFFING, 10, SEED)
    simulation.busy = 5
    simulation.waiting = {1: 0.0}
    simulation.line.append(1)
    simulation.handling[0] = 100.0
    simulation.set_agents(100.0, 2)
    simulation.depart(100.0, 0)
    assert (simulation.busy, simulation.leaving, len(simulation.waiting)) == (4, 2, 1)


def test_agents_joining_take_waiting_callers_at_once() -> None:
    simulation = Simulation(STAFFING, 10, SEED)
    simulation.busy = 2
    simulation.waiting = {1: 0.0, 2: 5.0}
    simulation.line.extend([1, 2])
    simulation.set_agents(60.0, 5)
    assert (simulation.busy, simulation.free, len(simulation.waiting)) == (4, 1, 0)


def test_moving_average_follows_asterisk_three_quarters_old_one_quarter_new() -> None:
    average = MovingAverage()
    average.answered(100.0)
    average.answered(100.0)
    assert average.predict().seconds == pytest.approx(43.75)


def test_ideal_predictor_is_position_times_handle_over_agents() -> None:
    told = ideal_estimate(12, 20, 240.0)
    assert told.seconds == pytest.approx(144.0)
    assert told.low < told.seconds < told.high


def test_write_figures_replaces_only_the_figures_section(tmp_path: Path) -> None:
    doc = tmp_path / "wait-estimates.md"
    doc.write_text(f"# Title\n\nprose\n\n{FIGURES_START}\nold\n{FIGURES_END}\n\nmore prose\n")
    write_figures(doc, "new figures\n")
    text = doc.read_text()
    assert "old" not in text
    assert text.index("prose") < text.index("new figures") < text.index("more prose")


def test_write_figures_creates_a_missing_document(tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "wait-estimates.md"
    write_figures(doc, "figures\n")
    assert FIGURES_START in doc.read_text() and "figures\n" in doc.read_text()


def test_what_callers_are_told_in_words_comes_true_as_often_as_the_range() -> None:
    holdless = steady_figures()["holdless"]
    assert holdless["said"] >= holdless["inside"] - 0.05

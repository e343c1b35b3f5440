"""The `staffing` click command: searches, evaluates, and refuses nonsense cleanly."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from entrypoints.staffing_cli import staffing

BASE = ["--calls", "100", "--interval", "1800", "--aht", "180", "--within", "20"]


def run(*args: str):
    return CliRunner().invoke(staffing, [*BASE, *args])


def test_search_prints_agents_shrinkage_and_expected_performance():
    result = run("--target", "0.8", "--shrinkage", "0.3")
    assert result.exit_code == 0, result.output
    assert "Agents needed:           14" in result.output
    assert "Agents with shrinkage:   20" in result.output
    assert "Probability of waiting:  17.4%" in result.output
    assert "Service level:           88.8%" in result.output
    assert "Average speed of answer: 7.8 s" in result.output
    assert "Occupancy:               71.4%" in result.output
    assert "Abandonment" not in result.output


def test_json_output_with_patience_includes_abandonment():
    result = run("--target", "0.8", "--patience", "180", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["agents"] == 12 and 0 < data["abandonment"] < 1
    assert data["service_level"] >= 0.8


def test_max_occupancy_raises_the_agents_needed():
    data = json.loads(run("--target", "0.8", "--max-occupancy", "0.7", "--json").output)
    assert data["agents"] == 15


def test_agents_option_evaluates_the_given_staffing_instead_of_searching():
    data = json.loads(run("--agents", "12", "--json").output)
    assert data["agents"] == 12
    assert data["probability_of_waiting"] == pytest.approx(0.4494, abs=1e-4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "1.5"], "--target"),
        (["--target", "0.8", "--aht", "0"], "--aht"),
        (["--target", "0.8", "--shrinkage", "1"], "--shrinkage"),
        (["--target", "0.8", "--patience", "-3"], "--patience"),
        (["--agents", "10"], "--agents"),
        (["--target", "0.8", "--calls", "nan"], "--calls"),
        ([], "--target"),
    ],
)
def test_nonsense_input_exits_non_zero_with_a_message_not_a_traceback(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # click's clean exit, not a crash

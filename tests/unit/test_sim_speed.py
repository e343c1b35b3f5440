"""`make simulate` picks a speed this machine can keep, and a report distorted by the
stack's own latency says so at its top."""

from __future__ import annotations

import click
import pytest

from simulator.cli import auto_speed, chosen_speed
from simulator.report import DayReport, render_text
from simulator.scenario import load
from tests.unit.test_scenario import SCENARIOS


@pytest.mark.parametrize(("cores", "load", "speed"), [
    (2, 0.0, 60.0), (2, 1.0, 30.0), (2, 11.0, 15.0), (8, 0.5, 225.0), (64, 2.0, 240.0)])
def test_auto_speed_is_thirty_times_the_cores_the_load_leaves_free(cores, load, speed):
    assert auto_speed(cores, load) == speed


def test_a_speed_given_is_kept_and_a_bad_one_refused():
    assert chosen_speed("120") == (120.0, "as asked (--speed)")
    assert chosen_speed("auto")[1].startswith("chosen for this machine (")
    for bad in ("fast", "0.5"):
        with pytest.raises(click.BadParameter):
            chosen_speed(bad)


def test_a_report_distorted_by_latency_says_so_at_its_top_with_a_speed_to_use():
    report = DayReport("x", 240.0, 60.0, [], [], handoffs=[45.0, 45.0], ring_seconds=5.0)
    lines = render_text(report, "chosen for this machine (2 cores, load 0.3)").splitlines()
    assert lines[1] == "speed x240 chosen for this machine (2 cores, load 0.3)"
    assert lines[2].startswith("WARNING: at x240 this machine's own latency added about 40 s")
    assert lines[2].endswith("run again with --speed 60 or lower.")
    quiet = DayReport("x", 60.0, 60.0, [], [], handoffs=[6.0], ring_seconds=5.0)
    assert "WARNING" not in render_text(quiet)


def test_the_default_scenario_books_callbacks_and_meets_voicemails():
    day = load(SCENARIOS / "first_day.toml")
    assert day.callback_share > 0 and day.machine_share > 0
    plan = day.plan()
    assert any(c.takes_callback for c in plan)
    assert any(c.takes_callback and c.machine for c in plan)

"""Scenario files: arrivals, menu shares, patience and shifts, read and checked."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from simulator.scenario import MACHINE_ANSWERS, Distribution, ScenarioError, load, parse

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_bundled_scenarios_load_with_about_five_hundred_calls_in_a_morning():
    for name in ("steady.toml", "lunch_peak.toml"):
        scenario = load(SCENARIOS / name)
        assert 400 <= len(scenario.plan()) <= 600
        assert scenario.duration == 4 * 3600


def test_plan_is_the_same_for_the_same_seed_and_follows_each_intervals_rate():
    scenario = parse({"arrivals": [40, 0, 120], "seed": 5,
                      "queues": [{"slug": "support"}],
                      "agents": [{"username": "ann", "queues": ["support"]}]})
    plan = scenario.plan()
    assert plan == scenario.plan()
    per_interval = [sum(1 for c in plan if i * 1800 <= c.at < (i + 1) * 1800) for i in range(3)]
    assert per_interval[1] == 0 and 20 < per_interval[0] < 60 and 90 < per_interval[2] < 150
    assert [c.at for c in plan] == sorted(c.at for c in plan)
    assert {c.digit for c in plan} == {None}  # one queue: no menu


def test_opt_out_share_marks_that_share_of_callers_and_leaves_the_arrivals_as_they_were():
    raw = {"arrivals": [200], "seed": 3, "queues": [{"slug": "support"}],
           "agents": [{"username": "ann", "queues": ["support"]}]}
    without, opted = parse(raw).plan(), parse({**raw, "opt_out_share": 0.25}).plan()
    assert [(c.at, c.number) for c in without] == [(c.at, c.number) for c in opted]
    assert not any(c.opted_out for c in without)
    assert 0.15 < sum(c.opted_out for c in opted) / len(opted) < 0.35


def test_machine_share_has_that_share_of_callers_answered_by_voicemail_or_fax_when_called_back():
    raw = {"arrivals": [400], "seed": 3, "queues": [{"slug": "support"}],
           "agents": [{"username": "ann", "queues": ["support"]}]}
    without, machines = parse(raw).plan(), parse({**raw, "machine_share": 0.3}).plan()
    assert [(c.at, c.number, c.opted_out) for c in without] == \
        [(c.at, c.number, c.opted_out) for c in machines]
    assert not any(c.machine for c in without)
    assert 0.2 < sum(bool(c.machine) for c in machines) / len(machines) < 0.4
    assert {c.machine for c in machines} == {"", *MACHINE_ANSWERS}


def test_without_faults_keeps_the_callers_and_agents_and_switches_every_fault_off():
    busy = load(SCENARIOS / "twilio_strict_busy.toml")
    calm = busy.without_faults()
    assert [(c.at, c.number, c.digit, c.takes_callback) for c in busy.plan()] == \
        [(c.at, c.number, c.digit, c.takes_callback) for c in calm.plan()]
    assert any(a.refused for a in busy.agents) and any(a.voicemail for a in busy.agents)
    assert not any(a.refused or a.voicemail for a in calm.agents)
    assert [a.username for a in busy.agents] == [a.username for a in calm.agents]
    assert (calm.refused_number_share, calm.machine_share, calm.opt_out_share) == (0, 0, 0)
    assert calm.calls_per_second > busy.calls_per_second == 1
    assert busy.dial_rate > busy.calls_per_second  # Holdless dials faster than the account
    assert calm.dial_rate == calm.calls_per_second
    assert not any(c.opted_out or c.machine for c in calm.plan())


def test_an_agent_whose_voicemail_answers_is_rung_on_a_phone_number():
    scenario = parse({"arrivals": [1], "queues": [{"slug": "support"}],
                      "agents": [{"username": "vm", "queues": ["support"], "voicemail": True},
                                 {"username": "ann", "queues": ["support"]}]})
    voicemail, browser = scenario.agents
    assert voicemail.voicemail and voicemail.contact.startswith("+")
    assert browser.contact == "client:ann"


def test_menu_choice_follows_the_queues_shares():
    scenario = parse({"arrivals": [2000], "queues": [
        {"slug": "sales", "digit": "1", "share": 0.25},
        {"slug": "support", "digit": "2", "share": 0.75}],
        "agents": [{"username": "ann", "queues": ["sales"]}]})
    digits = [c.digit for c in scenario.plan()]
    assert 0.2 < digits.count("1") / len(digits) < 0.3


def test_agents_with_count_and_shifts_become_one_agent_each_with_offsets_from_the_start():
    scenario = parse({"start": "2026-11-17T10:00:00", "arrivals": [1],
                      "queues": [{"slug": "support"}],
                      "agents": [{"username": "late", "count": 2, "queues": ["support"],
                                  "shifts": [["10:00", "11:00"], ["12:00", "14:00"]]}]})
    assert [a.username for a in scenario.agents] == ["late1", "late2"]
    assert scenario.agents[0].shifts == ((0.0, 3600.0), (7200.0, 14400.0))


def test_lognormal_and_exponential_draws_have_the_asked_mean():
    import random
    rng = random.Random(1)
    for kind in ("lognormal", "exponential"):
        draws = [Distribution(kind, 240, 0.5).sample(rng) for _ in range(20000)]
        assert statistics.fmean(draws) == pytest.approx(240, rel=0.05)


@pytest.mark.parametrize("raw, message", [
    ({"queues": [], "agents": []}, "arrivals"),
    ({"arrivals": [1], "queues": [{"slug": "a"}],
      "agents": [{"username": "x", "queues": ["b"]}]}, "unknown queues"),
    ({"arrivals": [1], "queues": [{"slug": "a"}], "patience": {"kind": "normal", "mean": 1},
      "agents": [{"username": "x", "queues": ["a"]}]}, "patience"),
    ({"arrivals": [1], "queues": [{"slug": "a"}],
      "agents": [{"username": "x", "queues": ["a"], "shifts": [["12:00", "09:00"]]}]}, "end"),
    ({"arrivals": [1], "queues": [{"slug": "a"}], "opt_out_share": 1.5,
      "agents": [{"username": "x", "queues": ["a"]}]}, "opt_out_share"),
    ({"arrivals": [1], "queues": [{"slug": "a"}], "machine_share": -0.1,
      "agents": [{"username": "x", "queues": ["a"]}]}, "machine_share"),
    ({"arrivals": [1], "queues": [{"slug": "a"}], "calls_per_second": 0,
      "agents": [{"username": "x", "queues": ["a"]}]}, "calls_per_second"),
    ({"arrivals": [1], "queues": [{"slug": "a"}], "calls_per_second": 1000,
      "agents": [{"username": "x", "queues": ["a"]}]}, "calls_per_second"),
    ({"arrivals": [1], "queues": [{"slug": "a"}], "app_calls_per_second": -1,
      "agents": [{"username": "x", "queues": ["a"]}]}, "app_calls_per_second"),
    ({"arrivals": [1], "queues": [{"slug": "a"}],
      "agents": [{"username": "x", "queues": ["a"], "voicemail": "yes"}]}, "voicemail"),
    ({"arrivals": [1], "queues": [{"slug": "a"}],
      "agents": [{"username": "x", "queues": ["a"], "refused": 21210}]}, "refused"),
])
def test_malformed_scenarios_are_refused_with_a_message_naming_the_problem(raw, message):
    with pytest.raises(ScenarioError, match=message):
        parse(raw)

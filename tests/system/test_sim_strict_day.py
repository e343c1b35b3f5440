"""A short busy spell against the strict stand-in (scenarios/twilio_strict_busy.toml with
fewer callers), every fault switched on together: refused dials (an agent's phone, a share
of callers' numbers), callback customers' phones answered by voicemail or fax, an agent's
phone answered by voicemail, customers opted out of texts, and 1 call per second. Counted
from the database and the stand-in's records: nobody stranded, no callback lost, no entry
answered twice, no text tried to an opted-out number, no customer bridged to a machine, no
agent's voicemail bridged to a caller; and each fault did happen."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from models.base import Database
from models.callbacks import Callback, CallbackAttempt
from simulator import day, scenario

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "twilio_strict_busy.toml"
# A short spell of the day: 12 virtual minutes of callers, at 60 times real time, the late
# shift signing in at 09:05 while callers wait, more of the callback customers' phones
# answered by a machine and more callers taking a callback (so that some surely are), and an
# account placing one call every 5 s while Holdless is set to dial at 20 a second: any two
# dials within 5 s (an agent, then the customer of a callback) wait in Twilio's queue. At
# 1 and 2 a second the queue filled only when two dials fell in the same second, which some
# runs never saw.
SHORT_SPELL = {"interval_minutes": 6, "arrivals": [24, 20], "machine_share": 0.6,
               "callback_share": 0.8, "calls_per_second": 0.2, "app_calls_per_second": 20}
LATE_SHIFT = [["09:05", "11:00"]]
MACHINES = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other",
            "fax")


@pytest.fixture(scope="module")
def strict_day(tmp_path_factory: pytest.TempPathFactory):
    """The short spell simulated once; its plan, report and database."""
    raw = {**tomllib.loads(SCENARIO.read_text()), **SHORT_SPELL}
    for agents in raw["agents"]:
        if agents["username"] == "late":
            agents["shifts"] = LATE_SHIFT
    plan = scenario.parse(raw, "twilio_strict_busy (short spell)")
    out = tmp_path_factory.mktemp("strict-day")
    report = day.simulate(plan, out, speed=60, echo=lambda _line: None, job_workers=2,
                          web_workers=2, grace=10.0)
    db = Database(f"sqlite:///{out / 'sim-instance' / 'holdless.db'}")
    yield plan, report, db
    db.dispose()


@pytest.mark.slow
def test_a_busy_spell_with_every_twilio_fault_strands_nobody_and_bridges_no_machine(strict_day):
    plan, report, _db = strict_day
    strict = report.strict
    assert report.planned == len(plan.plan()) == report.calls > 0
    assert strict.stranded == 0 and strict.open_offers == 0 and strict.answered_twice == 0
    assert report.callbacks.lost == 0
    assert report.texts.to_opted_out == 0
    assert strict.customers_bridged_to_machine == 0
    assert strict.voicemails_bridged == 0
    assert report.app_errors == 0


@pytest.mark.slow
def test_each_twilio_fault_of_the_busy_spell_actually_happened(strict_day):
    _plan, report, db = strict_day
    strict = report.strict
    with db.session() as s:
        detected = set(s.scalars(select(CallbackAttempt.answered_by)))
        booked = set(s.scalars(select(Callback.number)))
    assert strict.refused_dials > 0  # the abroad agent's phone, callers' numbers
    assert strict.cps_queued > 0  # dialled faster than 1 call per second: some waited queued
    assert strict.customers_machines > 0 and detected & set(MACHINES)
    assert strict.agent_voicemails > 0
    assert report.texts.opted_out > 0 and report.callbacks.booked > 0
    assert booked, "no callback booked: the spell is not busy enough"
    assert report.texts.sent > 0

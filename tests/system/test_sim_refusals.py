"""A simulated spell with Twilio refusing dials and pacing calls at 1 per second
(scenarios/refusals.toml, through the whole stack): nobody is stranded, no caller is
handed to two agents at once, no callback is lost, and the refused agent is offline with
Twilio's reason."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from models.base import Database
from models.callbacks import Callback, CallbackAttempt
from models.entities import ABANDONED, Agent, Assignment, Interaction, Leg
from simulator import day, scenario

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "refusals.toml"
FINAL = {"completed", ABANDONED}


@pytest.fixture(scope="module")
def refusal_day(tmp_path_factory: pytest.TempPathFactory):
    """The refusals scenario simulated once at x60; its report and database."""
    plan = scenario.load(SCENARIO)
    out = tmp_path_factory.mktemp("refusal-day")
    report = day.simulate(plan, out, speed=60, echo=lambda _line: None, job_workers=2,
                          web_workers=2, grace=6.0)
    db = Database(f"sqlite:///{out / 'sim-instance' / 'holdless.db'}")
    yield plan, report, db
    db.dispose()


@pytest.mark.slow
def test_refused_dials_at_one_call_per_second_strand_nobody_and_lose_no_callback(refusal_day):
    plan, report, db = refusal_day
    with db.session() as s:
        calls = s.scalars(select(Interaction)).all()
        stranded = [c.id for c in calls if c.status not in FINAL]
        open_legs = s.scalars(select(Leg.id).where(Leg.ended_at.is_(None))).all()
        open_offers = s.scalars(select(Assignment.id).where(Assignment.ended_at.is_(None))).all()
        answered = Counter(a.entry for a in s.scalars(select(Assignment)).all()
                           if a.outcome == "answered")
        refused_offers = s.scalars(select(Assignment).where(
            Assignment.outcome == "refused")).all()
        abroad = s.scalar(select(Agent).where(Agent.username == "abroad"))
        refused_customers = s.scalars(select(CallbackAttempt).where(
            CallbackAttempt.outcome == "refused 21217")).all()
        callbacks = s.scalars(select(Callback)).all()
    assert len(calls) == report.planned == len(plan.plan()) > 0
    assert stranded == [] and open_legs == [] and open_offers == []
    assert [entry for entry, n in answered.items() if n > 1] == []  # none made twice
    assert report.callbacks.lost == 0 and report.app_errors == 0
    assert refused_offers, "the scenario's refused agent was never offered a caller"
    assert abroad.state == "offline" and "21215" in abroad.offline_reason
    assert all(c.status == "unreachable" for c in callbacks
               if any(a.callback_id == c.id for a in refused_customers))

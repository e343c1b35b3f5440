"""A tiny simulated day through the whole stack (web and worker processes, embedded Redis,
SQLite, the Twilio stand-in), and its report checked against the database it leaves."""

from __future__ import annotations

import statistics
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from models.base import Database
from models.entities import ABANDONED, Interaction, Leg
from simulator import day, scenario
from simulator.report import SL_TARGET_SECONDS

TINY = """
name = "Tiny"
start = 2026-11-16T09:00:00
interval_minutes = 2
arrivals = [3, 3]
wrap_up_seconds = 5
seed = 4
patience = { kind = "fixed", mean = 150 }
handle_time = { kind = "fixed", mean = 30 }
[[queues]]
slug = "sales"
name = "Sales"
digit = "1"
share = 0.5
[[queues]]
slug = "support"
name = "Support"
digit = "2"
share = 0.5
[[agents]]
username = "alice"
queues = ["sales", "support"]
[[agents]]
username = "bob"
queues = ["support"]
shifts = [["09:01", "09:30"]]
"""


@pytest.fixture(scope="module")
def tiny_day(tmp_path_factory: pytest.TempPathFactory):
    """The tiny scenario simulated once at x60; its report, output folder and database."""
    plan = scenario.parse(tomllib.loads(TINY), "tiny.toml")
    out = tmp_path_factory.mktemp("tiny-day")
    progress: list[str] = []
    report = day.simulate(plan, out, speed=60, echo=progress.append, job_workers=1,
                          web_workers=2, grace=6.0)
    db = Database(f"sqlite:///{out / 'sim-instance' / 'holdless.db'}")
    yield plan, report, out, db, progress
    db.dispose()


@pytest.mark.slow
def test_tiny_day_places_every_planned_call_and_each_ends_accounted_for(tiny_day):
    plan, report, _out, db, progress = tiny_day
    with db.session() as s:
        rows = s.scalars(select(Interaction)).all()
        assert len(rows) == len(plan.plan()) == report.calls == report.planned > 0
        assert report.app_errors == report.refused_reports == 0
        assert {r.status for r in rows} <= {"completed", ABANDONED}
        assert all(leg.ended_at is not None for leg in s.scalars(select(Leg)))
    assert len(report.answered) + len(report.abandoned) + report.left_in_menu \
        + report.closed == report.calls
    assert any("calls" in line for line in progress)


@pytest.mark.slow
def test_tiny_day_report_figures_match_the_database(tiny_day):
    _plan, report, _out, db, _progress = tiny_day
    with db.session() as s:
        rows = s.scalars(select(Interaction)).all()
        answered = [r for r in rows if r.answered_at is not None]
        abandoned = [r for r in rows if r.status == ABANDONED and r.outcome == "abandoned"]
        waits = [r.wait_seconds for r in answered]
        errors = sorted(r.announced_wait - r.wait_seconds for r in answered)
    assert answered, "nobody was answered: the day did not run"
    assert len(report.answered) == len(answered)
    assert len(report.abandoned) == len(abandoned)
    assert report.asa == pytest.approx(statistics.fmean(waits))
    quick = sum(1 for w in waits if w <= SL_TARGET_SECONDS)
    assert report.service_level == pytest.approx(quick / (len(answered) + len(abandoned)))
    assert sorted(report.wait_errors) == pytest.approx(errors)
    assert set(report.utilisation) == {"alice", "bob"}
    assert all(0 < u <= 1 for u in report.utilisation.values())


@pytest.mark.slow
def test_tiny_day_writes_the_text_report_and_a_png_chart(tiny_day):
    _plan, report, out, _db, _progress = tiny_day
    text = (Path(out) / "report.txt").read_text()
    assert f"calls                  {report.calls} (placed {report.planned}; " in text
    assert f"answered               {len(report.answered)}\n" in text
    assert "wait announced - actual" in text
    assert (Path(out) / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Traceback" not in (Path(out) / "sim-instance" / "logs" / "worker-1.log").read_text()

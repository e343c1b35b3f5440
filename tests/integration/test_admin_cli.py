"""`holdless admin`: hours, holiday import, reports (with CSV and chart), staffing, board."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from admin.audit import history
from admin.config import find_queue, hours_text
from entrypoints.admin_cli import admin
from models.entities import COMPLETED, Holiday, Interaction, Leg
from tests.helpers import seed_queues


@pytest.fixture
def run_admin(rt, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("REDIS_URL", rt.redis_url)
    monkeypatch.setenv("USER", "ops")
    seed_queues(rt, ("support", "Support", "1"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(admin, list(args), catch_exceptions=False)
    return invoke


def test_hours_command_sets_ranges_by_weekday_name_and_is_audited(run_admin, rt):
    result = run_admin("hours", "support", "tue", "09:00-12:00,13:00-17:00")
    assert result.exit_code == 0, result.output
    assert "support tuesday: 09:00-12:00, 13:00-17:00" in result.output
    with rt.db.session() as s:
        assert hours_text(find_queue(s, "support"), 1) == ["09:00-12:00", "13:00-17:00"]
        assert history(s)[0].actor == "cli:ops"


def test_hours_command_refuses_bad_input_naming_the_field(run_admin):
    overlap = run_admin("hours", "support", "1", "09:00-12:00,11:00-13:00")
    assert overlap.exit_code == 2
    assert "hours: 11:00-13:00 overlaps the range before it" in overlap.output
    assert "weekday: must be at most 6" in run_admin("hours", "support", "8", "closed").output
    assert run_admin("hours", "support", "someday", "closed").exit_code == 2
    assert "queue: no queue 'nope'" in run_admin("hours", "nope", "1", "closed").output


def test_holidays_import_command_adds_once(run_admin, rt):
    first = run_admin("holidays", "import", "US", "2026")
    assert first.exit_code == 0 and "12 holiday(s) added" in first.output
    assert "2026-11-26 Thanksgiving Day" in first.output
    assert "0 holiday(s) added" in run_admin("holidays", "import", "US", "2026").output
    with rt.db.session() as s:
        assert len(s.scalars(select(Holiday)).all()) == 12
    assert "country:" in run_admin("holidays", "import", "XX", "2026").output


def test_report_command_prints_the_day_and_writes_csv_and_chart(run_admin, rt, tmp_path):
    with rt.db.session() as s:
        support = find_queue(s, "support")
        created = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)  # 09:00 in New York
        answered = created + timedelta(seconds=12)
        call = Interaction(call_sid="CA" + "1" * 32, caller_number="+12015550101",
                           queue_id=support.id, status=COMPLETED, created_at=created,
                           joined_at=created.timestamp(), answered_at=answered,
                           wait_seconds=12.0)
        call.legs.append(Leg(status="completed", started_at=created, answered_at=answered,
                             ended_at=answered + timedelta(seconds=200)))
        s.add(call)
    csv_file, png_file = tmp_path / "day.csv", tmp_path / "day.png"
    result = run_admin("report", "--day", "2026-11-16", "--queue", "support",
                       "--csv", str(csv_file), "--chart", str(png_file))
    assert result.exit_code == 0, result.output
    assert ("support on 2026-11-16: offered 1, answered 1, abandoned 0, service level 100.0%, "
            "ASA 12.0 s, AHT 200.0 s") in result.output
    assert "09:00,1,1,0,100.00,12.00,200.00,100.00,0.00" in csv_file.read_text()
    assert png_file.read_bytes().startswith(b"\x89PNG")
    assert run_admin("report", "--day", "16/11/2026").exit_code == 2
    assert "queue: no queue 'nope'" in run_admin("report", "--queue", "nope").output


def test_report_command_defaults_to_today_for_every_queue(run_admin, frozen_clock):
    result = run_admin("report")
    assert result.exit_code == 0
    assert f"all on {frozen_clock.now().date().isoformat()}: offered 0" in result.output


def test_staffing_and_board_commands_run_on_an_empty_line(run_admin):
    assert "the plan covers every interval" in run_admin("staffing", "support").output
    assert ("support: open (no hours set), 0 waiting, oldest -, 0 callbacks due, new caller: "
            "no agent signed in; agents: none") in run_admin("board").output


def test_not_ready_command_sets_the_reasons_agents_choose_from_and_refuses_blanks(run_admin, rt):
    from queueing import not_ready
    result = run_admin("not-ready", "Break", "Coaching", "Lunch")
    assert result.output.strip() == "Not-ready reasons: Break, Coaching, Lunch"
    refused = run_admin("not-ready", "Break", " ")
    assert refused.exit_code == 2
    assert "reasons: each is 1 to 60 characters" in refused.output
    with rt.db.session() as s:
        assert not_ready.reasons(s) == ["Break", "Coaching", "Lunch"]
    assert run_admin("not-ready").output.strip() == "Not-ready reasons: Break, Coaching, Lunch"

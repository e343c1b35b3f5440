"""Reports over any range of days, per queue and per agent, as JSON, CSV and a chart that
reads at a glance (service level on its own axis, never a negative axis)."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from admin import reports
from models.console import Transfer
from models.entities import COMPLETED, Interaction, Leg
from models.presence import PresenceSpell
from queueing.directory import queue_by_slug
from tests.console_helpers import Desk, seed_people_and_admin

NEW_YORK = ZoneInfo("America/New_York")
_sids = itertools.count(1)


def _call(s, queue_id: int, local: datetime, legs: list[tuple[int, str, float]],
          wait: float = 10.0) -> Interaction:
    """An answered inbound call; legs are (agent id, status, talk seconds)."""
    created = local.astimezone(UTC)
    call = Interaction(call_sid=f"CR{next(_sids):032d}", caller_number="+12015550111",
                       queue_id=queue_id, status=COMPLETED, created_at=created,
                       joined_at=created.timestamp(), wait_seconds=wait,
                       answered_at=created + timedelta(seconds=wait))
    moment = call.answered_at
    for agent_id, status, talk in legs:
        answered = moment if status == "completed" else None
        call.legs.append(Leg(agent_id=agent_id, status=status, started_at=moment,
                             answered_at=answered, ended_at=moment + timedelta(seconds=talk)))
        moment += timedelta(seconds=talk)
    s.add(call)
    s.flush()
    return call


@pytest.fixture
def week(rt, app):
    """Alice takes calls on Monday and Wednesday 16 and 18 Nov 2026; Bob misses one and
    transfers one; nothing on Tuesday."""
    people = seed_people_and_admin(rt)
    alice, bob = people["alice"], people["bob"]
    with rt.db.session() as s:
        support = queue_by_slug(s, "support").id
        _call(s, support, datetime(2026, 11, 16, 9, 5, tzinfo=NEW_YORK),
              [(alice, "completed", 100.0)])
        _call(s, support, datetime(2026, 11, 16, 9, 40, tzinfo=NEW_YORK),
              [(bob, "missed", 20.0), (alice, "completed", 200.0)], wait=40.0)
        moved = _call(s, support, datetime(2026, 11, 18, 14, 0, tzinfo=NEW_YORK),
                      [(bob, "completed", 60.0), (alice, "completed", 300.0)])
        s.add(Transfer(interaction_id=moved.id, from_agent_id=bob, to_agent_id=alice,
                       mode="warm", created_at=moved.created_at))
    return Desk(app, "ada")


def test_a_range_report_has_a_row_per_day_and_per_agent_figures(rt, week):
    found = week.get("/api/admin/reports?from=2026-11-16&to=2026-11-18&queue=support").json
    assert (found["from"], found["to"], found["zone"]) == ("2026-11-16", "2026-11-18",
                                                           "America/New_York")
    assert [(i["interval"], i["offered"]) for i in found["intervals"]] == [
        ("2026-11-16", 2), ("2026-11-17", 0), ("2026-11-18", 1)]
    assert found["total"]["offered"] == 3
    agents = {a["agent"]: a for a in found["agents"]}
    assert (agents["Alice Agent"]["handled"], agents["Alice Agent"]["aht_seconds"]) == (3, 200.0)
    assert (agents["Bob Agent"]["handled"], agents["Bob Agent"]["missed_offers"],
            agents["Bob Agent"]["transfers"]) == (1, 1, 1)
    one_day = week.get("/api/admin/reports?from=2026-11-16&queue=support").json
    assert len(one_day["intervals"]) == 48 and one_day["total"]["offered"] == 2
    assert {a["agent"]: a["handled"] for a in one_day["agents"]} == {"Alice Agent": 2,
                                                                     "Bob Agent": 0}


def test_the_range_csv_downloads_per_day_and_per_agent(rt, week):
    days = week.get("/api/admin/reports/csv?from=2026-11-16&to=2026-11-18&queue=support")
    assert 'filename="holdless-support-2026-11-16_2026-11-18.csv"' in \
        days.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(days.get_data(as_text=True))))
    assert [r["interval"] for r in rows] == ["2026-11-16", "2026-11-17", "2026-11-18", "day"]
    per_agent = week.get("/api/admin/reports/csv?from=2026-11-16&to=2026-11-18&by=agent")
    agents = {r["agent"]: r for r in csv.DictReader(io.StringIO(per_agent.get_data(as_text=True)))}
    assert (agents["Alice Agent"]["handled"], agents["Bob Agent"]["missed_offers"]) == ("3", "1")


@pytest.mark.parametrize(("query", "field"), [("from=2026-11-18&to=2026-11-16", "to"),
                                              ("from=2026-13-01", "from"),
                                              ("from=2026-01-01&to=2027-06-01", "to")])
def test_a_bad_range_is_refused_naming_the_field(rt, week, query, field):
    refused = week.get(f"/api/admin/reports?{query}")
    assert refused.status_code == 400 and refused.json["field"] == field
    page = week.get(f"/admin/reports?{query}")
    assert page.status_code == 400
    assert f'aria-describedby="error-{field}"' in page.get_data(as_text=True)


def test_the_report_page_shows_the_range_and_the_agents(rt, week):
    page = week.get("/admin/reports?from=2026-11-16&to=2026-11-18&queue=support")
    text = page.get_data(as_text=True)
    assert "Report: 2026-11-16 to 2026-11-18" in text and "times in America/New_York" in text
    assert "Alice Agent" in text and "/api/admin/reports/chart.png?from=2026-11-16" in text
    chart = week.get("/api/admin/reports/chart.png?from=2026-11-16&to=2026-11-18&queue=support")
    assert chart.mimetype == "image/png" and chart.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_chart_of_an_empty_day_has_no_negative_axis_and_says_it_is_empty(rt):
    empty = reports.Report(date(2026, 11, 17), "support",
                           reports.figures([]), tuple((label, reports.figures([]))
                                                      for label in reports.LABELS))
    calls, level = reports.chart_figure(empty, 80).axes
    assert calls.get_ylim()[0] == 0 and calls.get_ylim()[1] > 0
    assert level.get_ylim() == (0, 105)
    assert "No calls in this period" in [t.get_text() for t in calls.texts]


def test_the_service_level_is_a_bar_per_interval_on_its_own_axis_beside_its_target(rt, week):
    with rt.db.session() as s:
        found = reports.period_report(s, date(2026, 11, 16), date(2026, 11, 18), "support")
    _calls, level = reports.chart_figure(found, 80).axes
    heights = [bar.get_height() for bar in level.patches]
    assert heights == [50.0, 0.0, 100.0]  # Monday: one of two within 20 s; Tuesday: none
    red, green = (0.753, 0.224, 0.169, 1.0), (0.235, 0.616, 0.365, 1.0)
    assert [tuple(round(c, 3) for c in bar.get_facecolor()) for bar in level.patches] == [
        red, red, green]
    (target,) = level.get_lines()
    assert list(target.get_ydata()) == [80, 80]


def test_agents_wrap_up_and_not_ready_time_by_reason_come_from_their_presence(rt, week):
    with rt.db.session() as s:
        from sqlalchemy import select

        from models.entities import Agent
        alice = s.scalar(select(Agent.id).where(Agent.username == "alice"))
        monday = datetime(2026, 11, 16, 12, 0, tzinfo=NEW_YORK).astimezone(UTC)
        for start, minutes, state, reason in ((0, 30, "not-ready", "Lunch"),
                                              (45, 15, "not-ready", "Break"),
                                              (70, 1, "wrap-up", ""), (80, 0.5, "wrap-up", ""),
                                              (60 * 24 * 3, 60, "not-ready", "Lunch")):
            began = monday + timedelta(minutes=start)
            s.add(PresenceSpell(agent_id=alice, state=state, reason=reason, started_at=began,
                                ended_at=began + timedelta(minutes=minutes)))
    found = week.get("/api/admin/reports?from=2026-11-16&to=2026-11-18&queue=support").json
    mine = next(a for a in found["agents"] if a["agent"] == "Alice Agent")
    assert mine["not_ready_seconds"] == {"Lunch": 1800.0, "Break": 900.0}  # Thursday's: out
    assert mine["wrap_up_seconds"] == 45.0
    per_agent = week.get("/api/admin/reports/csv?from=2026-11-16&to=2026-11-18&by=agent")
    rows = {r["agent"]: r for r in csv.DictReader(io.StringIO(per_agent.get_data(as_text=True)))}
    assert rows["Alice Agent"]["not_ready_seconds:Lunch"] == "1800.00"
    page = week.get("/admin/reports?from=2026-11-16&to=2026-11-18&queue=support")
    assert "Break 15 min, Lunch 30 min" in page.get_data(as_text=True)


def _breaks_only(rt) -> None:
    """Carol serves Support and Dan serves Sales; neither took a call that week, each took a
    ten-minute break on Tuesday 17 Nov; Eve (Support) took hers the week before."""
    from admin import directory
    with rt.db.session() as s:
        tuesday = datetime(2026, 11, 17, 11, 0, tzinfo=NEW_YORK).astimezone(UTC)
        for username, queue, began in (("carol", "support", tuesday),
                                       ("dan", "sales", tuesday),
                                       ("eve", "support", tuesday - timedelta(days=7))):
            agent = directory.create_agent(s, f"{username.title()} Agent", username,
                                           f"client:{username}", [queue], "agent", "pw-" * 4)
            s.add(PresenceSpell(agent_id=agent.id, state="not-ready", reason="Break",
                                started_at=began, ended_at=began + timedelta(minutes=10)))


def test_a_queues_report_lists_its_agents_who_only_took_breaks_in_json_and_csv(rt, week):
    _breaks_only(rt)
    span = "from=2026-11-16&to=2026-11-18"

    def agents(query: str) -> dict[str, dict]:
        return {a["agent"]: a for a in week.get(f"/api/admin/reports?{span}{query}").json["agents"]}

    support = agents("&queue=support")
    assert support["Carol Agent"]["handled"] == 0
    assert support["Carol Agent"]["not_ready_seconds"] == {"Break": 600.0}
    assert "Dan Agent" not in support  # he serves Sales only
    assert "Eve Agent" not in support  # her break was before the range
    assert "Alice Agent" in support  # who took calls, as before
    sales = agents("&queue=sales")
    assert sales["Dan Agent"]["not_ready_seconds"] == {"Break": 600.0}
    assert "Carol Agent" not in sales
    everyone = agents("")
    assert {"Carol Agent", "Dan Agent"} <= set(everyone) and "Eve Agent" not in everyone
    reply = week.get(f"/api/admin/reports/csv?{span}&queue=support&by=agent")
    rows = {r["agent"]: r for r in csv.DictReader(io.StringIO(reply.get_data(as_text=True)))}
    assert (rows["Carol Agent"]["handled"], rows["Carol Agent"]["not_ready_seconds:Break"]) == (
        "0", "600.00")
    assert "Dan Agent" not in rows and "Eve Agent" not in rows

"""The administrator's JSON API (/api/admin) and pages (/admin): who may use them, every change
validated (400 naming the field, nothing changed) and audited, the IVR following edited hours,
holidays with the import, staffing gaps, booked callbacks cancelled and moved, reports."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from models.admin import ConfigAuditEntry
from models.callbacks import BOOKED, CANCELLED
from models.entities import Holiday, Interaction, Leg
from queueing import lines
from queueing.directory import queue_by_slug
from tests.callback_steps import book_callback, only_callback, run_scheduled
from tests.console_helpers import PASSWORD, Desk, seed_people_and_admin
from tests.helpers import call_form, spoken, twiml

NEW_YORK = ZoneInfo("America/New_York")
GETS = ("/api/admin/queues", "/api/admin/holidays", "/api/admin/agents", "/api/admin/audit",
        "/api/admin/board", "/api/admin/queues/support/callback-policy",
        "/api/admin/queues/support/staffing", "/api/admin/queues/support/callbacks",
        "/api/admin/reports/2026-11-16", "/api/admin/reports/2026-11-16/csv",
        "/api/admin/reports/2026-11-16/chart.png")
PAGES = ("/board", "/admin/queues", "/admin/holidays", "/admin/callback-policy",
         "/admin/staffing", "/admin/callbacks", "/admin/agents", "/admin/audit",
         "/admin/reports?day=2026-11-16")


@pytest.fixture
def people(rt):
    """Support and sales queues; alice, bob (agents), sam (supervisor), ada (admin)."""
    return seed_people_and_admin(rt)


@pytest.fixture
def ada(app, people):
    """The administrator's signed-in API client."""
    return Desk(app, "ada")


def audit_count(rt) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(ConfigAuditEntry))


def test_admin_api_is_401_signed_out_403_for_agents_and_200_for_admins(rt, app, client, people):
    alice = Desk(app, "alice")
    sam = Desk(app, "sam")
    ada = Desk(app, "ada")
    for path in GETS:
        assert client.get(path).status_code == 401, path
        assert client.get(path).json["detail"] == "sign in first"
        assert alice.get(path).status_code == 403, path
        supervisor_reads = path == "/api/admin/board" or path.startswith("/api/admin/reports/")
        assert sam.get(path).status_code == (200 if supervisor_reads else 403), path
        assert ada.get(path).status_code == 200, path
    refused = alice.send("PATCH", "/api/admin/queues/support", {"name": "Mine"})
    assert refused.status_code == 403 and audit_count(rt) == 0


def test_admin_pages_redirect_signed_out_refuse_agents_and_render_for_admins(rt, app, client,
                                                                             people):
    alice, ada = Desk(app, "alice"), Desk(app, "ada")
    for path in PAGES:
        signed_out = client.get(path)
        assert signed_out.status_code == 302 and "/sign-in" in signed_out.headers["Location"]
        assert alice.get(path).status_code == 403, path
        page = ada.get(path)
        assert page.status_code == 200, path
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        assert 'name="csrf-token"' in page.get_data(as_text=True)
    assert ada.get("/admin").headers["Location"] == "/board"  # administration starts there


def test_admin_change_without_csrf_token_is_400_and_changes_nothing(rt, ada):
    reply = ada.client.patch("/api/admin/queues/support", json={"name": "Renamed"})
    assert reply.status_code == 400 and "CSRF" in reply.json["detail"]
    assert ada.get("/api/admin/queues").json["queues"][0]["name"] == "Support"
    assert audit_count(rt) == 0


REFUSED = [
    ("PATCH", "/api/admin/queues/support", {"time_zone": "Mars/Olympus"}, "time_zone"),
    ("PATCH", "/api/admin/queues/support", {"sl_target_percent": 150}, "sl_target_percent"),
    ("PATCH", "/api/admin/queues/support", {"callback_threshold_seconds": -5},
     "callback_threshold_seconds"),
    ("PATCH", "/api/admin/queues/support", {"digit": "12"}, "digit"),
    ("PATCH", "/api/admin/queues/support", {"colour": "red"}, "colour"),
    ("POST", "/api/admin/queues", {"slug": "billing", "name": "", "time_zone": "UTC"}, "name"),
    ("PUT", "/api/admin/queues/support/hours", {"weekday": 0, "ranges": "09:00-12:00,11:00-13:00"},
     "hours"),
    ("PUT", "/api/admin/queues/support/hours", {"weekday": 0, "ranges": "17:00-09:00"}, "hours"),
    ("PUT", "/api/admin/queues/support/hours", {"weekday": 7, "ranges": "09:00-17:00"},
     "weekday"),
    ("POST", "/api/admin/holidays", {"name": "Break", "starts": "2026-12-24",
                                     "ends": "2026-12-20"}, "ends"),
    ("POST", "/api/admin/holidays", {"name": "Half day", "starts": "2026-12-24",
                                     "opens": "09:00"}, "closes"),
    ("POST", "/api/admin/holidays", {"name": "", "starts": "2026-12-24"}, "name"),
    ("POST", "/api/admin/holidays/import", {"country": "ZZ", "year": 2026}, "country"),
    ("POST", "/api/admin/holidays/import", {"country": "US", "year": 1800}, "year"),
    ("PATCH", "/api/admin/queues/support/callback-policy", {"attempts": -1}, "attempts"),
    ("PATCH", "/api/admin/queues/support/callback-policy", {"allowed_countries": "XX"},
     "allowed_countries"),
    ("PUT", "/api/admin/queues/support/staffing", {"weekday": 1, "interval_start": "10:00",
                                                   "agents": -2}, "agents"),
    ("PUT", "/api/admin/queues/support/staffing", {"weekday": 1, "interval_start": "10:15",
                                                   "agents": 2}, "interval_start"),
    ("POST", "/api/admin/agents", {"username": "eve", "name": "Eve", "contact": "client:eve",
                                   "password": "short"}, "password"),
    ("POST", "/api/admin/agents", {"username": "eve", "name": "Eve", "contact": "client:eve",
                                   "password": PASSWORD, "role": "boss"}, "role"),
    ("POST", "/api/admin/agents", {"username": "eve", "name": "Eve", "contact": "client:eve",
                                   "password": PASSWORD, "queues": ["nope"]}, "queues"),
    ("POST", "/api/admin/agents", {"username": "alice", "name": "A", "contact": "client:a",
                                   "password": PASSWORD}, "username"),
    ("PATCH", "/api/admin/agents/ada", {"role": "agent"}, "role"),
    ("PATCH", "/api/admin/queues/support", {"busy_threshold_seconds": 2**31},
     "busy_threshold_seconds"),
    ("PATCH", "/api/admin/queues/support", {"max_waiting": -2**40}, "max_waiting"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), REFUSED,
                         ids=[f"{r[3]}-{i}" for i, r in enumerate(REFUSED)])
def test_invalid_change_is_400_naming_the_field_and_changes_nothing(rt, ada, method, path,
                                                                    body, field):
    before = ada.get("/api/admin/queues").json
    reply = ada.send(method, path, body)
    assert reply.status_code == 400, reply.json
    assert reply.json["field"] == field and reply.json["detail"].startswith(f"{field}: ")
    assert ada.get("/api/admin/queues").json == before
    assert audit_count(rt) == 0


@pytest.mark.parametrize("path", ["/api/admin/reports/yesterday",
                                  "/api/admin/reports/0001-01-01/chart.png",
                                  "/api/admin/reports/9999-12-31",
                                  "/api/admin/reports/1999-12-31/csv"])
def test_report_of_a_malformed_or_out_of_range_day_is_400_naming_the_day(rt, ada, path):
    reply = ada.get(path)
    assert reply.status_code == 400 and reply.json["field"] == "day"


def test_a_holiday_outside_the_calendar_range_is_refused_naming_the_field(rt, ada):
    reply = ada.send("POST", "/api/admin/holidays", {"name": "Year one", "starts": "0001-01-01"})
    assert reply.status_code == 400 and reply.json["field"] == "starts"
    assert audit_count(rt) == 0


@pytest.mark.parametrize("path", ["/api/admin/reports/2026-11-20?queue=%00",
                                  "/api/admin/queues/sup%00port",
                                  "/api/admin/board?x%00=1"])
def test_a_nul_character_in_the_address_is_400_not_a_database_error(rt, ada, path):
    reply = ada.get(path)
    assert reply.status_code == 400
    assert "NUL" in reply.json["detail"]


def test_queue_settings_and_hours_change_and_each_change_is_audited_newest_first(rt, ada,
                                                                                people):
    changed = ada.send("PATCH", "/api/admin/queues/support", {
        "greeting": "Support here.", "sl_target_seconds": "30", "survey_enabled": True})
    assert changed.status_code == 200
    assert (changed.json["greeting"], changed.json["sl_target_seconds"]) == ("Support here.", 30)
    hours = ada.send("PUT", "/api/admin/queues/support/hours",
                     {"weekday": 1, "ranges": [["13:00", "17:00"], ["09:00", "12:00"]]})
    assert hours.json == {"weekday": 1, "ranges": ["09:00-12:00", "13:00-17:00"]}
    queue = ada.get("/api/admin/queues").json["queues"][0]
    assert queue["hours"]["1"] == ["09:00-12:00", "13:00-17:00"] and queue["hours"]["0"] == []
    entries = ada.get("/api/admin/audit").json["entries"]
    assert [(e["actor"], e["actor_id"], e["action"], e["entity"]) for e in entries] == [
        ("ada", people["ada"], "update", "opening_hours"),
        ("ada", people["ada"], "update", "queue")]
    assert entries[0]["before"]["ranges"] == []
    assert entries[0]["after"]["ranges"] == ["09:00-12:00", "13:00-17:00"]
    assert entries[1]["before"]["sl_target_seconds"] == 20
    assert entries[1]["after"]["sl_target_seconds"] == 30
    page = ada.get("/admin/audit").get_data(as_text=True)
    assert page.index("Support, Tuesday") < page.index("Queue changed")


def test_created_queue_and_agent_are_listed_and_the_agent_can_sign_in(rt, app, ada):
    made = ada.send("POST", "/api/admin/queues", {"slug": "billing", "name": "Billing",
                                                  "digit": "3", "time_zone": "Europe/Berlin",
                                                  "sl_target_percent": 90})
    assert made.status_code == 201 and made.json["time_zone"] == "Europe/Berlin"
    assert made.json["sl_target_percent"] == 90
    agent = ada.send("POST", "/api/admin/agents", {
        "username": "eve", "name": "Eve Admin", "contact": "+12125550199",
        "password": PASSWORD, "role": "admin", "queues": "billing, support"})
    assert agent.status_code == 201 and agent.json["queues"] == ["billing", "support"]
    assert "password_hash" not in agent.json
    listed = {a["username"]: a for a in ada.get("/api/admin/agents").json["agents"]}
    assert listed["eve"]["role"] == "admin"
    moved = ada.send("PATCH", "/api/admin/agents/eve", {"queues": ["support"]})
    assert moved.json["queues"] == ["support"]
    entries = ada.get("/api/admin/audit?entity=agent").json["entries"]
    assert entries[1]["after"]["password"] == "changed"
    assert PASSWORD not in str(entries)
    assert Desk(app, "eve").get("/api/admin/queues").status_code == 200
    assert ada.send("PATCH", "/api/admin/agents/nobody", {"name": "X"}).status_code == 404


def test_closing_the_hours_now_makes_the_ivr_say_closed_and_the_next_opening(rt, ada, twilio,
                                                                           one_queue):
    # The frozen clock: Monday 16 Nov 2026, 10:30 in New York.
    assert "closed" not in spoken(twiml(twilio.post("/voice/incoming", call_form())))
    for weekday in range(7):
        ada.send("PUT", "/api/admin/queues/support/hours", {"weekday": weekday,
                                                            "ranges": "09:00-17:00"})
    ada.send("PUT", "/api/admin/queues/support/hours", {"weekday": 0, "ranges": "12:00-17:00"})
    said = spoken(twiml(twilio.post("/voice/incoming", call_form())))
    assert "We are closed right now. We open again today at 12 PM." in said, said


def test_holiday_with_its_message_closes_the_line_and_can_be_deleted(rt, ada, twilio,
                                                                    one_queue):
    added = ada.send("POST", "/api/admin/holidays", {
        "name": "Staff day", "starts": "2026-11-16", "queue": "support",
        "message": "We are closed for our staff day."})
    assert added.status_code == 201 and added.json["queue"] == "support"
    ada.send("PUT", "/api/admin/queues/support/hours", {"weekday": 1, "ranges": "09:00-17:00"})
    said = spoken(twiml(twilio.post("/voice/incoming", call_form())))
    assert "We are closed for our staff day. We open again tomorrow at 9 AM." in said, said
    assert ada.send("DELETE", f"/api/admin/holidays/{added.json['id']}").status_code == 204
    assert ada.get("/api/admin/holidays").json["holidays"] == []
    assert ada.send("DELETE", f"/api/admin/holidays/{added.json['id']}").status_code == 404
    actions = [e["action"] for e in ada.get("/api/admin/audit?entity=holiday").json["entries"]]
    assert actions == ["delete", "create"]


def test_public_holiday_import_adds_the_year_once_and_audits_it(rt, ada):
    first = ada.send("POST", "/api/admin/holidays/import", {"country": "DE", "year": 2026})
    names = {h["name"] for h in first.json["added"]}
    assert first.status_code == 200 and len(first.json["added"]) == 9
    assert "Tag der Deutschen Einheit" in names or "German Unity Day" in names
    again = ada.send("POST", "/api/admin/holidays/import", {"country": "DE", "year": "2026"})
    assert again.json["added"] == []
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Holiday)) == 9
    assert [e["action"] for e in ada.get("/api/admin/audit").json["entries"]] == ["import"]


def test_callback_policy_starts_from_the_defaults_and_changes(rt, ada):
    policy = ada.get("/api/admin/queues/support/callback-policy").json
    assert (policy["attempts"], policy["spacing_minutes"], policy["allowed_countries"]) == (
        3, 5, ["US"])
    changed = ada.send("PATCH", "/api/admin/queues/support/callback-policy", {
        "attempts": "5", "allowed_countries": "us, gb", "allowed_number_types": "mobile"})
    assert changed.status_code == 200
    assert (changed.json["attempts"], changed.json["allowed_countries"],
            changed.json["allowed_number_types"]) == (5, ["GB", "US"], ["MOBILE"])
    assert ada.get("/api/admin/queues/support/callback-policy").json["attempts"] == 5
    assert ada.get("/api/admin/audit").json["entries"][0]["entity"] == "callback_policy"


def past_tuesdays(rt) -> None:
    """Four past Tuesdays with 20 answered calls of 180 s at 10:05 New York time."""
    with rt.db.session() as s:
        queue_id = queue_by_slug(s, "support").id
        for week in range(1, 5):
            start = datetime(2026, 11, 17, 10, 5, tzinfo=NEW_YORK) - timedelta(weeks=week)
            for n in range(20):
                created = start.astimezone(UTC)
                call = Interaction(call_sid=f"CA{week:02d}{n:030d}", caller_number="+12015550101",
                                   queue_id=queue_id, created_at=created,
                                   joined_at=created.timestamp(), status="completed",
                                   answered_at=created + timedelta(seconds=5), wait_seconds=5.0)
                call.legs.append(Leg(status="completed", started_at=created,
                                     answered_at=call.answered_at,
                                     ended_at=call.answered_at + timedelta(seconds=180)))
                s.add(call)


def test_staffing_plan_sits_beside_the_erlang_need_with_the_gap_spelled_out(rt, ada):
    past_tuesdays(rt)
    saved = ada.send("PUT", "/api/admin/queues/support/staffing",
                     {"weekday": 1, "interval_start": "10:00", "agents": 3})
    assert saved.json == {"queue": "support", "weekday": 1, "interval_start": "10:00",
                          "agents": 3}
    week = ada.get("/api/admin/queues/support/staffing").json
    tuesday_ten = next(i for i in week["intervals"] if (i["weekday"], i["start"]) == (1, "10:00"))
    assert (tuesday_ten["forecast_calls"], tuesday_ten["needed"], tuesday_ten["planned"],
            tuesday_ten["shortfall"]) == (20.0, 4, 3, 1)
    assert week["gaps"] == ["Tuesday 10:00–10:30: planned 3, needed 4 for 80% in 20 s"]
    page = ada.get("/admin/staffing?queue=support").get_data(as_text=True)
    assert "Tuesday 10:00–10:30: planned 3, needed 4 for 80% in 20 s" in page
    assert 'class="gap"' in page
    ada.send("PUT", "/api/admin/queues/support/staffing",
             {"weekday": 1, "interval_start": "10:00", "agents": 4})
    assert ada.get("/api/admin/queues/support/staffing").json["gaps"] == []


@pytest.fixture
def one_queue(rt, people):
    """Only the support queue answers (sales inactive), so callers join it directly."""
    with rt.db.session() as s:
        queue_by_slug(s, "sales").active = False


def test_booked_callbacks_are_listed_with_place_expected_time_and_attempts(rt, ada, twilio,
                                                                          one_queue):
    book_callback(twilio, "+12125550123")
    book_callback(twilio, "+12125550456")
    listed = ada.get("/api/admin/queues/support/callbacks").json["callbacks"]
    assert [(c["number_ending"], c["position"], c["attempts"], c["status"]) for c in listed] == [
        ("0123", 1, 0, BOOKED), ("0456", 2, 0, BOOKED)]
    assert all(c["expected_at"] for c in listed)
    board = ada.get("/api/admin/board").json["queues"]
    assert board[0]["slug"] == "support" and board[0]["waiting"] == 0  # callers: none left
    assert board[0]["callbacks_waiting"] == 2  # the two callbacks keep their places
    assert board[0]["callbacks"] == {"booked": 2, "dialling": 0}
    page = ada.get("/admin/callbacks?queue=support").get_data(as_text=True)
    assert "…0456" in page and "0 of 3" in page


def test_admin_cancels_a_callback_and_it_leaves_the_line(rt, ada, twilio, one_queue):
    book_callback(twilio)
    callback = only_callback(rt)
    reply = ada.send("POST", f"/api/admin/callbacks/{callback.id}/cancel")
    assert reply.json == {"id": callback.id, "status": "cancelled"}
    assert only_callback(rt).status == CANCELLED and only_callback(rt).open_key is None
    assert lines.length(rt.live, "support") == 0
    again = ada.send("POST", f"/api/admin/callbacks/{callback.id}/cancel")
    assert again.status_code == 400 and again.json["field"] == "callback"
    assert ada.send("POST", "/api/admin/callbacks/999999/cancel").status_code == 400
    entry = ada.get("/api/admin/audit").json["entries"][0]
    assert (entry["action"], entry["before"]["status"], entry["after"]["status"]) == (
        "cancel", BOOKED, CANCELLED)


def test_moving_a_callback_to_a_slot_takes_it_out_until_then_at_its_original_place(
        rt, ada, twilio, twilio_api, worker, frozen_clock, one_queue):
    book_callback(twilio)
    callback = only_callback(rt)
    past = ada.send("POST", f"/api/admin/callbacks/{callback.id}/move",
                    {"slot": "2026-11-16T09:00"})
    assert past.status_code == 400 and past.json["detail"] == "slot: must be in the future"
    ada.send("PUT", "/api/admin/queues/support/hours", {"weekday": 1, "ranges": "09:00-17:00"})
    closed = ada.send("POST", f"/api/admin/callbacks/{callback.id}/move",
                      {"slot": "2026-11-17T08:00"})
    assert closed.status_code == 400 and closed.json["detail"] == "slot: the line is closed then"
    moved = ada.send("POST", f"/api/admin/callbacks/{callback.id}/move",
                     {"slot": "2026-11-17T09:30"})
    assert moved.json["slot"] == "2026-11-17T09:30:00-05:00"
    assert lines.length(rt.live, "support") == 0
    row = only_callback(rt)
    assert row.expected_at == row.next_attempt_at == datetime(2026, 11, 17, 14, 30, tzinfo=UTC)
    listed = ada.get("/api/admin/queues/support/callbacks").json["callbacks"]
    assert listed[0]["position"] is None
    worker()
    moved_text = twilio_api.messages()[-1]
    assert moved_text.to == "+12125550123"
    assert f"reference {callback.reference}. We will call you tomorrow at 9:30 AM" in \
        moved_text.body
    frozen_clock.advance(timedelta(hours=23).total_seconds())
    run_scheduled(rt, worker)
    assert [e.joined for e in lines.waiting(rt.live, "support")] == [callback.place]


def test_report_for_a_day_as_json_csv_download_and_png_chart(rt, ada):
    past_tuesdays(rt)
    report = ada.get("/api/admin/reports/2026-11-10?queue=support").json
    assert report["total"]["offered"] == 20 and report["total"]["answered"] == 20
    assert report["total"]["service_level_percent"] == 100.0
    ten = next(i for i in report["intervals"] if i["interval"] == "15:00")  # 10:05 NY = 15:05 UTC
    assert ten["offered"] == 0  # intervals are local: the calls sit at 10:00
    assert next(i for i in report["intervals"] if i["interval"] == "10:00")["offered"] == 20
    csv = ada.get("/api/admin/reports/2026-11-10/csv?queue=support")
    assert csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    rows = csv.get_data(as_text=True).splitlines()
    assert rows[0].startswith("interval,offered,answered,abandoned")
    assert "10:00,20,20,0,100.00" in rows[21] and rows[-1].startswith("day,20,20,0")
    chart = ada.get("/api/admin/reports/2026-11-10/chart.png?queue=support")
    assert chart.mimetype == "image/png" and chart.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert ada.get("/api/admin/reports/2026-11-10?queue=nope").status_code == 404
    page = ada.get("/admin/reports?day=2026-11-10&queue=support").get_data(as_text=True)
    assert "/api/admin/reports/chart.png?from=2026-11-10&amp;to=2026-11-10&amp;queue=support" \
        in page
    assert "/api/admin/reports/csv?from=2026-11-10&amp;to=2026-11-10&amp;queue=support" in page


def test_staffing_with_callers_patience_is_sized_by_erlang_a(rt, ada):
    from queueing.erlang import agents_needed
    past_tuesdays(rt)
    week = ada.get("/api/admin/queues/support/staffing?patience=60").json
    tuesday_ten = next(i for i in week["intervals"] if (i["weekday"], i["start"]) == (1, "10:00"))
    assert week["patience_seconds"] == 60
    assert tuesday_ten["needed"] == agents_needed(20.0, 1800, 180.0, 0.8, 20, 60.0)
    refused = ada.get("/api/admin/queues/support/staffing?patience=0")
    assert refused.status_code == 400 and refused.json["field"] == "patience"
    page = ada.get("/admin/staffing?queue=support&patience=60").get_data(as_text=True)
    assert "sized by Erlang A with a mean patience of 60 s" in page


def test_report_counts_the_days_callbacks_by_outcome_apart_from_abandoned_calls(
        rt, ada, twilio, one_queue):
    book_callback(twilio, "+12125550123")
    book_callback(twilio, "+12125550456")
    first = ada.get("/api/admin/queues/support/callbacks").json["callbacks"][0]
    ada.send("POST", f"/api/admin/callbacks/{first['id']}/cancel")
    report = ada.get("/api/admin/reports/2026-11-16?queue=support").json
    assert report["callbacks"] == {"requested": 2, "completed": 0, "unreachable": 0,
                                   "cancelled": 1, "open": 1}
    assert report["total"]["abandoned"] == 0
    assert ada.get("/api/admin/reports/2026-11-15").json["callbacks"]["requested"] == 0


def test_a_new_queue_takes_its_zone_and_thresholds_from_the_settings(rt, ada):
    """HOLDLESS_TIME_ZONE, HOLDLESS_CALLBACK_THRESHOLD_SECONDS and
    HOLDLESS_BUSY_THRESHOLD_SECONDS are what a queue created without them starts with (each
    threshold's effect on a call: test_callback_booking, test_busy_notice)."""
    rt.settings = dataclasses.replace(rt.settings, time_zone="Europe/Berlin",
                                      callback_threshold_seconds=45,
                                      busy_threshold_seconds=900)
    made = ada.send("POST", "/api/admin/queues", {"slug": "billing", "name": "Billing",
                                                  "digit": "3"})
    assert made.status_code == 201, made.json
    assert (made.json["time_zone"], made.json["callback_threshold_seconds"],
            made.json["busy_threshold_seconds"]) == ("Europe/Berlin", 45, 900)

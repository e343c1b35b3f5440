"""Issue 17: the admin's settings do what they say. Closed means closed (a holiday closes a
queue with no weekly hours), the week is saved as a week, a setting the IVR cannot honour is
refused with the reason, names are plain text, and errors come as pages to a browser."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.admin import CallbackPolicy, ConfigAuditEntry
from models.entities import OpeningHours, Queue
from queueing.directory import queue_by_slug
from tests.console_helpers import Desk, seed_people_and_admin
from tests.helpers import call_form, spoken, twiml

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def ada(app, rt):
    """Support (the only active queue, no weekly hours) and ada, the administrator."""
    seed_people_and_admin(rt)
    with rt.db.session() as s:
        queue_by_slug(s, "sales").active = False
    return Desk(app, "ada")


def test_a_holiday_today_closes_a_queue_that_has_no_weekly_hours(rt, ada, twilio):
    with rt.db.session() as s:
        assert queue_by_slug(s, "support").hours == []
    assert "closed" not in spoken(twiml(twilio.post("/voice/incoming", call_form())))
    ada.send("POST", "/api/admin/holidays", {"name": "Storm closure", "starts": "2026-11-16",
                                             "message": "We are closed for the storm."})
    said = spoken(twiml(twilio.post("/voice/incoming", call_form(from_="+12125550456"))))
    assert "We are closed for the storm." in said and "next in line" not in said, said
    assert "We open again tomorrow at 12 AM." in said, said


def test_a_holiday_on_another_day_leaves_a_queue_without_hours_open(rt, ada, twilio):
    ada.send("POST", "/api/admin/holidays", {"name": "Later", "starts": "2026-11-18"})
    said = spoken(twiml(twilio.post("/voice/incoming", call_form())))
    assert "closed" not in said and "next in line" in said, said


def test_the_week_is_saved_at_once_and_audited_as_one_change(rt, ada, twilio):
    week = {"0": "12:00-17:00", "1": "09:00-17:00", "2": "09:00-17:00", "3": "09:00-12:00, "
            "13:00-17:00", "4": "09:00-17:00", "5": "", "6": ""}
    saved = ada.send("PUT", "/api/admin/queues/support/week", {"days": week})
    assert saved.status_code == 200, saved.json
    assert saved.json["days"]["3"] == ["09:00-12:00", "13:00-17:00"]
    assert saved.json["days"]["5"] == []
    entries = ada.get("/api/admin/audit?entity=opening_hours").json["entries"]
    assert len(entries) == 1 and entries[0]["after"]["week"]["0"] == ["12:00-17:00"]
    said = spoken(twiml(twilio.post("/voice/incoming", call_form())))
    assert "We are closed right now. We open again today at 12 PM." in said, said


def test_a_bad_day_in_the_week_is_refused_naming_that_day_and_nothing_is_saved(rt, ada):
    refused = ada.send("PUT", "/api/admin/queues/support/week",
                       {"days": {"0": "09:00-17:00", "2": "17:00-09:00"}})
    assert refused.status_code == 400
    assert refused.json["field"] == "hours_2"
    assert refused.json["message"].startswith("Wednesday: 17:00-09:00 must end after it starts")
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OpeningHours)) == 0
        assert s.scalar(select(func.count()).select_from(ConfigAuditEntry)) == 0


@pytest.mark.parametrize("kind", ["premium_rate", "shared_cost", "PERSONAL_NUMBER"])
def test_a_number_type_the_ivr_never_calls_back_is_refused_with_the_reason(rt, ada, kind):
    refused = ada.send("PATCH", "/api/admin/queues/support/callback-policy",
                       {"allowed_number_types": ["MOBILE", kind]})
    assert refused.status_code == 400 and refused.json["field"] == "allowed_number_types"
    assert "cannot be allowed: the phone menu never calls them back" in refused.json["message"]
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CallbackPolicy)) == 0


def test_ask_account_set_on_the_queues_page_makes_the_ivr_ask_for_the_account(rt, ada, twilio):
    page = ada.get("/admin/queues").get_data(as_text=True)
    assert 'name="ask_account"' in page
    assert ada.send("PATCH", "/api/admin/queues/support", {"ask_account": True}).status_code == 200
    said = spoken(twiml(twilio.post("/voice/incoming", call_form())))
    assert "account number" in said, said


@pytest.mark.parametrize(("path", "body"), [
    ("/api/admin/queues/support", {"name": "<b>Support</b>"}),
    ("/api/admin/agents/alice", {"name": "Alice <script>"}),
    ("/api/admin/holidays", {"name": "<i>Storm</i>", "starts": "2026-11-16"}),
])
def test_markup_in_a_name_is_refused_and_changes_nothing(rt, ada, path, body):
    refused = ada.send("PATCH" if "holidays" not in path else "POST", path, body)
    assert refused.status_code == 400 and refused.json["field"] == "name"
    assert refused.json["message"] == "may not contain < or > (names are shown as plain text)"
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ConfigAuditEntry)) == 0
        assert s.scalar(select(Queue.name).where(Queue.slug == "support")) == "Support"


def test_errors_are_pages_for_a_browser_and_json_for_the_api(rt, app, ada):
    missing = ada.client.get("/admin/nowhere", headers=BROWSER)
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "Page not found" in missing.get_data(as_text=True)
    alice = Desk(app, "alice")
    refused = alice.client.get("/admin/queues", headers=BROWSER)
    assert refused.status_code == 403 and refused.mimetype == "text/html"
    assert "This page is for administrators." in refused.get_data(as_text=True)
    api = alice.client.get("/api/admin/queues", headers=BROWSER)
    assert api.status_code == 403 and api.json["detail"] == "needs role: admin"
    curl = ada.client.get("/admin/nowhere", headers={"Accept": "*/*"})
    assert curl.mimetype == "application/json"


def one_past_monday(rt, calls: int = 100) -> None:
    """Monday 9 Nov 2026: `calls` answered calls of 180 s arriving 10:00-10:30 New York."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from models.entities import Interaction, Leg
    start = datetime(2026, 11, 9, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    with rt.db.session() as s:
        queue_id = queue_by_slug(s, "support").id
        for n in range(calls):
            created = (start + timedelta(seconds=n * 1800 // calls)).astimezone(UTC)
            call = Interaction(call_sid=f"CA{n:032d}", caller_number="+12015550101",
                               queue_id=queue_id, created_at=created,
                               joined_at=created.timestamp(), status="completed",
                               answered_at=created + timedelta(seconds=5), wait_seconds=5.0)
            call.legs.append(Leg(status="completed", started_at=created,
                                 answered_at=call.answered_at,
                                 ended_at=call.answered_at + timedelta(seconds=180)))
            s.add(call)


def _cell(week, weekday, start):
    return next(i for i in week["intervals"] if (i["weekday"], i["start"]) == (weekday, start))


def test_staffing_with_no_history_says_so_and_recommends_nothing(rt, ada):
    week = ada.get("/api/admin/queues/support/staffing").json
    assert len(week["days_without_history"]) == 7 and week["gaps"] == []
    assert _cell(week, 0, "10:00")["needed"] is None
    page = ada.get("/admin/staffing?queue=support").get_data(as_text=True)
    assert "Not enough history to forecast yet." in page
    assert "The plan covers every interval" not in page and "needs 0" not in page


def test_one_past_monday_forecasts_mondays_from_itself_not_a_week_of_averages(rt, ada):
    from queueing.erlang import agents_needed
    one_past_monday(rt)
    week = ada.get("/api/admin/queues/support/staffing").json
    monday_ten = _cell(week, 0, "10:00")
    assert monday_ten["forecast_calls"] == 100.0
    assert monday_ten["needed"] == agents_needed(100.0, 1800, 180.0, 0.8, 20) == 14
    # The days since that Monday had no calls at 10:00: covered, and counted as none.
    assert _cell(week, 1, "10:00")["forecast_calls"] == 0.0
    assert week["days_without_history"] == []


def test_shrinkage_grows_the_agents_to_roster_and_the_gap(rt, ada):
    one_past_monday(rt)
    plain = _cell(ada.get("/api/admin/queues/support/staffing").json, 0, "10:00")
    shrunk_week = ada.get("/api/admin/queues/support/staffing?shrinkage=35").json
    shrunk = _cell(shrunk_week, 0, "10:00")
    assert (shrunk["on_phones"], shrunk["needed"]) == (plain["needed"], 22)  # 14 / 0.65
    assert "Monday 10:00–10:30: planned 0, needed 22 for 80% in 20 s (14 on the phones, " \
           "35% shrinkage)" in shrunk_week["gaps"]
    refused = ada.get("/api/admin/queues/support/staffing?shrinkage=95")
    assert refused.status_code == 400 and refused.json["field"] == "shrinkage"


def test_plan_cells_filled_at_once_are_checked_first_and_audited_once(rt, ada):
    cells = [{"weekday": d, "interval_start": t, "agents": 3}
             for d in range(5) for t in ("09:00", "09:30")]
    saved = ada.send("PUT", "/api/admin/queues/support/staffing", {"cells": cells})
    assert saved.status_code == 200 and len(saved.json["cells"]) == 10
    week = ada.get("/api/admin/queues/support/staffing").json
    assert _cell(week, 4, "09:30")["planned"] == 3
    entries = ada.get("/api/admin/audit?entity=staffing_plan").json["entries"]
    assert len(entries) == 1 and entries[0]["after"]["cells"]["Friday 09:30"] == 3
    bad = [*cells[:3], {"weekday": 0, "interval_start": "10:15", "agents": 1}]
    refused = ada.send("PUT", "/api/admin/queues/support/staffing",
                       {"cells": [{**c, "agents": 5} for c in bad]})
    assert refused.status_code == 400 and refused.json["field"] == "interval_start"
    assert _cell(ada.get("/api/admin/queues/support/staffing").json, 0, "09:00")["planned"] == 3


def test_an_agent_is_renamed_given_a_new_password_and_queues_from_a_list(rt, app, ada):
    changed = ada.send("PATCH", "/api/admin/agents/alice",
                       {"name": "Alice Cooper", "queues": ["support", "sales"],
                        "password": "a-new-password"})
    assert changed.status_code == 200
    assert (changed.json["name"], changed.json["queues"]) == ("Alice Cooper", ["sales", "support"])
    client = app.test_client()
    import re
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/sign-in").get_data(as_text=True)).group(1)
    signed = client.post("/sign-in", data={"username": "alice", "password": "a-new-password",
                                           "csrf_token": token})
    assert signed.status_code == 302 and signed.headers["Location"] == "/console"


def test_a_deactivated_agent_cannot_sign_in_serves_no_queue_and_keeps_their_history(
        rt, app, ada):
    from models.entities import Agent
    alice = Desk(app, "alice")
    with rt.db.session() as s:
        alice_id = s.scalar(select(Agent.id).where(Agent.username == "alice"))
    assert ada.send("PATCH", "/api/admin/agents/alice", {"active": False}).status_code == 200
    assert alice.get("/api/me").status_code == 401  # the open session ends too
    import pytest as _pytest
    with _pytest.raises(AssertionError):
        Desk(app, "alice")
    with rt.db.session() as s:
        agent = s.get(Agent, alice_id)
        assert (agent.active, agent.queue_slugs, agent.state) == (False, [], "offline")
    listed = {a["username"]: a for a in ada.get("/api/admin/agents").json["agents"]}
    assert listed["alice"]["active"] is False  # still listed: history kept
    entry = ada.get("/api/admin/audit?entity=agent").json["entries"][0]
    assert {"field": "active", "before": "yes", "after": "no"} in entry["words"]["changes"]
    ada.send("PATCH", "/api/admin/agents/alice", {"active": True})
    Desk(app, "alice")  # signs in again


def test_the_last_administrator_cannot_be_deactivated(rt, ada):
    refused = ada.send("PATCH", "/api/admin/agents/ada", {"active": False})
    assert refused.status_code == 400 and refused.json["field"] == "active"
    assert refused.json["message"] == "the last administrator cannot be deactivated"


def test_an_administrator_lands_on_the_admin_pages_and_the_console_links_to_them(rt, app, ada):
    import re
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/sign-in").get_data(as_text=True)).group(1)
    from tests.console_helpers import PASSWORD
    signed = client.post("/sign-in", data={"username": "ada", "password": PASSWORD,
                                           "csrf_token": token})
    assert signed.headers["Location"] == "/admin"
    assert 'id="admin-pages"' in client.get("/console").get_data(as_text=True)
    assert 'id="admin-pages"' not in Desk(app, "alice").get("/console").get_data(as_text=True)


def test_the_audit_log_names_things_and_says_each_change_in_words(rt, ada):
    ada.send("PATCH", "/api/admin/queues/support", {"callback_threshold_seconds": 90,
                                                    "survey_enabled": True})
    ada.send("PUT", "/api/admin/queues/support/week", {"days": {"0": "09:00-17:00"}})
    page = ada.get("/admin/audit").get_data(as_text=True)
    assert "\\u003c" not in page and "{&#34;" not in page  # no raw JSON
    week, queue = ada.get("/api/admin/audit").json["entries"][:2]
    assert week["words"]["thing"] == "Support, the week"
    assert {"field": "Monday", "before": "closed", "after": "09:00-17:00"} in \
        week["words"]["changes"]
    assert queue["words"]["who"] == "Ada Admin (ada)"
    assert queue["words"]["thing"] == "Support"
    assert {"field": "offer a callback after (s)", "before": "120", "after": "90"} in \
        queue["words"]["changes"]
    assert {"field": "survey", "before": "no", "after": "yes"} in queue["words"]["changes"]
    assert "2026-11-16 10:30:00 EST" in page  # the queue's zone, said
    assert "offer a callback after (s)" in page and "Support, the week" in page
    only_hours = ada.get("/admin/audit?kind=opening_hours").get_data(as_text=True)
    assert "Support, the week" in only_hours and "offer a callback after" not in only_hours
    none = ada.get("/admin/audit?from=2026-11-17").get_data(as_text=True)
    assert "No changes match this filter." in none
    words = ada.get("/admin/audit?text=survey").get_data(as_text=True)
    assert "Support, the week" not in words and "survey" in words

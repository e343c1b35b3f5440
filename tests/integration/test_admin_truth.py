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

"""Every admin setting that had no test proving it through a call (docs/settings.md): each
test changes the setting as the admin pages do (the admin API) and observes what the next
caller hears, where they are put, whom Twilio is asked to ring, or what the figures of a
real call say. The frozen clock: Monday 16 Nov 2026, 15:30 UTC (10:30 in New York)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from admin import board, config, reports
from admin.audit import Actor
from models.entities import Leg, Queue
from queueing.directory import queue_by_slug
from tests.console_helpers import Desk, seed_people_and_admin
from tests.helpers import call_form, make_available, spoken, twiml, verbs
from tests.integration.test_admin_api import past_tuesdays
from tests.integration.test_callback_honest_promise import GERMAN, _booked_words
from tests.integration.test_callback_honest_promise import _queue as promising_queue

NEW_YORK = ZoneInfo("America/New_York")
TODAY = datetime(2026, 11, 16).date()


@pytest.fixture
def people(rt) -> dict[str, int]:
    """Support on key 1 and Sales on key 2 (no weekly hours: open around the clock); alice
    serves Support; ada administers."""
    found = seed_people_and_admin(rt)
    with rt.db.session() as s:
        queue_by_slug(s, "support").digit = "1"
        queue_by_slug(s, "sales").digit = "2"
    return found


@pytest.fixture
def ada(app, people) -> Desk:
    """The administrator's API client."""
    return Desk(app, "ada")


def only_support(rt) -> None:
    """Sales takes no calls: callers go straight to Support's line."""
    with rt.db.session() as s:
        queue_by_slug(s, "sales").active = False


def changed(ada: Desk, method: str, path: str, body: dict) -> dict:
    """An admin change that must succeed."""
    reply = ada.send(method, path, body)
    assert reply.status_code in (200, 201), reply.get_data(as_text=True)
    return reply.json


def test_a_renamed_queue_on_a_new_key_is_offered_by_its_new_name_and_reached_by_that_key(
        rt, ada, twilio):
    changed(ada, "PATCH", "/api/admin/queues/sales", {"name": "Billing", "digit": "3"})
    form = call_form()
    said = spoken(twiml(twilio.post("/voice/incoming", form)))
    assert "For Support, press 1. For Billing, press 3." in said and "Sales" not in said
    assert twiml(twilio.post("/voice/menu?attempt=1", {**form, "Digits": "3"})).find(
        "Enqueue").text == "sales"
    other = call_form(from_="+12125550124")
    twilio.post("/voice/incoming", other)
    old_key = twiml(twilio.post("/voice/menu?attempt=1", {**other, "Digits": "2"}))
    assert "Sorry, that is not an option." in spoken(old_key)


def test_a_queue_made_inactive_leaves_the_menu_and_callers_go_to_the_one_left(
        rt, ada, twilio):
    assert "For Sales, press 2." in spoken(twiml(twilio.post("/voice/incoming", call_form())))
    changed(ada, "PATCH", "/api/admin/queues/sales", {"active": False})
    root = twiml(twilio.post("/voice/incoming", call_form(from_="+12125550124")))
    assert "Sales" not in spoken(root)
    assert root.find("Enqueue").text == "support"


def test_a_new_time_zone_reads_the_same_hours_in_that_zone_for_the_next_caller(
        rt, ada, twilio):
    only_support(rt)
    week = {str(day): "09:00-17:00" for day in range(7)}
    changed(ada, "PUT", "/api/admin/queues/support/week", {"days": week})
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", call_form())))  # 10:30 NY
    changed(ada, "PATCH", "/api/admin/queues/support", {"time_zone": "Asia/Tokyo"})
    said = spoken(twiml(twilio.post("/voice/incoming", call_form(from_="+12125550124"))))
    assert "We are closed right now. We open again today at 9 AM." in said, said  # 00:30 Tue


def test_a_queues_voice_speaks_every_sentence_and_a_language_without_voices_refuses_one(
        rt, ada, twilio):
    only_support(rt)
    changed(ada, "PATCH", "/api/admin/queues/support", {"language": "de-DE",
                                                        "voice": "Polly.Hans"})
    says = list(twiml(twilio.post("/voice/incoming", call_form())).iter("Say"))
    assert says and {(s.get("language"), s.get("voice")) for s in says} == {
        ("de-DE", "Polly.Hans")}
    for body, field in (({"language": "et-EE"}, "language"),
                        ({"language": "et-EE", "voice": "Polly.Vicki"}, "voice")):
        refused = ada.send("PATCH", "/api/admin/queues/support", body)
        assert (refused.status_code, refused.json["field"]) == (400, field)
        assert "has no Twilio voice: its callers hear recorded prompts" in refused.json["detail"]
    with rt.db.session() as s:
        assert (queue_by_slug(s, "support").language, queue_by_slug(s, "support").voice) == (
            "de-DE", "Polly.Hans")  # nothing changed
    changed(ada, "PATCH", "/api/admin/queues/support", {"language": "et-EE", "voice": ""})
    root = twiml(twilio.post("/voice/incoming", call_form(from_="+12125550124")))
    assert list(root.iter("Say")) == [] and list(root.iter("Play"))  # recorded prompts


def test_a_holidays_special_hours_open_the_line_between_them_only(
        rt, ada, twilio, frozen_clock):
    only_support(rt)
    changed(ada, "POST", "/api/admin/holidays", {"name": "Short day", "starts": "2026-11-16",
                                                 "queue": "support", "opens": "10:00",
                                                 "closes": "11:00"})
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", call_form())))  # 10:30
    frozen_clock.advance(3600)  # 11:30 in New York
    said = spoken(twiml(twilio.post("/voice/incoming", call_form(from_="+12125550124"))))
    assert "We are closed right now." in said and "Enqueue" not in said


def test_a_deleted_holiday_no_longer_closes_the_line(rt, ada, twilio):
    only_support(rt)
    added = changed(ada, "POST", "/api/admin/holidays", {"name": "Staff day",
                                                         "starts": "2026-11-16"})
    assert "Enqueue" not in verbs(twiml(twilio.post("/voice/incoming", call_form())))
    assert ada.send("DELETE", f"/api/admin/holidays/{added['id']}").status_code == 204
    root = twiml(twilio.post("/voice/incoming", call_form(from_="+12125550124")))
    assert root.find("Enqueue").text == "support"


def test_public_holidays_imported_for_one_queue_close_that_queue_only(
        rt, ada, twilio, frozen_clock):
    imported = changed(ada, "POST", "/api/admin/holidays/import",
                       {"country": "US", "year": 2026, "queue": "sales"})
    assert "Thanksgiving Day" in {h["name"] for h in imported["added"]}
    frozen_clock.set(datetime(2026, 11, 26, 15, 30, tzinfo=UTC))  # Thanksgiving, 10:30 NY
    form = call_form()
    said = spoken(twiml(twilio.post("/voice/incoming", form)))
    assert "Sales" not in said  # closed today: not offered
    root = twiml(twilio.post("/voice/menu?attempt=1", {**form, "Digits": "1"}))
    assert root.find("Enqueue").text == "support"  # the import was for Sales only


def _answered_after(rt, twilio, worker, frozen_clock, agent_id: int, seconds: int) -> None:
    """A caller joins Support, waits `seconds`, and alice answers them."""
    form = call_form()
    twilio.post("/voice/incoming", form)
    frozen_clock.advance(seconds)
    make_available(rt, agent_id)
    worker()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == agent_id))
        leg_id, sid = leg.id, leg.call_sid
    twilio.post(f"/voice/agent/whisper?leg={leg_id}", call_form(sid=sid))


def test_the_service_level_answer_time_decides_whether_a_real_call_counts_within_it(
        rt, ada, people, twilio, worker, frozen_clock):
    only_support(rt)
    _answered_after(rt, twilio, worker, frozen_clock, people["alice"], 30)

    def level() -> float | None:
        with rt.db.session() as s:
            return reports.day_report(s, TODAY, "support").total.service_level_percent

    changed(ada, "PATCH", "/api/admin/queues/support", {"sl_target_seconds": 20})
    assert level() == 0.0
    changed(ada, "PATCH", "/api/admin/queues/support", {"sl_target_seconds": 60})
    assert level() == 100.0


def test_the_boards_service_level_alarm_follows_its_floor_after_a_caller_abandons(
        rt, ada, twilio):
    only_support(rt)
    form = call_form()
    twilio.post("/voice/incoming", form)
    twilio.post("/voice/status", {**form, "CallStatus": "completed"})  # hung up in line

    def alerts() -> tuple[str, ...]:
        return next(q for q in board.board(rt) if q.slug == "support").alerts

    assert alerts() == ()  # no floor set: no alarm
    changed(ada, "PATCH", "/api/admin/queues/support", {"alert_service_level_percent": 50})
    assert alerts() == ("Support: service level today under 50%",)
    changed(ada, "PATCH", "/api/admin/queues/support", {"alert_service_level_percent": ""})
    assert alerts() == ()


def test_the_end_of_quiet_hours_set_by_the_admin_is_when_a_german_customer_is_promised(
        rt, twilio, frozen_clock):
    promising_queue(rt, hours=False)
    with rt.db.session() as s:
        config.set_callback_policy(s, Actor(None, "test"), "support", {"quiet_ends": "10:30"},
                                   rt.settings)
    frozen_clock.set(datetime(2026, 11, 16, 20, 50, tzinfo=ZoneInfo("Europe/Berlin")))
    words = _booked_words(twilio, GERMAN)
    assert "We will call you back tomorrow after 10:30 AM" in words, words


def test_the_service_level_percent_target_sizes_the_agents_the_staffing_page_asks_for(
        rt, ada):
    past_tuesdays(rt)

    def needed() -> int:
        week = ada.get("/api/admin/queues/support/staffing").json
        return next(i["needed"] for i in week["intervals"]
                    if (i["weekday"], i["start"]) == (1, "10:00"))

    at_80 = needed()
    changed(ada, "PATCH", "/api/admin/queues/support", {"sl_target_percent": 99})
    assert needed() > at_80


def test_an_agents_new_phone_is_rung_and_a_queue_taken_from_them_stops_their_offers(
        rt, ada, people, twilio, worker, twilio_api):
    only_support(rt)
    changed(ada, "PATCH", "/api/admin/agents/alice", {"queues": ["sales"]})
    make_available(rt, people["alice"])
    twilio.post("/voice/incoming", call_form())
    worker()
    assert twilio_api.calls_created() == []  # she no longer serves Support
    changed(ada, "PATCH", "/api/admin/agents/alice", {"queues": ["support"],
                                                      "contact": "+12125550999"})
    twilio.post("/voice/incoming", call_form(from_="+12125550124"))
    worker()
    assert [c.field("To") for c in twilio_api.calls_created()] == ["+12125550999"]
    with rt.db.session() as s:
        assert s.scalar(select(Queue.name).join(Leg.interaction).join(Queue)) == "Support"


def test_a_deactivated_agent_is_never_offered_the_next_caller(
        rt, ada, people, twilio, worker, twilio_api):
    only_support(rt)
    make_available(rt, people["alice"])
    changed(ada, "PATCH", "/api/admin/agents/alice", {"active": False})
    twilio.post("/voice/incoming", call_form())
    worker()
    assert twilio_api.calls_created() == [] and rt.presence.state(people["alice"]) == "offline"

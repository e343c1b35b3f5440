"""Callbacks are placed only when they may be: while their queue is open (hours, holidays)
and outside the customer's quiet hours in their own local time; held ones are the first calls
at the next opening, in their original order, paced; retries, customer-first callbacks and
the rebuild after a Redis loss follow the same rule; customers moved to another day are texted."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callbacks import reconcile
from callbacks.window import CALLBACK_OPENING_SPACING_SECONDS
from models.admin import CallbackPolicy
from models.callbacks import Callback
from models.entities import Holiday, OpeningHours, Queue
from queueing import lines
from tests.callback_steps import (
    agent_answers,
    book_callback,
    call_in,
    customer_form,
    run_scheduled,
)
from tests.console_helpers import Desk, seed_people_and_admin
from tests.helpers import make_available, seed_agent, seed_queues

NEW_YORK = ZoneInfo("America/New_York")
GERMAN = "+493012345678"
GERMAN_MOBILE = "+4915112345678"  # a German number that can receive texts


def ny(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of November 2026 in New York."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=NEW_YORK)


@pytest.fixture
def support(rt):
    """A New York queue open 9-17 Monday to Friday; callbacks to the US and Germany."""
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        queue = s.scalar(select(Queue))
        queue.hours = [OpeningHours(weekday=d, opens=time(9), closes=time(17)) for d in range(5)]
        s.add(CallbackPolicy(queue_id=queue.id, attempts=3, spacing_minutes=5,
                             allowed_countries=["DE", "US"],
                             allowed_number_types=["MOBILE", "FIXED_LINE",
                                                   "FIXED_LINE_OR_MOBILE"],
                             sms_booked="", sms_unreachable=""))
        return queue.id


def _callbacks(rt):
    with rt.db.session() as s:
        found = list(s.scalars(select(Callback).order_by(Callback.id)))
        s.expunge_all()
        return found


def _dialled(twilio_api):
    return [c.field("To") for c in twilio_api.calls_created()]


def test_callback_booked_at_1650_is_not_rung_when_an_agent_frees_up_at_2230(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    alice = seed_agent(rt, "alice", ["support"])
    frozen_clock.set(ny(16, 16, 50))
    book_callback(twilio)
    worker()
    frozen_clock.set(ny(16, 22, 30))
    make_available(rt, alice)
    worker()
    assert _dialled(twilio_api) == []
    [callback] = _callbacks(rt)
    assert callback.next_attempt_at == ny(17, 9)
    assert lines.length(rt.live, "support") == 0
    assert rt.presence.state(alice) == "available"


def test_callbacks_held_overnight_ring_first_at_nine_next_working_day_in_original_order(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    alice = seed_agent(rt, "alice", ["support"])
    frozen_clock.set(ny(20, 16, 40))  # a Friday
    book_callback(twilio, "+12125550101")
    frozen_clock.set(ny(20, 16, 45))
    book_callback(twilio, "+12125550102")
    worker()
    frozen_clock.set(ny(20, 22, 30))
    make_available(rt, alice)
    worker()
    first, second = _callbacks(rt)
    assert (first.next_attempt_at, second.next_attempt_at) == (
        ny(23, 9), ny(23, 9) + timedelta(seconds=CALLBACK_OPENING_SPACING_SECONDS))  # Monday
    frozen_clock.set(ny(23, 9))
    run_scheduled(rt, worker)
    assert _dialled(twilio_api) == ["client:alice"]
    assert agent_answers(twilio, rt)[0].callback_id == first.id
    frozen_clock.set(ny(23, 9, 0, 10))
    call_in(twilio, "+12125550199")  # a live caller joins after opening
    frozen_clock.set(ny(23, 9) + timedelta(seconds=CALLBACK_OPENING_SPACING_SECONDS))
    run_scheduled(rt, worker)
    assert lines.position(rt.live, "support", f"cb:{second.id}") == 1


def test_overnight_batch_enters_the_line_paced_so_free_agents_are_not_all_rung_at_once(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    agents = [seed_agent(rt, name, ["support"]) for name in ("alice", "bob", "carol")]
    frozen_clock.set(ny(16, 16, 50))
    for n in range(3):
        book_callback(twilio, f"+1212555010{n}")
    frozen_clock.set(ny(16, 22, 30))
    make_available(rt, agents[0])
    worker()
    frozen_clock.set(ny(17, 8, 55))
    for agent in agents[1:]:
        make_available(rt, agent)
    frozen_clock.set(ny(17, 9))
    run_scheduled(rt, worker)
    assert len(_dialled(twilio_api)) == 1
    frozen_clock.set(ny(17, 9) + timedelta(seconds=CALLBACK_OPENING_SPACING_SECONDS))
    run_scheduled(rt, worker)
    assert len(_dialled(twilio_api)) == 2
    frozen_clock.set(ny(17, 9) + timedelta(seconds=2 * CALLBACK_OPENING_SPACING_SECONDS))
    run_scheduled(rt, worker)
    assert len(_dialled(twilio_api)) == 3


def test_retry_that_would_fall_after_closing_moves_to_the_next_opening_and_texts_the_customer(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    alice = seed_agent(rt, "alice", ["support"])
    frozen_clock.set(ny(16, 16, 50))
    book_callback(twilio)
    make_available(rt, alice)
    worker()
    attempt, _whisper, _form = agent_answers(twilio, rt)
    worker()
    frozen_clock.set(ny(16, 16, 58))
    twilio.post(f"/voice/callback/customer/status?attempt={attempt.id}",
                customer_form(rt, attempt.id, CallStatus="no-answer"))
    worker()
    [callback] = _callbacks(rt)
    assert callback.next_attempt_at == ny(17, 9)  # not 17:03
    texts = [m.body for m in twilio_api.messages()]
    assert any("We will call you tomorrow at 9 AM" in body for body in texts)
    frozen_clock.set(ny(16, 17, 3))
    dialled = len(_dialled(twilio_api))
    make_available(rt, alice)
    run_scheduled(rt, worker)
    assert len(_dialled(twilio_api)) == dialled


def test_callback_is_not_rung_on_a_holiday_and_moves_to_the_next_open_day(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    alice = seed_agent(rt, "alice", ["support"])
    with rt.db.session() as s:
        s.add(Holiday(name="Thanksgiving", starts=date(2026, 11, 26), ends=date(2026, 11, 26)))
    frozen_clock.set(ny(25, 16, 50))
    book_callback(twilio)
    frozen_clock.set(ny(26, 10))  # the holiday, in what would be hours
    make_available(rt, alice)
    worker()
    assert _dialled(twilio_api) == []
    assert _callbacks(rt)[0].next_attempt_at == ny(27, 9)


def test_german_number_on_a_new_york_queue_is_not_rung_in_its_quiet_hours(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    alice = seed_agent(rt, "alice", ["support"])
    frozen_clock.set(ny(16, 15, 30))  # open in New York, 21:30 in Berlin
    book_callback(twilio, GERMAN)
    book_callback(twilio, "+12125550123")  # booked later, by a New York customer
    make_available(rt, alice)
    worker()
    german, american = _callbacks(rt)
    assert german.next_attempt_at == ny(17, 9)  # 15:00 in Berlin
    assert _dialled(twilio_api) == ["client:alice"]
    assert agent_answers(twilio, rt)[0].callback_id == american.id


def test_a_german_customer_moved_to_another_day_in_their_quiet_hours_is_texted_when_they_end(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    alice = seed_agent(rt, "alice", ["support"])
    frozen_clock.set(ny(16, 14, 50))  # 20:50 in Berlin: told this evening
    book_callback(twilio, GERMAN_MOBILE)
    worker()
    frozen_clock.set(ny(16, 15, 30))  # 21:30 in Berlin: an agent frees up too late
    make_available(rt, alice)
    worker()
    assert _callbacks(rt)[0].next_attempt_at == ny(17, 9)  # tomorrow 15:00 in Berlin
    assert _moved_texts(twilio_api) == []  # not at 21:30
    [job_id] = [j for j in rt.jobs.scheduled_job_registry.get_job_ids()
                if j.startswith("cb-sms-moved-")]
    waits = rt.jobs.scheduled_job_registry.get_scheduled_time(job_id) - datetime.now(UTC)
    assert abs(waits.total_seconds() - 10.5 * 3600) < 60  # at 08:00 in Berlin
    run_scheduled(rt, worker)
    [text] = _moved_texts(twilio_api)
    assert "We will call you today at 3 PM" in text  # said as of 08:00 in Berlin


def _moved_texts(twilio_api):
    return [m.body for m in twilio_api.messages()
            if m.to == GERMAN_MOBILE and "cannot call you back" in m.body]


def test_customer_first_callback_is_not_dialled_after_closing(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    with rt.db.session() as s:
        s.scalar(select(Queue)).dial_mode = "customer-first"
    alice = seed_agent(rt, "alice", ["support"])
    frozen_clock.set(ny(16, 16, 50))
    book_callback(twilio)
    frozen_clock.set(ny(16, 22, 30))
    make_available(rt, alice)
    worker()
    assert _dialled(twilio_api) == []
    assert _callbacks(rt)[0].next_attempt_at == ny(17, 9)


def test_rebuild_after_a_redis_loss_keeps_a_closed_queue_callback_out_of_line_until_opening(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    alice = seed_agent(rt, "alice", ["support"])
    frozen_clock.set(ny(16, 16, 50))
    book_callback(twilio)
    frozen_clock.set(ny(16, 22))
    rt.live.flushdb()
    reconcile.reconcile(rt, lost=True)
    assert lines.length(rt.live, "support") == 0
    [callback] = _callbacks(rt)
    assert callback.next_attempt_at == ny(17, 9)
    make_available(rt, alice)
    assert rt.presence.state(alice) == "available"  # nothing in line to pair her with
    frozen_clock.set(ny(17, 9))
    run_scheduled(rt, worker)
    assert _dialled(twilio_api) == ["client:alice"]


def test_quiet_hours_set_by_the_admin_decide_when_a_german_customer_may_be_rung(
        rt, app, twilio, worker, twilio_api, frozen_clock):
    people = seed_people_and_admin(rt)
    ada = Desk(app, "ada")
    refused = ada.send("PATCH", "/api/admin/queues/support/callback-policy",
                       {"quiet_starts": "25:00"})
    assert refused.status_code == 400 and "quiet_starts" in refused.get_data(as_text=True)
    changed = ada.send("PATCH", "/api/admin/queues/support/callback-policy",
                       {"allowed_countries": "US, DE", "quiet_starts": "22:00"})
    assert (changed.status_code, changed.json["quiet_starts"]) == (200, "22:00")
    assert ada.get("/api/admin/audit").json["entries"][0]["entity"] == "callback_policy"
    assert 'name="quiet_starts"' in ada.get("/admin/callback-policy").get_data(as_text=True)
    frozen_clock.set(ny(16, 15, 30))  # 21:30 in Berlin: quiet by default, not from 22:00
    book_callback(twilio, GERMAN)
    make_available(rt, people["alice"])
    worker()
    assert _dialled(twilio_api) == ["client:alice"]


def test_callback_still_in_line_at_closing_is_held_by_the_next_scheduled_reconcile_and_texted(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    seed_agent(rt, "alice", ["support"])  # signed out: nobody takes the line before closing
    frozen_clock.set(ny(16, 16, 30))
    book_callback(twilio)
    worker()
    assert lines.length(rt.live, "support") == 1  # keeps its place, waits for an agent
    frozen_clock.set(ny(16, 17, 4))  # closed; the scheduled reconcile's pass comes round
    reconcile.reconcile_job(rt)
    worker()
    assert lines.length(rt.live, "support") == 0
    [callback] = _callbacks(rt)
    assert callback.next_attempt_at == ny(17, 9)
    texts = [m.body for m in twilio_api.messages()]
    assert sum("We will call you tomorrow at 9 AM" in body for body in texts) == 1
    frozen_clock.set(ny(16, 17, 9))  # the pass after: held already, not texted again
    reconcile.reconcile_job(rt)
    worker()
    assert len(twilio_api.messages()) == len(texts)

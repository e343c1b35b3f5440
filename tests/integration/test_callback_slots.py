"""Callback slots: after hours (and past closing) callers book an open slot with room, and
slot callbacks enter the line at the slot's start in the order they were booked."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from admin import config
from admin.audit import Actor
from callbacks import reconcile
from ivr import slots
from models.callbacks import BOOKED, Callback
from models.entities import OpeningHours, Queue
from queueing import keys, lines
from tests.callback_steps import call_in, local, only_callback, run_scheduled
from tests.helpers import call_form, seed_queues, spoken, twiml, verbs

# Monday 20:00 in New York (closed); the next slot is Tuesday 9-10 AM (14:00 UTC).
MONDAY_EVENING = datetime(2026, 11, 17, 1, 0, tzinfo=UTC)
TUESDAY_NINE = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
OPERATOR = Actor(None, "operator")


@pytest.fixture
def support(rt):
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        queue = s.scalar(select(Queue))
        queue.hours = [OpeningHours(weekday=d, opens=time(9), closes=time(17)) for d in range(5)]
    return "support"


def _plan(rt, **agents_at):
    with rt.db.session() as s:
        for at, agents in agents_at.items():
            config.set_staffing(s, OPERATOR, "support", 1, at.replace("h", ":"), agents)


def _book_after_hours(twilio, number, key="1"):
    form = call_form(from_=number)
    closed = twiml(twilio.post("/voice/incoming", form))
    prompt = twiml(twilio.post(local(closed.find("Gather").get("action")),
                               {**form, "Digits": key}))
    booked = twiml(twilio.post(local(prompt.find("Gather").get("action")),
                               {**form, "Digits": "1"}))
    return closed, booked


def test_after_hours_the_closed_message_offers_slots_and_books_the_one_pressed(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    frozen_clock.set(MONDAY_EVENING)
    closed, booked = _book_after_hours(twilio, "+12125550123")
    assert spoken(closed) == (
        "Thank you for calling Holdless. We are closed right now. We open again tomorrow at "
        "9 AM. We can call you back when we are open. For a callback tomorrow between 9 AM and "
        "10 AM, press 1. For a callback tomorrow between 10 AM and 11 AM, press 2.")
    assert verbs(booked)[-1] == "Hangup"
    assert spoken(booked).startswith(
        "You're booked. We will call you back tomorrow between 9 AM and 10 AM. Your reference")
    callback = only_callback(rt)
    assert (callback.status, callback.slot_start) == (BOOKED, TUESDAY_NINE)
    assert lines.length(rt.live, "support") == 0
    worker()
    assert "tomorrow between 9 AM and 10 AM" in twilio_api.messages()[-1].body


def test_slot_callbacks_enter_the_line_at_the_slot_start_in_booking_order(
        rt, twilio, worker, frozen_clock, support):
    frozen_clock.set(MONDAY_EVENING)
    _book_after_hours(twilio, "+12125550101")
    frozen_clock.advance(60)
    _book_after_hours(twilio, "+12125550102")
    with rt.db.session() as s:
        ids = [c.id for c in s.scalars(select(Callback).order_by(Callback.created_at))]
    frozen_clock.set(TUESDAY_NINE.replace(minute=1))
    late = call_in(twilio, "+12125550103")  # phoned at 9:01, before the slot job ran
    run_scheduled(rt, worker)
    waiting = lines.waiting(rt.live, "support")
    assert [e.id for e in waiting[:2]] == [f"cb:{ids[0]}", f"cb:{ids[1]}"]
    assert [e.kind for e in waiting] == ["callback", "callback", "caller"]
    assert waiting[2].call_sid == late["CallSid"]
    assert rt.live.zscore(keys.line("support"), f"cb:{ids[0]}") == TUESDAY_NINE.timestamp()


def test_a_slot_without_room_in_the_staffing_plan_is_not_offered(
        rt, twilio, frozen_clock, support):
    _plan(rt, **{"09h00": 0, "09h30": 0, "10h00": 1, "10h30": 1, "11h00": 1})
    frozen_clock.set(MONDAY_EVENING)
    closed = twiml(twilio.post("/voice/incoming", call_form()))
    assert ("For a callback tomorrow between 10 AM and 11 AM, press 1. For a callback "
            "tomorrow between 11 AM and 12 PM, press 2.") in spoken(closed)


def test_slot_capacity_is_planned_agents_times_length_over_handle_time_minus_booked(
        rt, frozen_clock, support):
    _plan(rt, **{"09h00": 2, "09h30": 1, "10h00": 1})
    with rt.db.session() as s:
        queue = s.scalar(select(Queue))
        first = slots.next_slots(s, queue, MONDAY_EVENING, handle_seconds=900)
        assert [(x.starts.hour, x.room) for x in first] == [(9, 6), (10, 2)]
        for n in range(6):
            s.add(Callback(queue_id=queue.id, number=f"+1212555020{n}", reference=f"R{n}",
                           status=BOOKED, place=0.0, slot_start=TUESDAY_NINE,
                           created_at=MONDAY_EVENING, updated_at=MONDAY_EVENING))
        s.flush()
        later = slots.next_slots(s, queue, MONDAY_EVENING, handle_seconds=900)
        assert [(x.starts.day, x.starts.hour, x.room) for x in later] == [
            (17, 10, 2), (24, 9, 6)]  # 9-10 full; 11-12 planned empty; next Tuesday


def test_reconciler_keeps_a_not_yet_due_slot_out_of_line_and_brings_back_its_job(
        rt, twilio, worker, frozen_clock, support):
    frozen_clock.set(MONDAY_EVENING)
    _book_after_hours(twilio, "+12125550123")
    rt.live.flushdb()
    rt.jobs_redis.flushdb()
    reconcile.reconcile(rt)
    assert lines.length(rt.live, "support") == 0
    frozen_clock.set(TUESDAY_NINE)
    run_scheduled(rt, worker)
    assert [e.id for e in lines.waiting(rt.live, "support")] == [f"cb:{only_callback(rt).id}"]


def test_no_key_after_hours_twice_lets_the_caller_go_with_nothing_booked(
        rt, twilio, frozen_clock, support):
    frozen_clock.set(MONDAY_EVENING)
    form = call_form()
    closed = twiml(twilio.post("/voice/incoming", form))
    again = twiml(twilio.post(local(closed.find("Gather").get("action")), form))
    assert spoken(again).startswith("Sorry, I didn't catch that. For a callback tomorrow")
    bye = twiml(twilio.post(local(again.find("Gather").get("action")), form))
    assert verbs(bye)[-1] == "Hangup"
    with rt.db.session() as s:
        assert s.scalars(select(Callback)).all() == []


def test_calling_again_and_keeping_a_slot_callback_hears_its_slot(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    frozen_clock.set(MONDAY_EVENING)
    _book_after_hours(twilio, "+12125550123")
    worker()
    assert "keeping your place" not in twilio_api.messages()[-1].body
    form = call_form(from_="+12125550123")
    keep = twiml(twilio.post("/voice/incoming", form))
    kept = twiml(twilio.post(local(keep.find("Gather").get("action")), {**form, "Digits": "1"}))
    assert spoken(kept).startswith(
        "Your callback is still booked; we will call you tomorrow between 9 AM and 10 AM.")

"""The callback promise follows opening hours: today when it can be, else an open slot."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import select

from models.entities import OpeningHours, Queue
from queueing import lines
from tests.callback_steps import ask_for_callback, call_in, local, only_callback
from tests.helpers import spoken, twiml

# Monday 16:50 in New York: ten minutes before closing.
NEAR_CLOSING = datetime(2026, 11, 16, 21, 50, tzinfo=UTC)
TODAY = "Press 1 to be called back when it is your turn, keeping your place in line."
TOMORROW = ("We cannot call you back before we close today. Press 1 to book a callback "
            "tomorrow between 9 AM and 10 AM, or at a later time.")


def _weekday_hours(rt):
    from tests.helpers import seed_queues
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        queue = s.scalar(select(Queue))
        queue.hours = [OpeningHours(weekday=d, opens=time(9), closes=time(17)) for d in range(5)]


def test_wait_ending_before_closing_is_offered_when_it_is_your_turn(rt, twilio, frozen_clock):
    _weekday_hours(rt)
    frozen_clock.set(NEAR_CLOSING)
    form = call_in(twilio)  # first in line: about 4 minutes
    assert TODAY in spoken(twiml(twilio.post("/voice/hold", form)))


def test_wait_past_closing_offers_slots_and_books_the_one_chosen(
        rt, twilio, worker, twilio_api, frozen_clock):
    _weekday_hours(rt)
    frozen_clock.set(NEAR_CLOSING)
    call_in(twilio, "+12125550101")
    frozen_clock.advance(1)
    call_in(twilio, "+12125550102")
    frozen_clock.advance(1)
    form = call_in(twilio)  # third in line: about 12 minutes, past 17:00
    assert TOMORROW in spoken(twiml(twilio.post("/voice/hold", form)))
    question = ask_for_callback(twilio, form)
    assert spoken(question) == (
        "We cannot call you back before we close today. For a callback tomorrow between "
        "9 AM and 10 AM, press 1. For a callback tomorrow between 10 AM and 11 AM, press 2.")
    prompt = twiml(twilio.post(local(question.find("Gather").get("action")),
                               {**form, "Digits": "2"}))
    assert "number ending 0 1 2 3" in spoken(prompt)
    booked = twiml(twilio.post(local(prompt.find("Gather").get("action")), {**form, "Digits": "1"}))
    assert spoken(booked).startswith(
        "You're booked. We will call you back tomorrow between 10 AM and 11 AM. Your reference")
    callback = only_callback(rt)
    assert callback.slot_start == datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
    assert callback.expected_at == callback.next_attempt_at == callback.slot_start
    assert lines.load(rt.live, f"cb:{callback.id}") is None  # not in line before the slot
    worker()
    assert "tomorrow between 10 AM and 11 AM" in twilio_api.messages()[-1].body


def test_no_slot_is_offered_that_the_callers_estimated_turn_would_come_after(
        rt, twilio, frozen_clock):
    from queueing import stats
    _weekday_hours(rt)
    frozen_clock.set(datetime(2026, 11, 16, 20, 30, tzinfo=UTC))  # Monday 15:30 in New York
    for _ in range(20):
        stats.record_handle_time(rt.live, "support", 4 * 3600)  # a turn hours away
    form = call_in(twilio)
    offer = spoken(twiml(twilio.post("/voice/hold", form)))
    assert "Press 1 to book a callback tomorrow between 9 AM and 10 AM" in offer
    assert "today between 4 PM and 5 PM" not in offer

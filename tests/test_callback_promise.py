"""The callback promise follows opening hours: today when it can be, else after reopening."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import select

from models.entities import OpeningHours, Queue
from tests.callback_steps import ask_for_callback, call_in, local, only_callback
from tests.helpers import spoken, twiml

# Monday 16:50 in New York: ten minutes before closing.
NEAR_CLOSING = datetime(2026, 11, 16, 21, 50, tzinfo=UTC)
TODAY = "Press 1 to be called back when it is your turn, keeping your place in line."
TOMORROW = ("Press 1 to be called back after we open again tomorrow at 9 AM, "
            "keeping your place in line.")


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


def test_wait_past_closing_is_offered_after_reopening_and_booked_so(
        rt, twilio, worker, twilio_api, frozen_clock):
    _weekday_hours(rt)
    frozen_clock.set(NEAR_CLOSING)
    call_in(twilio, "+12125550101")
    frozen_clock.advance(1)
    call_in(twilio, "+12125550102")
    frozen_clock.advance(1)
    form = call_in(twilio)  # third in line: about 12 minutes, past 17:00
    assert TOMORROW in spoken(twiml(twilio.post("/voice/hold", form)))
    prompt = ask_for_callback(twilio, form)
    booked = twiml(twilio.post(local(prompt.find("Gather").get("action")), {**form, "Digits": "1"}))
    assert spoken(booked).startswith(
        "You're booked. We will call you back after we open again tomorrow at 9 AM,")
    expected = only_callback(rt).expected_at
    assert expected.astimezone(UTC) >= datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
    worker()
    assert "after we open again tomorrow at 9 AM" in twilio_api.messages()[-1].body

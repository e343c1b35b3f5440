"""A callback's spoken promise is one the product can keep: when the estimated callback time
falls in the customer's quiet hours or after the queue closes, the caller hears when the call
will actually come (and the row keeps that time), not minutes; by day they still hear minutes."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models.admin import CallbackPolicy
from models.entities import OpeningHours, Queue
from queueing import stats
from tests.callback_steps import ask_for_callback, book_callback, call_in, local, only_callback
from tests.helpers import call_form, seed_queues, spoken, twiml

NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
GERMAN = "+493012345678"
# Each call takes this long (seconds): the first in line waits about 20 minutes.
LONG_HANDLE_SECONDS = 20 * 60


def _queue(rt, hours: bool) -> None:
    """The New York queue "support" (open 9-17 on weekdays, or always), calling back the US
    and Germany, with calls of about 20 minutes."""
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        queue = s.scalar(select(Queue))
        if hours:
            queue.hours = [OpeningHours(weekday=d, opens=time(9), closes=time(17))
                           for d in range(5)]
        s.add(CallbackPolicy(queue_id=queue.id, attempts=3, spacing_minutes=5,
                             allowed_countries=["DE", "US"],
                             allowed_number_types=["MOBILE", "FIXED_LINE",
                                                   "FIXED_LINE_OR_MOBILE"],
                             sms_booked="", sms_unreachable=""))
    for _ in range(20):
        stats.record_handle_time(rt.live, "support", LONG_HANDLE_SECONDS)


def _booked_words(twilio, number: str) -> str:
    return spoken(book_callback(twilio, number)[1])


def test_german_caller_at_2050_berlin_hears_tomorrow_after_8_not_minutes(
        rt, twilio, frozen_clock):
    _queue(rt, hours=False)
    frozen_clock.set(datetime(2026, 11, 16, 20, 50, tzinfo=BERLIN))
    words = _booked_words(twilio, GERMAN)
    assert "We will call you back tomorrow after 8 AM" in words
    assert "minute" not in words
    callback = only_callback(rt)
    assert callback.expected_at == datetime(2026, 11, 17, 8, 0, tzinfo=BERLIN)
    assert callback.promised_words == "tomorrow after 8 AM"
    assert callback.promised_from == datetime(2026, 11, 17, 8, 0, tzinfo=BERLIN)


def test_caller_at_1650_on_a_queue_closing_at_1700_hears_the_next_opening(rt, twilio, frozen_clock):
    _queue(rt, hours=True)
    frozen_clock.set(datetime(2026, 11, 16, 16, 50, tzinfo=NEW_YORK))
    words = spoken(ask_for_callback(twilio, call_in(twilio)))
    assert words.startswith("We cannot call you back before we close today. For a callback "
                            "tomorrow between 9 AM and 10 AM, press 1.")
    assert "minute" not in words


def test_daytime_caller_still_hears_minutes(rt, twilio, frozen_clock):
    _queue(rt, hours=True)
    frozen_clock.set(datetime(2026, 11, 16, 11, 0, tzinfo=NEW_YORK))
    words = _booked_words(twilio, GERMAN)  # 17:00 in Berlin: before its quiet hours
    assert "We will call you back in about" in words and "minutes" in words
    callback = only_callback(rt)
    assert callback.promised_words is not None and callback.promised_words in words
    assert callback.promised_from is not None and callback.promised_by is not None
    assert callback.promised_from <= callback.expected_at <= callback.promised_by


def test_message_booked_before_its_recording_action_says_the_promise_as_committed(
        rt, twilio, frozen_clock):
    _queue(rt, hours=False)
    frozen_clock.set(datetime(2026, 11, 16, 20, 50, tzinfo=BERLIN))
    form = call_in(twilio, GERMAN)
    twiml(twilio.post("/voice/hold/key", {**form, "Digits": "2"}))
    prompt = twiml(twilio.post("/voice/queue-exit", {**form, "QueueResult": "leave"}))
    twilio.post(local(prompt.find("Gather").get("action")), {**form, "Digits": "1"})
    recording = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE0123"
    twilio.post("/voice/callback/recording-status",  # booked from the status, first
                {**form, "RecordingUrl": recording, "RecordingStatus": "completed"})
    done = spoken(twiml(twilio.post("/voice/callback/recorded",
                                    {**form, "RecordingUrl": recording,
                                     "RecordingDuration": "31"})))
    assert "We will call you back tomorrow after 8 AM" in done
    assert "minute" not in done


def test_slots_offered_to_a_german_caller_start_outside_their_quiet_hours(
        rt, twilio, frozen_clock):
    # The line is full at 14:40 in New York (20:40 in Berlin): the New York slots of this
    # afternoon from 15:00 start in Berlin's quiet hours (21:00-08:00), so a German caller
    # is offered tomorrow's first slots, while a New York caller is offered this afternoon's.
    _queue(rt, hours=True)
    with rt.db.session() as s:
        s.scalar(select(Queue)).max_waiting = 1
    frozen_clock.set(datetime(2026, 11, 16, 14, 40, tzinfo=NEW_YORK))
    twiml(twilio.post("/voice/incoming", call_form(from_="+12125550101")))  # fills the line
    german = spoken(twiml(twilio.post("/voice/incoming", call_form(from_=GERMAN))))
    assert "For a callback tomorrow between 9 AM and 10 AM, press 1." in german, german
    assert "today" not in german
    local = spoken(twiml(twilio.post("/voice/incoming", call_form(from_="+12125550102"))))
    assert "today" in local, local

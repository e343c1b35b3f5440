"""Opening hours and holidays in the queue's own time zone, through the IVR."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from models.entities import Holiday, OpeningHours, Queue
from tests.helpers import call_form, seed_queues, spoken, twiml, verbs

BERLIN = "Europe/Berlin"


def _berlin_queue(rt):
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        queue = s.query(Queue).one()
        queue.time_zone = BERLIN
        queue.hours = [OpeningHours(weekday=d, opens=time(9), closes=time(17)) for d in range(5)]


def test_caller_after_hours_hears_the_next_opening_in_local_time_and_is_let_go(
        rt, twilio, frozen_clock):
    _berlin_queue(rt)
    frozen_clock.set(datetime(2026, 11, 20, 18, 0, tzinfo=UTC))  # Friday 19:00 in Berlin
    form = call_form(from_="+493012345678")  # a Berlin caller: 9 AM is outside their quiet hours
    root = twiml(twilio.post("/voice/incoming", form))
    assert "We are closed right now. We open again on Monday at 9 AM." in spoken(root)
    assert "For a callback on Monday between 9 AM and 10 AM, press 1." in spoken(root)
    action = root.find("Gather").get("action").removeprefix("https://holdless.test")
    again = twiml(twilio.post(action, form))  # no key: asked once more
    action = again.find("Gather").get("action").removeprefix("https://holdless.test")
    root = twiml(twilio.post(action, form))  # no key again: let go
    assert verbs(root)[-1] == "Hangup"


def test_caller_on_a_holiday_hears_its_message(rt, twilio, frozen_clock):
    _berlin_queue(rt)
    with rt.db.session() as s:
        s.add(Holiday(name="Christmas", starts=date(2026, 12, 25), ends=date(2026, 12, 26),
                      message="We are closed for Christmas."))
    frozen_clock.set(datetime(2026, 12, 25, 10, 0, tzinfo=UTC))
    root = twiml(twilio.post("/voice/incoming", call_form()))
    assert "We are closed for Christmas. We open again on Monday at 9 AM." in spoken(root)


def test_caller_during_hours_joins_the_line(rt, twilio, frozen_clock):
    _berlin_queue(rt)
    frozen_clock.set(datetime(2026, 11, 16, 10, 0, tzinfo=UTC))
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", call_form())))


def test_a_new_york_caller_of_a_berlin_queue_is_offered_slots_after_their_quiet_hours(
        rt, twilio, frozen_clock):
    # Monday 9 AM in Berlin is 3 AM in New York; 2 PM in Berlin is 8 AM there.
    _berlin_queue(rt)
    frozen_clock.set(datetime(2026, 11, 20, 18, 0, tzinfo=UTC))  # Friday 19:00 in Berlin
    said = spoken(twiml(twilio.post("/voice/incoming", call_form(from_="+12125550123"))))
    assert "For a callback on Monday between 2 PM and 3 PM, press 1." in said, said

"""Opening hours and holidays in the queue's own time zone, through the IVR."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from models.entities import Holiday, OpeningHours, Queue
from queueing import hours
from tests.helpers import call_form, seed_queues, spoken, twiml, verbs

BERLIN = "Europe/Berlin"


def _weekdays_9_to_17(zone: str) -> hours.Schedule:
    return hours.Schedule(zone, tuple(hours.Range(d, time(9), time(17)) for d in range(5)))


def test_open_and_closed_follow_local_time_not_utc():
    sched = _weekdays_9_to_17(BERLIN)
    # Monday 2026-11-16: 08:30 UTC is 09:30 in Berlin; 16:30 UTC is 17:30 there.
    assert hours.is_open(sched, datetime(2026, 11, 16, 8, 30, tzinfo=UTC))
    assert not hours.is_open(sched, datetime(2026, 11, 16, 16, 30, tzinfo=UTC))


def test_next_opening_after_friday_close_is_monday_morning_local():
    sched = _weekdays_9_to_17(BERLIN)
    friday_evening = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    opening = hours.next_opening(sched, friday_evening)
    assert opening is not None
    assert (opening.weekday(), opening.hour, opening.utcoffset().total_seconds()) == (0, 9, 3600)


def test_opening_hours_hold_across_the_dst_change():
    sched = _weekdays_9_to_17(BERLIN)
    # Berlin leaves summer time on Sunday 2026-10-25: 9:00 local is 07:00 UTC before, 08:00 after.
    assert hours.is_open(sched, datetime(2026, 10, 23, 7, 30, tzinfo=UTC))
    assert not hours.is_open(sched, datetime(2026, 10, 26, 7, 30, tzinfo=UTC))
    assert hours.is_open(sched, datetime(2026, 10, 26, 8, 30, tzinfo=UTC))


def test_holiday_closes_a_normal_weekday_and_special_hours_apply():
    closure = hours.Closure(date(2026, 12, 24), date(2026, 12, 24), "Christmas Eve",
                            time(9), time(12))
    sched = hours.Schedule(BERLIN, _weekdays_9_to_17(BERLIN).ranges,
                           (closure, hours.Closure(date(2026, 12, 25), date(2026, 12, 26))))
    assert hours.is_open(sched, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    assert not hours.is_open(sched, datetime(2026, 12, 24, 12, 0, tzinfo=UTC))
    assert not hours.is_open(sched, datetime(2026, 12, 25, 10, 0, tzinfo=UTC))


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
    form = call_form()
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

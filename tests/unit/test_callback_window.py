"""When a callback may ring: the queue's hours and the customer's quiet hours in the local
time of their number's country (pure rules, no store)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from callbacks.window import Window, allowed, customer_zones, next_allowed
from queueing.hours import Range, Schedule

NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = Schedule("America/New_York",
                        tuple(Range(d, time(9), time(17)) for d in range(5)))


def test_a_german_number_is_in_berlin_time_and_an_unknown_one_in_the_queue_zone():
    assert customer_zones("+493012345678", "America/New_York") == ("Europe/Berlin",)
    assert customer_zones("not a number", "America/New_York") == ("America/New_York",)


def test_quiet_hours_crossing_midnight_end_at_their_end_in_the_customer_zone():
    window = Window(None, (BERLIN,), time(21), time(8))
    late = datetime(2026, 11, 16, 22, 30, tzinfo=BERLIN)
    assert not allowed(window, late)
    assert next_allowed(window, late) == datetime(2026, 11, 17, 8, tzinfo=BERLIN)


def test_equal_quiet_times_mean_no_quiet_hours():
    window = Window(None, (BERLIN,), time(8), time(8))
    assert allowed(window, datetime(2026, 11, 16, 3, tzinfo=BERLIN))


def test_next_allowed_moment_is_both_open_and_outside_quiet_hours():
    window = Window(NINE_TO_FIVE, (BERLIN,), time(16), time(8))  # quiet from 10:00 in NY
    assert next_allowed(window, datetime(2026, 11, 20, 12, tzinfo=NEW_YORK)) == datetime(
        2026, 11, 23, 9, tzinfo=NEW_YORK)

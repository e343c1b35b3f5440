"""What callers hear: places, waits and opening times in natural words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from ivr import wording
from ivr.numbers import caller_number, mask
from queueing.estimate import WaitEstimate


def test_places_are_spoken_as_ordinals():
    assert wording.place_in_line(1) == "You are next in line."
    assert wording.place_in_line(3) == "You are third in line."
    assert wording.place_in_line(22) == "You are 22nd in line."
    assert wording.place_in_line(13) == "You are 13th in line."


def test_waits_are_spoken_as_a_figure_or_a_range():
    assert wording.wait_phrase(WaitEstimate(240, 220, 260)) == "about 4 minutes"
    assert wording.wait_phrase(WaitEstimate(390, 300, 480)) == "about 5 to 8 minutes"
    assert wording.wait_sentence(WaitEstimate(10, 0, 30)).startswith("An agent will be with you")


@given(st.floats(min_value=45, max_value=36_000), st.floats(min_value=0.1, max_value=1),
       st.floats(min_value=1, max_value=3))
def test_spoken_range_always_contains_the_estimate(seconds, low_f, high_f):
    est = WaitEstimate(seconds, seconds * low_f, seconds * high_f)
    words = wording.wait_phrase(est).removeprefix("about ").replace(" minutes", "").replace(
        " minute", "")
    bounds = [int(x) for x in words.split(" to ")]
    assert bounds[0] <= wording.minutes(seconds) <= bounds[-1]


def test_opening_times_are_spoken_relative_to_today():
    tz = ZoneInfo("America/New_York")
    now = datetime(2026, 11, 20, 19, 0, tzinfo=tz)
    tomorrow = datetime(2026, 11, 21, 9, 0, tzinfo=tz)
    assert wording.opening_phrase(tomorrow, now) == "tomorrow at 9 AM"
    assert wording.opening_phrase(datetime(2026, 11, 23, 9, 30, tzinfo=tz), now) == \
        "on Monday at 9:30 AM"


def test_hidden_caller_ids_have_no_number_and_logs_see_four_digits():
    assert caller_number("anonymous", "US") is None
    assert caller_number("+266696687", "US") is None
    assert caller_number("not a number", "US") is None
    assert caller_number("(212) 555-0123", "US") == "+12125550123"
    assert mask("+12125550123") == "…0123"

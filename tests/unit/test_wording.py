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
    assert wording.wait_phrase(WaitEstimate(240, 220, 250)) == "about 4 minutes"
    assert wording.wait_phrase(WaitEstimate(390, 300, 480)) == "about 5 to 8 minutes"
    assert wording.wait_sentence(WaitEstimate(10, 0, 30)).startswith("An agent will be with you")


def test_a_narrow_range_that_spills_past_the_minute_is_not_said_as_one_figure():
    assert wording.wait_phrase(WaitEstimate(240, 200, 280)) == "about 3 to 5 minutes"


def test_a_short_estimate_with_a_long_tail_is_not_promised_under_a_minute():
    assert wording.wait_phrase(WaitEstimate(40, 10, 150)) == "less than 3 minutes"
    assert wording.wait_phrase(WaitEstimate(40, 10, 70)) == "less than 2 minutes"
    assert wording.wait_sentence(WaitEstimate(40, 10, 150)) == \
        "Your expected wait is less than 3 minutes."


def test_point_figures_keep_the_minute_they_round_to():
    assert wording.callback_wait_phrase(WaitEstimate(720, 720, 720)) == "in about 12 minutes"
    assert wording.callback_wait_phrase(WaitEstimate(30, 30, 30)) == "in less than a minute"


def test_each_phrase_stands_for_its_interval():
    assert wording.said_bounds("less than a minute") == (0, 60)
    assert wording.said_bounds("less than 3 minutes") == (0, 180)
    assert wording.said_bounds("about 5 to 8 minutes") == (300, 480)
    assert wording.said_bounds("about 4 minutes") == (195, 255)
    assert wording.said_bounds("in about 1 minute") == (45, 75)


@given(st.floats(min_value=1, max_value=36_000), st.floats(min_value=0.1, max_value=1),
       st.floats(min_value=1, max_value=3))
def test_what_is_said_covers_the_estimate_and_roughly_its_range(seconds, low_f, high_f):
    est = WaitEstimate(seconds, seconds * low_f, seconds * high_f)
    said_low, said_high = wording.said_bounds(wording.wait_phrase(est))
    assert said_low <= seconds <= said_high
    assert said_low <= est.low + 30 and said_high >= est.high - 30  # ends rounded to a minute


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

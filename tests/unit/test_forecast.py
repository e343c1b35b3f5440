"""Interval forecast: same weekday and interval, with stated fallbacks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from queueing.forecast import PastCall, forecast_interval

ZONE = ZoneInfo("Europe/London")
MONDAY = 0
AS_OF = date(2024, 3, 25)  # a Monday; history is the days before it


def calls_at(day: date, hh: int, mm: int, handles: list[float | None]) -> list[PastCall]:
    moment = datetime.combine(day, time(hh, mm), tzinfo=ZONE)
    return [PastCall(moment + timedelta(seconds=i), h) for i, h in enumerate(handles)]


def mondays_back(weeks: int) -> list[date]:
    return [AS_OF - timedelta(days=7 * k) for k in range(1, weeks + 1)]


def test_forecast_averages_the_same_weekday_and_interval_over_four_weeks():
    history = []
    for count, day in zip([10, 20, 30, 40, 1000], mondays_back(5), strict=True):
        history += calls_at(day, 9, 10, [100.0] * count)
    history += calls_at(AS_OF - timedelta(days=1), 9, 10, [999.0] * 500)  # a Sunday
    result = forecast_interval(history, MONDAY, time(9, 0), ZONE, AS_OF)
    assert result.basis == "same weekday and interval, 4 weeks"
    assert (result.calls, result.aht_seconds, result.days_used) == (25.0, 100.0, 4)


def test_abandoned_calls_count_as_volume_but_not_handle_time():
    history = []
    for day in mondays_back(2):
        history += calls_at(day, 9, 0, [120.0, 240.0, None, None])
    result = forecast_interval(history, MONDAY, time(9, 0), ZONE, AS_OF)
    assert (result.calls, result.aht_seconds) == (4.0, 180.0)


def test_calls_outside_the_half_hour_are_left_out():
    history = []
    for day in mondays_back(2):
        history += calls_at(day, 8, 59, [60.0]) + calls_at(day, 9, 29, [60.0])
        history += calls_at(day, 9, 30, [60.0])
    assert forecast_interval(history, MONDAY, time(9, 0), ZONE, AS_OF).calls == 1.0


def test_arrivals_in_another_zone_are_placed_by_local_wall_clock_across_dst():
    # 2024-03-31 London moved to BST: 09:00 local is 08:00 UTC afterwards.
    as_of = date(2024, 4, 15)
    utc = ZoneInfo("UTC")
    history = [PastCall(datetime(2024, 4, 1, 8, 5, tzinfo=utc), 60.0),
               PastCall(datetime(2024, 4, 8, 8, 5, tzinfo=utc), 60.0)]
    result = forecast_interval(history, MONDAY, time(9, 0), ZONE, as_of)
    assert result.calls == 1.0


def test_one_past_monday_forecasts_mondays_and_other_weekdays_are_never_mixed_in():
    start = AS_OF - timedelta(days=10)  # only one Monday covered
    history = []
    for k in range(10):
        day = start + timedelta(days=k)
        history += calls_at(day, 9, 0, [200.0] * (14 if day.weekday() == MONDAY else 1))
    result = forecast_interval(history, MONDAY, time(9, 0), ZONE, AS_OF)
    assert result.basis == "same weekday and interval, 1 week"
    assert (result.calls, result.aht_seconds, result.days_used) == (14.0, 200.0, 1)


def test_a_weekday_history_does_not_cover_yet_has_no_forecast():
    start = AS_OF - timedelta(days=3)  # Friday to Sunday: no Monday yet
    history = calls_at(start, 9, 0, [200.0] * 5)
    result = forecast_interval(history, MONDAY, time(9, 0), ZONE, AS_OF)
    assert (result.calls, result.basis) == (None, "not enough history")


def test_days_without_calls_inside_history_count_as_zero():
    history = calls_at(mondays_back(2)[1], 9, 0, [60.0] * 6)
    result = forecast_interval(history, MONDAY, time(9, 0), ZONE, AS_OF,
                               history_start=mondays_back(4)[-1])
    assert (result.calls, result.days_used) == (1.5, 4)


def test_no_history_gives_no_forecast_and_says_so():
    result = forecast_interval([], MONDAY, time(9, 0), ZONE, AS_OF)
    assert (result.calls, result.aht_seconds, result.basis) == (None, None,
                                                                "not enough history")


def test_interval_with_only_abandoned_calls_has_no_handle_time():
    history = []
    for day in mondays_back(2):
        history += calls_at(day, 9, 0, [None])
    result = forecast_interval(history, MONDAY, time(9, 0), ZONE, AS_OF)
    assert (result.calls, result.aht_seconds) == (1.0, None)


@pytest.mark.parametrize(
    ("weekday", "start", "history"),
    [
        (7, time(9, 0), []),
        (0, time(9, 15), []),
        (0, time(9, 0), [PastCall(datetime(2024, 3, 18, 9, 0), 60.0)]),
        (0, time(9, 0), [PastCall(datetime(2024, 3, 18, 9, 0, tzinfo=ZONE), -1.0)]),
    ],
)
def test_forecast_rejects_bad_weekday_interval_naive_times_and_negative_handles(
    weekday, start, history
):
    with pytest.raises(ValueError):
        forecast_interval(history, weekday, start, ZONE, AS_OF)

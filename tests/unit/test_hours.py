"""Opening hours and holidays in the queue's own time zone: the schedule itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from queueing import hours

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

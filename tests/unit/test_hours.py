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


def test_a_queue_without_weekly_hours_is_open_all_day_except_on_its_holiday():
    storm = hours.Closure(date(2026, 11, 17), date(2026, 11, 17), "Storm closure")
    sched = hours.Schedule(BERLIN, (), (storm,), always_open=True)
    assert hours.is_open(sched, datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    assert not hours.is_open(sched, datetime(2026, 11, 17, 12, 0, tzinfo=UTC))
    assert hours.next_opening(sched, datetime(2026, 11, 17, 12, 0, tzinfo=UTC)) == datetime(
        2026, 11, 18, 0, 0, tzinfo=hours.Schedule(BERLIN, ()).tz)


def test_closing_time_runs_through_midnight_when_the_next_day_carries_on():
    sched = hours.Schedule("UTC", (hours.Range(0, time(18), time(0)),
                                   hours.Range(1, time(0), time(2))))
    # Monday 2026-11-16 20:00: open to midnight, and Tuesday continues until 02:00.
    assert hours.closing_time(sched, datetime(2026, 11, 16, 20, tzinfo=UTC)) == datetime(
        2026, 11, 17, 2, tzinfo=UTC)
    always = hours.Schedule("UTC", (), (hours.Closure(date(2026, 11, 18), date(2026, 11, 18)),),
                            always_open=True)
    assert hours.closing_time(always, datetime(2026, 11, 16, 20, tzinfo=UTC)) == datetime(
        2026, 11, 18, 0, tzinfo=UTC)

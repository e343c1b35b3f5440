"""Forecast calls and average handle time for one 30-minute interval from history.

Rule (pure functions, no I/O):

1. Same weekday and interval: look at the last ``weeks`` (default 4) dates with the
   target weekday before ``as_of`` that history covers, as many as exist (one past
   Monday is enough to forecast Mondays). The forecast volume is the mean number of
   calls that arrived in that interval on those dates (a covered date with no calls
   counts as 0), and the average handle time is the mean handle time of the answered
   calls among them. Other weekdays are never mixed in: a Sunday is not a Monday, and
   averaging one busy Monday with six quiet days under-staffs it sevenfold.
2. Not enough history: no covered date of that weekday gives ``calls=None`` (the page
   says so rather than recommending no agents).

``aht_seconds`` is None whenever no answered call was seen in the chosen intervals;
callers then use their own default (``queueing.estimate.FALLBACK_HANDLE_SECONDS``).
Abandoned calls (``handle_seconds is None``) count toward volume, never toward handle
time. Intervals are wall-clock times in the contact center's zone, so a DST change
keeps "Monday 09:00" meaning 09:00 local. History covers the dates from
``history_start`` (default: the local date of the earliest call) up to ``as_of``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

INTERVAL = timedelta(minutes=30)
DEFAULT_WEEKS = 4
NO_HISTORY = "not enough history"


@dataclass(frozen=True)
class PastCall:
    """One call from history: when it arrived and how long it took (None: abandoned)."""

    arrived_at: datetime
    handle_seconds: float | None


@dataclass(frozen=True)
class IntervalForecast:
    """Forecast volume and handle time for one interval, and the rule that produced it."""

    calls: float | None
    aht_seconds: float | None
    basis: str
    days_used: int


def _check_inputs(calls: Sequence[PastCall], weekday: int, start: time, weeks: int) -> None:
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday}")
    if start.minute % 30 or start.second or start.microsecond or start.tzinfo:
        raise ValueError(f"interval_start must be a naive :00 or :30 time, got {start}")
    if weeks < 1:
        raise ValueError(f"weeks must be 1 or more, got {weeks}")
    for call in calls:
        if call.arrived_at.tzinfo is None:
            raise ValueError(f"arrival {call.arrived_at} has no time zone")
        if call.handle_seconds is not None and call.handle_seconds < 0:
            raise ValueError(f"handle_seconds must be 0 or more, got {call.handle_seconds}")


def calls_in_interval(
    calls: Sequence[PastCall], day: date, start: time, zone: ZoneInfo
) -> list[PastCall]:
    """The calls that arrived on local `day` within the 30 minutes from `start`."""
    begin = datetime.combine(day, start)
    end = begin + INTERVAL
    return [
        c for c in calls if begin <= c.arrived_at.astimezone(zone).replace(tzinfo=None) < end
    ]


def _first_covered_day(calls: Sequence[PastCall], zone: ZoneInfo) -> date | None:
    return min((c.arrived_at.astimezone(zone).date() for c in calls), default=None)


def _summarize(
    calls: Sequence[PastCall], days: list[date], start: time, zone: ZoneInfo, basis: str
) -> IntervalForecast:
    seen = [call for day in days for call in calls_in_interval(calls, day, start, zone)]
    handled = [c.handle_seconds for c in seen if c.handle_seconds is not None]
    aht = sum(handled) / len(handled) if handled else None
    return IntervalForecast(len(seen) / len(days), aht, basis, len(days))


def forecast_interval(
    calls: Sequence[PastCall],
    weekday: int,
    interval_start: time,
    zone: ZoneInfo,
    as_of: date,
    weeks: int = DEFAULT_WEEKS,
    history_start: date | None = None,
) -> IntervalForecast:
    """Forecast calls and AHT for `weekday` at `interval_start` from history before `as_of`."""
    _check_inputs(calls, weekday, interval_start, weeks)
    first = history_start or _first_covered_day(calls, zone)
    if first is None:
        return IntervalForecast(None, None, NO_HISTORY, 0)
    covered = [as_of - timedelta(days=k) for k in range(1, 7 * weeks + 1)]
    same = [day for day in covered if day >= first and day.weekday() == weekday]
    if not same:
        return IntervalForecast(None, None, NO_HISTORY, 0)
    weeks_used = f"{len(same)} week" + ("s" if len(same) > 1 else "")
    return _summarize(calls, same, interval_start, zone,
                      f"same weekday and interval, {weeks_used}")

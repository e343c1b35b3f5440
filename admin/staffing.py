"""Staffing beside the plan: for each 30-minute interval of a week, the forecast volume and
handle time (same weekday and interval over as many of the last 4 weeks as the queue's
calls cover, see queueing.forecast), the agents Erlang C (Erlang A given a patience) needs
on the phones for the queue's service-level target, the agents to roster once shrinkage
(breaks, training, absence) is allowed for, the agents planned, and the shortfall spelled
out. A weekday with no history has no recommendation, and says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from admin.config import find_queue, staffing_plan
from admin.reports import talk
from holdless import clock
from models.entities import Interaction, Queue
from queueing.erlang import agents_needed, with_shrinkage
from queueing.estimate import FALLBACK_HANDLE_SECONDS
from queueing.forecast import DEFAULT_WEEKS, INTERVAL, PastCall, forecast_interval

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STARTS = tuple(time(m // 60, m % 60) for m in range(0, 1440, 30))


@dataclass(frozen=True)
class IntervalStaffing:
    """One interval of the week: forecast, agents needed for the target, agents planned."""

    weekday: int
    start: time
    forecast_calls: float | None  # None: not enough history for this weekday
    aht_seconds: float
    on_phones: int | None  # agents answering that the target needs (None: no forecast)
    planned: int | None
    target_percent: int
    within_seconds: int
    shrinkage: float = 0.0  # the share of rostered time not on the phones

    @property
    def needed(self) -> int | None:
        """Agents to roster: those on the phones, grown by the shrinkage (None: no forecast)."""
        if self.on_phones is None:
            return None
        return with_shrinkage(self.on_phones, self.shrinkage)

    @property
    def label(self) -> str:
        """The interval as people read it, e.g. Tuesday 10:00–10:30."""
        end = (datetime.combine(date.min, self.start) + INTERVAL).time()
        return f"{DAY_NAMES[self.weekday]} {self.start:%H:%M}–{end:%H:%M}"

    @property
    def shortfall(self) -> int:
        """Agents missing from the plan (0 when the plan covers the need or none is known)."""
        return max((self.needed or 0) - (self.planned or 0), 0)

    def describe(self) -> str:
        """One line, e.g. Tuesday 10:00–10:30: planned 6, needed 9 for 80% in 20 s (with
        shrinkage: "…, needed 12 for 80% in 20 s (9 on the phones, 25% shrinkage)")."""
        if self.needed is None:
            return f"{self.label}: planned {self.planned or 0}, not enough history to forecast"
        words = (f"{self.label}: planned {self.planned or 0}, needed {self.needed} for "
                 f"{self.target_percent}% in {self.within_seconds} s")
        if self.shrinkage:
            words += f" ({self.on_phones} on the phones, {self.shrinkage:.0%} shrinkage)"
        return words


def history(s: Session, queue: Queue, as_of: date, weeks: int = DEFAULT_WEEKS) -> list[PastCall]:
    """The queue's offered inbound calls in the `weeks` weeks before local day `as_of`."""
    zone = ZoneInfo(queue.time_zone)
    end = datetime.combine(as_of, time(0), zone)
    start = datetime.combine(as_of - timedelta(days=7 * weeks), time(0), zone)
    rows = s.scalars(select(Interaction).options(selectinload(Interaction.legs)).where(
        Interaction.queue_id == queue.id, Interaction.kind == "inbound",
        Interaction.joined_at.is_not(None), Interaction.created_at >= start,
        Interaction.created_at < end))
    return [PastCall(c.created_at, talk(c)[0] if c.answered_at is not None else None)
            for c in rows]


def _overall_aht(calls: list[PastCall]) -> float:
    handled = [c.handle_seconds for c in calls if c.handle_seconds is not None]
    return sum(handled) / len(handled) if handled else FALLBACK_HANDLE_SECONDS


def _by_interval(calls: list[PastCall], zone: ZoneInfo) -> dict[time, list[PastCall]]:
    """Calls grouped by the local interval they arrived in (the forecast looks at one)."""
    buckets: dict[time, list[PastCall]] = {}
    for call in calls:
        local = call.arrived_at.astimezone(zone)
        start = time(local.hour, local.minute // 30 * 30)
        buckets.setdefault(start, []).append(call)
    return buckets


def week_staffing(s: Session, queue: Queue | str, as_of: date | None = None,
                  patience_seconds: float | None = None,
                  shrinkage: float = 0.0) -> list[IntervalStaffing]:
    """Every interval of the week for `queue`, forecast from the 4 weeks before `as_of`
    (default: today in the queue's zone; as many weeks as exist); AHT falls back to the
    weeks' mean, then 240 s; `shrinkage` (0 to under 1) grows the agents to roster."""
    row = find_queue(s, queue)
    zone = ZoneInfo(row.time_zone)
    day = as_of or clock.now().astimezone(zone).date()
    calls = history(s, row, day)
    plan, fallback = staffing_plan(s, row), _overall_aht(calls)
    first = min((c.arrived_at.astimezone(zone).date() for c in calls), default=None)
    buckets = _by_interval(calls, zone)
    out = []
    for weekday in range(7):
        for start in STARTS:
            guess = forecast_interval(buckets.get(start, []), weekday, start, zone, day,
                                      history_start=first or day)
            aht = guess.aht_seconds or fallback
            needed = None if guess.calls is None else agents_needed(
                guess.calls, INTERVAL.total_seconds(), aht, row.sl_target_percent / 100,
                row.sl_target_seconds, patience_seconds)
            out.append(IntervalStaffing(weekday, start, guess.calls, aht, needed,
                                        plan.get((weekday, start)), row.sl_target_percent,
                                        row.sl_target_seconds, shrinkage))
    return out


def days_without_history(rows: list[IntervalStaffing]) -> list[str]:
    """The weekdays with no forecast (no day of theirs in the history yet), by name."""
    known = {r.weekday for r in rows if r.forecast_calls is not None}
    return [DAY_NAMES[d] for d in range(7) if d not in known]


def shortfalls(rows: list[IntervalStaffing]) -> list[str]:
    """The intervals whose plan falls short of the need, as sentences, in week order."""
    return [r.describe() for r in rows if r.shortfall]

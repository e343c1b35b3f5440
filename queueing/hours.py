"""When a queue is open: weekly ranges in the queue's own time zone, minus holidays.

Closed means closed: a queue with no weekly hours at all is open around the clock on its
ordinary days, and a holiday closes it (or gives it special hours) all the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# How far ahead to look for the next opening before saying "no opening known".
LOOKAHEAD_DAYS = 60


@dataclass(frozen=True)
class Range:
    """Open from `opens` to `closes` (local wall time) on `weekday` (0 = Monday)."""

    weekday: int
    opens: time
    closes: time


@dataclass(frozen=True)
class Closure:
    """A holiday from `starts` to `ends` inclusive: closed, or open only `opens`–`closes`."""

    starts: date
    ends: date
    name: str = ""
    opens: time | None = None
    closes: time | None = None
    message: str = ""
    messages: tuple[tuple[str, str], ...] = ()
    """The message in further languages: (tag, text) pairs."""

    def message_in(self, tag: str, own: str) -> str:
        """The message in language `tag` (`message` when `tag` is `own`, the language it
        was written in; "" when there is none in `tag`)."""
        entered = dict(self.messages).get(tag)
        return entered or (self.message if tag == own else "")


@dataclass(frozen=True)
class Schedule:
    """A queue's opening hours and holidays in its time zone."""

    zone: str
    ranges: tuple[Range, ...]
    closures: tuple[Closure, ...] = field(default_factory=tuple)
    always_open: bool = False  # no weekly hours set: open all day on every ordinary day

    @property
    def tz(self) -> ZoneInfo:
        """The queue's time zone."""
        return ZoneInfo(self.zone)


def closure_on(schedule: Schedule, day: date) -> Closure | None:
    """The holiday covering `day`, if any."""
    return next((c for c in schedule.closures if c.starts <= day <= c.ends), None)


def ranges_on(schedule: Schedule, day: date) -> list[tuple[datetime, datetime]]:
    """The open intervals (aware, local) on a local calendar day."""
    closure = closure_on(schedule, day)
    if closure is not None:
        if closure.opens is None or closure.closes is None:
            return []
        spans = [(closure.opens, closure.closes)]
    elif schedule.always_open:
        spans = [(time(0), time(0))]
    else:
        spans = [(r.opens, r.closes) for r in schedule.ranges if r.weekday == day.weekday()]
    tz = schedule.tz
    return sorted(
        (datetime.combine(day, o, tz), datetime.combine(day, c, tz) if c > o
         else datetime.combine(day + timedelta(days=1), time(0), tz))
        for o, c in spans
    )


def is_open(schedule: Schedule, moment: datetime) -> bool:
    """Whether the queue takes calls at `moment` (any aware datetime)."""
    local = moment.astimezone(schedule.tz)
    return any(start <= local < end for start, end in ranges_on(schedule, local.date()))


def next_opening(schedule: Schedule, moment: datetime) -> datetime | None:
    """The next moment the queue opens after `moment` (local, aware), or None."""
    local = moment.astimezone(schedule.tz)
    for offset in range(LOOKAHEAD_DAYS):
        for start, _end in ranges_on(schedule, local.date() + timedelta(days=offset)):
            if start > local:
                return start
    return None


def closing_time(schedule: Schedule, moment: datetime) -> datetime | None:
    """When the queue, open at `moment`, next closes (a range to midnight that the next
    day's range continues does not close it), or None when closed."""
    local = moment.astimezone(schedule.tz)
    end = next((e for s, e in ranges_on(schedule, local.date()) if s <= local < e), None)
    for offset in range(1, LOOKAHEAD_DAYS):
        if end is None:
            return None
        following = ranges_on(schedule, local.date() + timedelta(days=offset))
        further = next((e for s, e in following if s == end), None)
        if further is None:
            return end
        end = further
    return end

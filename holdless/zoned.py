"""The one rule for time: a time shown carries its zone (the words every page uses).

`zoned(moment, "Europe/Berlin")` gives "2026-11-16 16:30 CET"; anything about a queue is
shown in the queue's zone. The pages reach it through the Jinja filter `zoned`
(console/zoned.py) and the browser through `Holdless.zoned()` (console/static/zoned.js);
text the server composes for a page (the board's "open until 17:00 CET") uses it directly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FORMATS = {"full": "%Y-%m-%d %H:%M %Z", "seconds": "%Y-%m-%d %H:%M:%S %Z",
           "day": "%a %d %b %H:%M %Z", "time": "%H:%M %Z"}


def zoned(moment: datetime | None, zone: str | None = None, style: str = "full") -> str:
    """`moment` in `zone` (UTC when none is known), with the zone's abbreviation; a naive
    moment is read as UTC (how the database returns them). "—" for no moment."""
    if moment is None:
        return "—"
    try:
        tz = ZoneInfo(zone) if zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        tz = UTC
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(tz).strftime(FORMATS.get(style, FORMATS["full"]))

"""The one rule for time on every page: a time shown carries its zone.

Pages format moments with the Jinja filter `zoned` (registered app-wide by `init_app`):
`{{ moment | zoned(queue.time_zone) }}` gives "2026-11-16 10:30 EST"; anything about a
queue is shown in the queue's zone. In the browser, `Holdless.zoned(iso, zone)` in
static/zoned.js does the same (console, board and admin pages load it)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

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


def init_app(app: Flask) -> None:
    """Register the `zoned` filter for every template."""
    app.add_template_filter(zoned, "zoned")

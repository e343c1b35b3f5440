"""The one rule for time on every page: a time shown carries its zone.

Pages format moments with the Jinja filter `zoned` (registered app-wide by `init_app`):
`{{ moment | zoned(queue.time_zone) }}` gives "2026-11-16 10:30 EST"; anything about a
queue is shown in the queue's zone. In the browser, `Holdless.zoned(iso, zone)` in
static/zoned.js does the same (console, board and admin pages load it). The words
themselves are holdless.zoned's, which server-side text (the board's hours) uses too."""

from __future__ import annotations

from flask import Flask

from holdless.zoned import FORMATS, zoned

__all__ = ["FORMATS", "init_app", "zoned"]


def init_app(app: Flask) -> None:
    """Register the `zoned` filter for every template."""
    app.add_template_filter(zoned, "zoned")

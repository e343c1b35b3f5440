"""The simulator's measure of callback promises: a ring counts inside what was said when it
falls between the promise's earliest and latest moments; a late one is late by how far past
the latest it rang; the late ones' median, 90th percentile and most are of those alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from simulator.report import DayReport, promise_figures_of, render_text

BOOKED = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)


def _told(low_minutes: float, high_minutes: float, rang_minutes: float
          ) -> tuple[datetime, datetime, datetime]:
    def at(minutes: float) -> datetime:
        return BOOKED + timedelta(minutes=minutes)
    return at(low_minutes), at(high_minutes), at(rang_minutes)


def test_rings_between_what_was_said_count_inside_and_late_ones_by_seconds_past_the_latest():
    figures = promise_figures_of(
        [_told(11.25, 12.25, 12)]  # inside
        + [_told(11.25, 12.25, 12.25)]  # on the latest moment: still inside
        + [_told(5, 8, 4)]  # early
        + [_told(5, 8, 8 + late) for late in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)])
    assert (figures.rung, figures.inside, figures.early, len(figures.late)) == (13, 2, 1, 10)
    assert figures.inside_share == 2 / 13
    assert figures.late_median == 330.0
    assert figures.late_p90 == 540.0
    assert figures.late_most == 600.0


def test_no_late_callback_gives_no_lateness_and_the_report_says_so():
    figures = promise_figures_of([_told(0, 1, 0.5)])
    assert figures.inside_share == 1.0 and figures.late_median is None
    report = DayReport("x", 1.0, 1.0, [], [], promises=figures)
    assert ("callback promises      1 completed callback(s) rung: 100.0% inside what the "
            "customer was told, 0 earlier, 0 later (late by median -, 90th percentile -, "
            "most -)") in render_text(report)

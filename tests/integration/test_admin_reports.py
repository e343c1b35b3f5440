"""Daily reports on a hand-seeded day, checked against figures worked out by hand."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from admin import reports
from models.entities import ABANDONED, COMPLETED, Interaction, Leg, Queue
from tests.helpers import seed_queues

NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
A, B, C, D, E, F = (f"+1201555010{n}" for n in range(1, 7))
_sids = itertools.count(1)


def _call(s, queue: Queue, local: datetime, number: str, wait: float | None = None,
          talk: tuple[float, ...] = (), status: str = COMPLETED, outcome: str = "",
          joined: bool = True, missed_leg: bool = False) -> None:
    """One inbound call: 10 s in the menu, then `wait` s in line, then legs of `talk` s each."""
    created = local.astimezone(UTC)
    joined_at = created + timedelta(seconds=10)
    call = Interaction(call_sid=f"CA{next(_sids):032d}", caller_number=number, queue_id=queue.id,
                       status=status, outcome=outcome, created_at=created,
                       joined_at=joined_at.timestamp() if joined else None)
    moment = joined_at + timedelta(seconds=wait or 0)
    if missed_leg:
        call.legs.append(Leg(status="missed", started_at=joined_at, ended_at=moment))
    if talk:
        call.answered_at, call.wait_seconds = moment, wait
    for seconds in talk:
        call.legs.append(Leg(status="completed", started_at=moment, answered_at=moment,
                             ended_at=moment + timedelta(seconds=seconds)))
        moment += timedelta(seconds=seconds)
    call.ended_at = moment
    s.add(call)


def ny(hour: int, minute: int, day: int = 16, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


@pytest.fixture
def seeded(rt):
    """Monday 2026-11-16: support in New York (target 20 s), sales in Berlin (target 30 s)."""
    seed_queues(rt, ("support", "Support", "1"), ("sales", "Sales", "2"))
    with rt.db.session() as s:
        support = s.query(Queue).filter_by(slug="support").one()
        sales = s.query(Queue).filter_by(slug="sales").one()
        sales.time_zone, sales.sl_target_seconds = "Europe/Berlin", 30
        _call(s, support, ny(9, 5), A, wait=10, talk=(300,))
        _call(s, support, ny(9, 10), B, wait=30, talk=(120, 60), missed_leg=True)
        _call(s, support, ny(9, 20), C, wait=None, status=ABANDONED, outcome="abandoned")
        _call(s, support, ny(9, 40), D, status=ABANDONED, outcome="callback requested")
        _call(s, support, ny(15, 0), A, wait=20, talk=(240,))
        _call(s, support, ny(8, 0), E, status=ABANDONED, outcome="hung up in menu",
              joined=False)
        _call(s, support, ny(23, 30, day=15), F, wait=5, talk=(60,))  # the day before
        _call(s, support, ny(23, 30), F, wait=5, talk=(60,))  # 04:30 UTC the next day
        _call(s, sales, datetime(2026, 11, 16, 10, 0, tzinfo=BERLIN), B, wait=25, talk=(100,))
    return rt


def test_day_figures_of_one_queue_match_the_hand_count(seeded):
    with seeded.db.session() as s:
        report = reports.day_report(s, date(2026, 11, 16), "support")
    # offered 1,2,3,4,5,8; answered 1,2,5,8; within 20 s: 1 (10 s), 5 (20 s), 8 (5 s).
    assert report.total == reports.Figures(
        offered=6, answered=4, abandoned=1, service_level_percent=50.0,
        asa_seconds=(10 + 30 + 20 + 5) / 4, aht_seconds=(300 + 180 + 240 + 60) / 4,
        fcr_percent=75.0,  # A called again at 15:00 after the 09:05 call
        transfers_per_call=0.25)


def test_interval_figures_follow_local_half_hours(seeded):
    with seeded.db.session() as s:
        report = reports.day_report(s, date(2026, 11, 16), "support")
    by_label = dict(report.intervals)
    assert len(report.intervals) == 48
    assert by_label["09:00"] == reports.Figures(3, 2, 1, 100 / 3, 20.0, 240.0, 50.0, 0.5)
    assert by_label["09:30"] == reports.Figures(1, 0, 0, 0.0, None, None, None, None)
    assert by_label["23:30"].offered == 1 and by_label["23:30"].asa_seconds == 5.0
    assert by_label["08:00"].offered == 0 and by_label["08:00"].service_level_percent is None
    assert sum(f.offered for _, f in report.intervals) == report.total.offered


def test_all_queues_count_each_call_in_its_own_queues_zone_and_target(seeded):
    with seeded.db.session() as s:
        report = reports.day_report(s, date(2026, 11, 16))
    assert report.queue == "all"
    assert report.total == reports.Figures(
        offered=7, answered=5, abandoned=1, service_level_percent=400 / 7,
        asa_seconds=90 / 5, aht_seconds=880 / 5,
        fcr_percent=60.0,  # B called support at 14:10 UTC after sales at 09:00 UTC
        transfers_per_call=0.2)
    assert dict(report.intervals)["10:00"].answered == 1  # 10:00 in Berlin


def test_report_on_the_autumn_dst_day_holds_all_25_hours(rt):
    seed_queues(rt, ("support", "Support", "1"))
    with rt.db.session() as s:
        support = s.query(Queue).one()
        # Sunday 2026-11-01, New York: 01:15 happens twice (EDT, then EST).
        _call(s, support, datetime(2026, 11, 1, 5, 15, tzinfo=UTC), A, wait=4, talk=(30,))
        _call(s, support, datetime(2026, 11, 1, 6, 15, tzinfo=UTC), B, wait=8, talk=(30,))
        _call(s, support, datetime(2026, 11, 2, 4, 45, tzinfo=UTC), C, wait=2, talk=(30,))
        _call(s, support, datetime(2026, 11, 2, 5, 0, tzinfo=UTC), D, wait=2, talk=(30,))
    with rt.db.session() as s:
        report = reports.day_report(s, date(2026, 11, 1), "support")
    by_label = dict(report.intervals)
    assert report.total.offered == 3
    assert by_label["01:00"].offered == 2 and by_label["23:30"].offered == 1


def test_csv_export_has_a_row_per_interval_and_the_day(seeded):
    with seeded.db.session() as s:
        report = reports.day_report(s, date(2026, 11, 16), "support")
    rows = list(csv.reader(io.StringIO(reports.to_csv(report))))
    assert rows[0] == list(reports.CSV_COLUMNS)
    assert len(rows) == 1 + 48 + 1
    assert rows[1 + 18] == ["09:00", "3", "2", "1", "33.33", "20.00", "240.00", "50.00",
                          "0.50"]
    assert rows[-1] == ["day", "6", "4", "1", "50.00", "16.25", "195.00", "75.00", "0.25"]


def test_interval_chart_is_a_png(seeded):
    with seeded.db.session() as s:
        report = reports.day_report(s, date(2026, 11, 16), "support")
    png = reports.interval_chart(report)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_report_of_an_unknown_queue_or_empty_day_is_all_zero(seeded):
    with seeded.db.session() as s:
        assert reports.day_report(s, date(2026, 11, 16), "nope").total.offered == 0
        empty = reports.day_report(s, date(2026, 11, 20), "support").total
    assert (empty.offered, empty.service_level_percent, empty.aht_seconds) == (0, None, None)


"""Staffing beside the plan: forecast from four past weeks, Erlang C need, shortfall as text."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from admin import config, staffing
from admin.audit import Actor
from models.entities import ABANDONED, COMPLETED, Interaction, Leg, Queue
from tests.helpers import seed_queues

NEW_YORK = ZoneInfo("America/New_York")
_sids = itertools.count(1)


def _call(s, queue_id: int, local: datetime, handle: float | None) -> None:
    created = local.astimezone(UTC)
    call = Interaction(call_sid=f"CS{next(_sids):032d}", caller_number="+12015550101",
                       queue_id=queue_id, created_at=created, joined_at=created.timestamp(),
                       status=COMPLETED if handle else ABANDONED,
                       outcome="" if handle else "abandoned")
    if handle:
        call.answered_at, call.wait_seconds = created + timedelta(seconds=5), 5.0
        call.legs.append(Leg(status="completed", started_at=created, answered_at=call.answered_at,
                             ended_at=call.answered_at + timedelta(seconds=handle)))
    s.add(call)


def test_week_staffing_forecasts_four_past_tuesdays_and_spells_out_the_shortfall(rt):
    seed_queues(rt, ("support", "Support", "1"), ("sales", "Sales", "2"))
    operator = Actor.operator("test")
    with rt.db.session() as s:
        support = s.query(Queue).filter_by(slug="support").one()
        sales = s.query(Queue).filter_by(slug="sales").one()
        # Tuesdays either side of the DST change (Nov 1): 20 calls of 180 s at 10:05 local.
        for day in (20, 27, 34, 41):
            tuesday = datetime(2026, 10, 1, 10, 5, tzinfo=NEW_YORK) + timedelta(days=day - 1)
            for _ in range(20):
                _call(s, support.id, tuesday, 180.0)
            _call(s, sales.id, tuesday, 600.0)  # another queue: not counted
        _call(s, support.id, datetime(2026, 11, 10, 10, 35, tzinfo=NEW_YORK), None)
        config.set_staffing(s, operator, "support", 1, "10:00", 3)
        config.set_staffing(s, operator, "support", 1, "10:30", 2)
    with rt.db.session() as s:
        rows = staffing.week_staffing(s, "support", as_of=date(2026, 11, 16))
    by_slot = {(r.weekday, r.start): r for r in rows}
    ten, half_past = by_slot[(1, time(10))], by_slot[(1, time(10, 30))]
    assert len(rows) == 7 * 48
    # 20 calls x 180 s in 1800 s = 2 Erlangs; Erlang C 80/20: 3 agents give 60.2%, 4 give 86.1%.
    assert (ten.forecast_calls, ten.aht_seconds, ten.needed, ten.planned) == (20.0, 180.0, 4, 3)
    assert (half_past.forecast_calls, half_past.needed, half_past.planned) == (0.25, 1, 2)
    assert half_past.aht_seconds == 180.0  # no answered call there: the 4 weeks' mean
    assert by_slot[(0, time(10))].needed == 0
    assert staffing.shortfalls(rows) == ["Tuesday 10:00–10:30: planned 3, needed 4 for 80% in 20 s"]

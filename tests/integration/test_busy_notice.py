"""The "unusually busy" notice means busier than usual for that queue at that weekday and
half-hour, learned from its own answered callers; the fixed threshold only on a cold start."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ivr.in_line import BUSY_NOTICE
from models.entities import COMPLETED, Interaction, Queue
from queueing import stats, usual
from tests.helpers import call_form, seed_queues, spoken, twiml

ONE_CALLER_WAIT = 240.0  # no agent signed in: one handle time per place in line


def _history(rt, waits, weeks_ago=1, queue="support"):
    """Answered callers of `queue` who joined in this half-hour `weeks_ago` weeks back."""
    joined = (rt.clock.now() - timedelta(weeks=weeks_ago)).timestamp()
    with rt.db.session() as s:
        queue_id = s.scalar(select(Queue.id).where(Queue.slug == queue))
        for n, wait in enumerate(waits):
            s.add(Interaction(call_sid=f"CAhist{weeks_ago}x{n:04d}{queue}", queue_id=queue_id,
                              status=COMPLETED, created_at=rt.clock.now(), ivr_choices={},
                              joined_at=joined + n, wait_seconds=wait))
        s.commit()


def _join(rt, twilio, n):
    rt.clock.advance(1)  # callers arrive one after another
    return spoken(twiml(twilio.post("/voice/incoming",
                                    call_form(from_=f"+1212555{n:04d}"))))


def _threshold(rt, seconds):
    with rt.db.session() as s:
        s.execute(update(Queue).values(busy_threshold_seconds=seconds))
        s.commit()


@pytest.fixture(autouse=True)
def _handled_today(rt):
    """One call handled today: the estimate has a handle time to go on."""
    stats.record_handle_time(rt.live, "support", ONE_CALLER_WAIT)


def test_a_queue_whose_usual_wait_is_long_is_not_unusually_busy_at_that_wait(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _history(rt, [1500.0] * usual.MIN_HISTORY_CALLS)  # this half-hour usually waits 25 min
    said = [_join(rt, twilio, n) for n in range(4)]  # the 4th waits ~16 min: above 600 s
    with rt.db.session() as s:
        assert max(s.scalars(select(Interaction.announced_wait)
                             .where(Interaction.wait_seconds.is_(None)))) > 600
    assert not any(BUSY_NOTICE in words for words in said)


def test_a_surge_above_the_usual_wait_is_unusually_busy_on_joining(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _history(rt, [150.0] * usual.MIN_HISTORY_CALLS, weeks_ago=2)  # usually 2.5 minutes
    first, second = _join(rt, twilio, 1), _join(rt, twilio, 2)  # ~4 and ~8 minutes: below 600 s
    assert BUSY_NOTICE not in first  # 240 s is not beyond max(1.5 x 150, 150 + 120)
    assert BUSY_NOTICE in second


def test_a_wait_that_becomes_unusually_long_is_announced_once_in_a_hold_update(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _history(rt, [170.0] * usual.MIN_HISTORY_CALLS)  # busy beyond 290 s
    form = call_form()
    assert BUSY_NOTICE not in spoken(twiml(twilio.post("/voice/incoming", form)))  # ~240 s
    for _ in range(8):  # calls now take far longer: the same place now means a long wait
        stats.record_handle_time(rt.live, "support", 900.0)
    hold = {**form, "QueueTime": "60", "QueuePosition": "1"}
    assert BUSY_NOTICE in spoken(twiml(twilio.post("/voice/hold", hold)))
    assert BUSY_NOTICE not in spoken(twiml(twilio.post("/voice/hold", hold)))  # said once


def test_history_of_other_half_hours_is_not_what_is_usual_now(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    rt.clock.advance(-3600)  # an hour earlier, the queue usually waited 25 minutes
    _history(rt, [1500.0] * usual.MIN_HISTORY_CALLS)
    rt.clock.advance(3600)
    _threshold(rt, 300)
    said = [_join(rt, twilio, n) for n in range(2)]
    assert BUSY_NOTICE in said[1]  # cold start for this half-hour: the 300 s threshold


def test_cold_start_uses_the_queues_busy_threshold(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _history(rt, [1500.0] * (usual.MIN_HISTORY_CALLS - 1))  # too thin to be "usual"
    _threshold(rt, 300)
    said = [_join(rt, twilio, n) for n in range(2)]  # ~4 and ~8 minutes
    assert BUSY_NOTICE not in said[0] and BUSY_NOTICE in said[1]


def test_a_higher_busy_threshold_keeps_a_cold_start_queue_quiet(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _threshold(rt, 900)
    said = [_join(rt, twilio, n) for n in range(3)]  # up to ~12 minutes
    assert not any(BUSY_NOTICE in words for words in said)

"""Rebuilding the lines from the database after Redis loses them."""

from __future__ import annotations

from callbacks import reconcile
from ivr import booking
from models.callbacks import BOOKED
from queueing import keys, lines
from tests.callback_steps import ask_for_callback, book_callback, call_in, only_callback
from tests.helpers import make_available, seed_agent, seed_queues


def _line(rt, queue="support"):
    return rt.live.zrange(keys.line(queue), 0, -1, withscores=True)


def test_flushed_redis_is_rebuilt_in_the_same_order_with_no_callback_lost(
        rt, twilio, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    call_in(twilio, "+12125550101")
    for n in range(2, 7):
        frozen_clock.advance(20)
        (book_callback if n % 2 else call_in)(twilio, f"+1212555010{n}")
    before = _line(rt)
    assert len(before) == 6 and sum(e.startswith("cb:") for e, _ in before) == 2
    rt.live.flushdb()
    rebuilt = reconcile.reconcile(rt)
    assert (rebuilt.callbacks, rebuilt.callers) == (2, 4)
    assert _line(rt) == before
    for entry_id, _score in before:  # the records come back too, not only the scores
        assert lines.load(rt.live, entry_id) is not None


def test_reconciling_a_healthy_redis_changes_nothing(rt, twilio, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    call_in(twilio, "+12125550101")
    frozen_clock.advance(30)
    book_callback(twilio)
    before = _line(rt)
    reconcile.reconcile(rt)
    assert _line(rt) == before


def test_worker_start_rebuilds_the_lines(rt, twilio, worker, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    book_callback(twilio)
    before = _line(rt)
    rt.live.flushdb()
    worker()
    assert _line(rt) == before


def test_callers_stepping_out_to_book_and_offered_entries_are_not_put_back(
        rt, twilio, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    booking_caller = call_in(twilio, "+12125550101")
    ask_for_callback(twilio, booking_caller)  # out of the line while confirming
    frozen_clock.advance(10)
    book_callback(twilio)
    agent = seed_agent(rt, "alice", ["support"])
    make_available(rt, agent)  # the callback is now offered to alice
    assert _line(rt) == []
    reconcile.reconcile(rt)
    assert _line(rt) == []


def test_callback_waiting_for_its_retry_stays_out_until_due(rt, twilio, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    book_callback(twilio)
    callback = only_callback(rt)
    with rt.db.session() as s:
        s.get(type(callback), callback.id).next_attempt_at = rt.clock.now().replace(
            year=2030)
    rt.live.flushdb()
    reconcile.reconcile(rt)
    assert _line(rt) == []


def test_cancelled_callback_left_in_redis_is_taken_out(rt, twilio, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    book_callback(twilio)
    callback = only_callback(rt)
    entry = lines.load(rt.live, f"cb:{callback.id}")
    booking.cancel(rt, callback.number)
    lines.join(rt.live, entry)  # a stale copy, as if the cancel's Redis write was lost
    assert reconcile.reconcile(rt).removed == 1
    assert _line(rt) == []
    assert only_callback(rt).status != BOOKED

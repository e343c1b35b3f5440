"""A worker SIGKILLed right after Twilio accepted a dial, before the call's sid was noted
anywhere, with Twilio's `initiated` status callback lost too: after the restart the call
is found at Twilio (calls placed to that contact since the leg was written) and adopted,
so the agent (or the callback's customer) is rung exactly once."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from callbacks import jobs, reconcile, sweeper
from models.callbacks import CallbackAttempt
from models.entities import Agent, Leg
from queueing import keys
from queueing.limits import CALLBACK_STUCK_ATTEMPT_SECONDS, SWEEP_MIN_AGE_SECONDS
from tests.callback_steps import agent_answers, attempt_row, book_callback
from tests.daytime import daytime_now
from tests.faults import WorkerProcess, drain, wait_until
from tests.helpers import make_available, seed_agent, seed_queues
from tests.system.test_faults import (
    _abandoned_jobs_found_later,
    _kill_mid_connect,
    _offered_call,
    _restart_worker,
    _worker_env,
)

CUSTOMER = "+12125550123"  # book_callback's caller ID


@pytest.mark.slow
def test_worker_killed_after_dialling_with_the_initiated_callback_lost_rings_the_agent_once(
        rt, twilio, twilio_api, tmp_path):
    _offered_call(rt, twilio)
    _kill_mid_connect(rt, tmp_path, "hang-after-dial")  # dialled; sid noted nowhere
    sid = (tmp_path / "marker").read_text()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg))
    assert (leg.call_sid, leg.status, rt.live.get(keys.leg_call(leg.id))) == (
        None, "dialling", None)  # and no status callback ever arrives
    _abandoned_jobs_found_later(rt)
    log = _restart_worker(rt, tmp_path)
    assert [c.field("To") for c in twilio_api.calls_created()] == ["client:alice"]
    assert twilio_api.requests("call-list")  # it asked Twilio before dialling again
    with rt.db.session() as s:
        assert s.scalar(select(Leg)).call_sid == sid
    assert rt.live.get(keys.leg_call(leg.id)) == sid
    assert "adopted its call" in log


def test_redial_after_a_lost_dial_adopts_a_call_already_over_and_applies_its_end(
        rt, twilio, twilio_api):
    """The state a worker killed right after the dial leaves (a leg with no sid anywhere),
    made in-process; meanwhile Twilio rang alice out (no-answer) and the report was lost."""
    agent_id, _form = _offered_call(rt, twilio)
    drain(rt)
    with rt.db.session() as s:
        leg = s.scalar(select(Leg))
        sid, leg.call_sid = leg.call_sid, None
        assignment_id = leg.assignment_id
    rt.live.delete(keys.leg_call(leg.id))
    twilio_api.store.update_call(sid, status="no-answer")
    assert jobs.ring_agent(rt, assignment_id) == "already dialled"
    drain(rt)  # the adopted call's end is settled by the job it queued, not inline
    with rt.db.session() as s:
        missed = s.get(Leg, leg.id)
        assert (missed.call_sid, missed.status) == (sid, "missed")
        assert s.get(Agent, agent_id).missed_offers == 1  # she did let it ring out
    leg_dials = [c for c in twilio_api.calls_created()
                 if c.form["Url"][0].endswith(f"whisper?leg={leg.id}")]
    assert len(leg_dials) == 1  # this leg not rung again (her miss re-offers on a new leg)


@pytest.mark.slow
def test_callback_customer_dialled_by_a_killed_worker_is_adopted_not_settled_as_never_placed(
        rt, twilio, twilio_api, frozen_clock, worker, tmp_path):
    """The customer's dial is claimed before it is placed, so a rerun never dials twice;
    but the call's sid was lost with the worker and its `no-answer` report too. The sweeper
    adopts the call and applies the no-answer; the watchdog would otherwise have closed the
    attempt as "no call placed"."""
    frozen_clock.set(daytime_now())  # the worker process runs on tests/daytime.py
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"])
    book_callback(twilio)
    worker()
    make_available(rt, alice)
    worker()  # alice is rung for the callback
    agent_answers(twilio, rt)  # ... picks up: the customer's dial is queued
    marker = tmp_path / "marker"
    killed = WorkerProcess(_worker_env(rt, tmp_path), tmp_path / "worker.log",
                           mode="hang-after-dial", marker=marker)
    try:
        wait_until(marker.exists, timeout=60)
    finally:
        killed.kill()
    customer_sid = marker.read_text()
    attempt = attempt_row(rt)
    assert (attempt.call_sid, attempt.outcome) == (None, "")
    twilio_api.store.update_call(customer_sid, status="no-answer")  # report lost
    frozen_clock.set(daytime_now() + SWEEP_MIN_AGE_SECONDS + 1)
    swept = sweeper.sweep(rt)
    assert (swept.adopted, f"cb-customer:{attempt.id}" in swept.applied) == (1, True)
    settled = attempt_row(rt, attempt.id)
    assert (settled.call_sid, settled.outcome) == (customer_sid, "no-answer")
    assert rt.presence.state(alice) == "available"
    frozen_clock.advance(CALLBACK_STUCK_ATTEMPT_SECONDS)
    reconcile.settle_stuck_attempts(rt)
    assert attempt_row(rt, attempt.id).outcome == "no-answer"  # not "stuck: no call placed"
    assert [c.field("To") for c in twilio_api.calls_created()].count(CUSTOMER) == 1
    with rt.db.session() as s:
        assert len(s.scalars(select(CallbackAttempt)).all()) == 1


@pytest.mark.soak
def test_soak_worker_killed_after_dialling_with_initiated_lost_a_running_worker_rings_once(
        rt, twilio, twilio_api, tmp_path):
    """As above, waiting for real: RQ finds the abandoned job once its heartbeat lapses."""
    _offered_call(rt, twilio)
    _kill_mid_connect(rt, tmp_path, "hang-after-dial")
    killed = time.monotonic()
    running = WorkerProcess(_worker_env(rt, tmp_path), tmp_path / "worker.log")
    try:
        took = wait_until(lambda: bool(twilio_api.requests("call-list")), timeout=240, step=0.5)
        wait_until(lambda: _leg_sid(rt) is not None, timeout=30, step=0.5)
        time.sleep(20)  # and no second ring
    finally:
        running.kill()
    assert len(twilio_api.calls_created()) == 1
    assert _leg_sid(rt) == (tmp_path / "marker").read_text()
    print(f"worker SIGKILL after the dial, initiated lost: call adopted {took:.0f}s after "
          f"the kill, agent rung once ({time.monotonic() - killed:.0f}s observed in all)")


def _leg_sid(rt) -> str | None:
    with rt.db.session() as s:
        return s.scalar(select(Leg.call_sid))

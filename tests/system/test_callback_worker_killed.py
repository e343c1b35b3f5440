"""A worker SIGKILLed in the middle of placing a callback: after a worker is started again the
callback is still placed, and the customer is called exactly once. Killed while ringing the
agent, the retried job rings them (after asking Twilio that no call was placed); killed
after claiming the customer's call but before placing it, the watchdog closes that try and
the retry places the callback."""

from __future__ import annotations

import pytest

from callbacks import reconcile
from models.admin import CALLBACK_RETRY_SECONDS
from models.callbacks import COMPLETED
from queueing.limits import CALLBACK_STUCK_ATTEMPT_SECONDS
from tests.callback_steps import (
    agent_answers,
    attempt_row,
    book_callback,
    customer_form,
    local,
    only_callback,
    run_scheduled,
)
from tests.daytime import daytime_now
from tests.faults import WorkerProcess, wait_until
from tests.helpers import make_available, seed_agent, seed_queues, twiml
from tests.system.test_faults import _abandoned_jobs_found_later, _restart_worker, _worker_env

CUSTOMER = "+12125550123"  # book_callback's caller ID


@pytest.fixture
def alice(rt, twilio, worker, frozen_clock):
    """A booked callback and alice, who serves its queue (the worker processes run on
    tests/daytime.py's clock, so the test's clock starts at what it reads)."""
    frozen_clock.set(daytime_now())
    seed_queues(rt, ("support", "Support", None))
    agent = seed_agent(rt, "alice", ["support"])
    book_callback(twilio)
    worker()  # the booking's text message
    return agent


def _kill_at_next_dial(rt, tmp_path, mode: str = "hang-before-dial") -> str:
    """A real worker takes the next job and is SIGKILLed as it is about to dial (or just
    after Twilio accepted the dial); returns what it noted (the call's sid, after)."""
    marker = tmp_path / "marker"
    dying = WorkerProcess(_worker_env(rt, tmp_path), tmp_path / "worker.log",
                          mode=mode, marker=marker)
    try:
        wait_until(marker.exists, timeout=60)
    finally:
        dying.kill()
    noted = marker.read_text()
    marker.unlink()
    return noted


def _talk_to_the_customer(rt, twilio, twilio_api, worker) -> None:
    """Alice picks up, the customer is dialled and answers: the callback is placed."""
    attempt, _whisper, _form = agent_answers(twilio, rt)
    worker()
    [call] = [c for c in twilio_api.calls_created() if c.field("To") == CUSTOMER]
    twiml(twilio.post(local(call.field("Url")),
                      customer_form(rt, attempt.id, AnsweredBy="human")))


def _calls_to(twilio_api) -> list[str]:
    return [c.field("To") for c in twilio_api.calls_created()]


@pytest.mark.slow
def test_worker_killed_while_ringing_the_agent_for_a_callback_places_it_once_after_restart(
        rt, twilio, twilio_api, worker, tmp_path, alice):
    make_available(rt, alice)  # the callback is offered to alice: her ring is queued
    _kill_at_next_dial(rt, tmp_path)  # the attempt was recorded, alice never rung
    _abandoned_jobs_found_later(rt)
    _restart_worker(rt, tmp_path)  # the retried job asks Twilio, finds nothing, rings her
    assert _calls_to(twilio_api) == ["client:alice"]
    assert twilio_api.requests("call-list")
    _talk_to_the_customer(rt, twilio, twilio_api, worker)
    assert only_callback(rt).status == COMPLETED
    assert _calls_to(twilio_api) == ["client:alice", CUSTOMER]


@pytest.mark.slow
def test_worker_killed_just_after_ringing_the_agent_for_a_callback_adopts_the_ring_not_twice(
        rt, twilio, twilio_api, worker, tmp_path, alice):
    make_available(rt, alice)
    sid = _kill_at_next_dial(rt, tmp_path, "hang-after-dial")  # rung; sid noted nowhere
    assert attempt_row(rt).agent_call_sid is None  # and no status callback arrives
    _abandoned_jobs_found_later(rt)
    _restart_worker(rt, tmp_path)
    assert _calls_to(twilio_api) == ["client:alice"]  # not rung a second time
    assert attempt_row(rt).agent_call_sid == sid
    _talk_to_the_customer(rt, twilio, twilio_api, worker)
    assert only_callback(rt).status == COMPLETED
    assert _calls_to(twilio_api) == ["client:alice", CUSTOMER]


def _settle_and_retry(rt, worker, frozen_clock, agent_id: int) -> None:
    """The watchdog closes the stuck try as failed; at the retry the agent is offered it."""
    frozen_clock.advance(CALLBACK_STUCK_ATTEMPT_SECONDS + 60)  # the dying worker's real clock
    reconcile.settle_stuck_attempts(rt)  # ran a few seconds ahead of the test's
    assert attempt_row(rt).outcome == reconcile.STUCK
    frozen_clock.advance(CALLBACK_RETRY_SECONDS)
    run_scheduled(rt, worker)
    if rt.presence.state(agent_id) != "busy":  # freed by the watchdog, or in wrap-up
        make_available(rt, agent_id)
    worker()


@pytest.mark.slow
def test_worker_killed_after_claiming_the_customers_call_places_the_callback_once_on_retry(
        rt, twilio, twilio_api, worker, frozen_clock, tmp_path, alice):
    make_available(rt, alice)
    worker()  # alice is rung and picks up: the customer's dial is queued
    agent_answers(twilio, rt)
    _kill_at_next_dial(rt, tmp_path)  # the call was claimed, never placed
    _abandoned_jobs_found_later(rt)
    _restart_worker(rt, tmp_path)  # the retried job finds the claim and places nothing
    assert _calls_to(twilio_api) == ["client:alice"]
    _settle_and_retry(rt, worker, frozen_clock, alice)
    assert _calls_to(twilio_api) == ["client:alice", "client:alice"]
    _talk_to_the_customer(rt, twilio, twilio_api, worker)
    assert only_callback(rt).status == COMPLETED
    assert _calls_to(twilio_api).count(CUSTOMER) == 1

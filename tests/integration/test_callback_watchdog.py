"""The watchdog: an attempt whose worker died between recording it and dialling is closed as
failed after a timeout, the agent is freed, and the retry policy goes on (one call per try)."""

from __future__ import annotations

import pytest
from rq.job import Job
from sqlalchemy import select

from callbacks import placing, reconcile
from models.admin import CALLBACK_RETRY_SECONDS
from models.callbacks import BOOKED, CallbackAttempt
from models.entities import Assignment
from queueing.limits import CALLBACK_STUCK_ATTEMPT_SECONDS
from tests.callback_steps import attempt_row, book_callback, only_callback, run_scheduled
from tests.helpers import make_available, seed_agent, seed_queues


@pytest.fixture
def alice(rt):
    seed_queues(rt, ("support", "Support", None))
    return seed_agent(rt, "alice", ["support"])


def _crash_after_recording_the_attempt(rt, worker):
    """The worker died right after recording the attempt, and its job was lost with it
    (its retries spent in an outage, or Redis lost): nothing will ring the agent."""
    with rt.db.session() as s:
        assignment_id = s.scalar(select(Assignment.id))
    placing._record_attempt(rt, assignment_id)
    Job.fetch(f"connect-{assignment_id}", connection=rt.jobs_redis).delete()
    worker()
    return attempt_row(rt)


def test_stuck_attempt_is_closed_after_the_timeout_and_retried_with_one_call_per_try(
        rt, twilio, worker, twilio_api, frozen_clock, alice):
    book_callback(twilio)
    worker()
    make_available(rt, alice)
    stuck = _crash_after_recording_the_attempt(rt, worker)
    assert (stuck.outcome, stuck.call_sid, stuck.agent_call_sid) == ("", None, None)
    assert twilio_api.calls_created() == []
    frozen_clock.advance(CALLBACK_STUCK_ATTEMPT_SECONDS - 60)
    reconcile.reconcile(rt)
    assert attempt_row(rt, stuck.id).outcome == ""  # not yet: it may still be dialling
    frozen_clock.advance(120)
    reconcile.reconcile(rt)
    assert attempt_row(rt, stuck.id).outcome == reconcile.STUCK
    assert rt.presence.state(alice) == "available"
    callback = only_callback(rt)
    assert (callback.status, callback.attempts) == (BOOKED, 1)
    assert placing.dial_customer(rt, stuck.id) == "already dialled"  # a late dial places nothing
    frozen_clock.advance(CALLBACK_RETRY_SECONDS)
    run_scheduled(rt, worker)
    assert [c.field("To") for c in twilio_api.calls_created()] == ["client:alice"]
    with rt.db.session() as s:
        assert [a.number for a in s.scalars(select(CallbackAttempt).order_by(
            CallbackAttempt.id))] == [1, 2]


def test_stuck_last_attempt_closes_the_callback_as_unreachable(
        rt, twilio, worker, twilio_api, frozen_clock, alice):
    book_callback(twilio)
    worker()
    with rt.db.session() as s:
        only = s.get(type(only_callback(rt)), only_callback(rt).id)
        only.max_attempts = 1
    make_available(rt, alice)
    _crash_after_recording_the_attempt(rt, worker)
    frozen_clock.advance(CALLBACK_STUCK_ATTEMPT_SECONDS + 1)
    reconcile.reconcile(rt)
    assert only_callback(rt).status == "unreachable"
    worker()
    assert "could not reach you" in twilio_api.messages()[-1].body

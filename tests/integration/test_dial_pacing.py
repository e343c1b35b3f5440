"""Twilio places an account's REST-created calls at its calls per second (1 by default);
Holdless creates them no faster than TWILIO_CALLS_PER_SECOND, on one schedule shared by
every worker, and a live caller's agent is rung before a batch of callbacks' agents."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from entrypoints.runtime import Runtime
from tests.callback_steps import book_callback
from tests.conftest import PUBLIC_BASE
from tests.helpers import call_form, make_available, seed_agent, seed_queues

CALLERS = 4
SLACK = 0.05  # seconds of scheduling noise allowed below the spacing


@pytest.fixture(params=[1.0, 4.0], ids=["1cps", "4cps"])
def settings(settings, request):
    """The stack under test with the account's calls per second set to the parameter."""
    return replace(settings, twilio_calls_per_second=request.param)


def test_calls_are_created_no_faster_than_the_calls_per_second_setting(
        rt, twilio, worker, twilio_api, settings):
    seed_queues(rt, ("support", "Support", None))
    for n in range(CALLERS):
        make_available(rt, seed_agent(rt, f"agent{n}", ["support"]))
    for n in range(CALLERS):
        twilio.post("/voice/incoming", call_form(from_=f"+1212555010{n}"))
    worker()
    times = [r.time for r in twilio_api.calls_created()]
    assert len(times) == CALLERS
    spacing = 1.0 / settings.twilio_calls_per_second
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= spacing - SLACK, gaps
    assert times[-1] - times[0] < (CALLERS - 1) * spacing + 1.0, gaps


def test_a_live_callers_agent_is_rung_before_an_earlier_callbacks_agent(
        rt, twilio, worker, twilio_api):
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"])
    bob = seed_agent(rt, "bob", ["support"])
    book_callback(twilio, "+12125550111")
    make_available(rt, alice)  # paired with the callback: its agent's ring job is queued
    make_available(rt, bob)
    twilio.post("/voice/incoming", call_form(from_="+12125550222"))  # bob, for a live caller
    worker()
    assert [r.field("To") for r in twilio_api.calls_created()][:2] == [
        "client:bob", "client:alice"]


def test_two_workers_dialling_at_once_share_one_calls_per_second_schedule(
        rt, settings, twilio_api):
    # A second worker process: its own runtime, Redis connections and Twilio client. The
    # account's calls per second is one limit whoever creates the calls
    # (www.twilio.com/docs/voice/api/call-resource, calls per second).
    other = Runtime(settings)
    dials_each = 2

    def dial(runtime: Runtime, worker_no: int) -> None:
        for n in range(dials_each):
            runtime.gateway.dial(f"+1212555{worker_no}{n:03d}", f"{PUBLIC_BASE}/voice/x",
                                 f"{PUBLIC_BASE}/voice/y")

    try:
        workers = [threading.Thread(target=dial, args=(runtime, no))
                   for no, runtime in enumerate((rt, other))]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=30)
    finally:
        other.close()
    times = sorted(r.time for r in twilio_api.calls_created())
    assert len(times) == 2 * dials_each
    spacing = 1.0 / settings.twilio_calls_per_second
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= spacing - SLACK, gaps

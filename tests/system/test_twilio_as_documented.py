"""Calls through the real stack and the strict stand-in, for what Twilio does that the app
once did not survive (issue 13): each test is named for the Twilio behaviour it proves.

- a <Redirect> posts only the standard call parameters (www.twilio.com/docs/voice/twiml/redirect);
- keys count only inside a <Gather>, whose timeout runs after its nested verbs
  (www.twilio.com/docs/voice/twiml/gather);
- QueueResult=hangup on the Enqueue action (www.twilio.com/docs/voice/twiml/enqueue);
- status callbacks arrive in any order and may repeat
  (www.twilio.com/docs/voice/api/call-resource#statuscallbackevent);
- a <Record> posts its action, then its recordingStatusCallback once the file is processed,
  and a caller hanging up mid-message still has it posted (www.twilio.com/docs/voice/twiml/record).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import flask
import pytest
import sqlalchemy.exc
from sqlalchemy import event, select

from holdless import paths, tasks
from ivr.booking import CALLBACK_BOOKED
from ivr.in_line import TWILIO_QUEUE_FULL
from models.callbacks import Callback
from models.entities import ABANDONED, COMPLETED, Leg
from queueing import lines
from queueing.presence import AVAILABLE, WRAP_UP
from simulator import Answer, VirtualCall
from simulator.endpoints import GatherPrompt
from tests.helpers import make_available, seed_agent, seed_queues
from tests.system import test_e2e_sim
from tests.system.test_e2e_sim import CALLER, OUR_NUMBER, Live, eventually

live = test_e2e_sim.live  # the fixture: the app served over HTTP, a worker, the network


@pytest.fixture
def stack(live: Live) -> Live:  # noqa: F811 - the fixture above
    """The running stack and the phone network attached to it."""
    return live

HOLD_MUSIC_STARTED = "play"


class OutageOn:
    """The database unreachable for the first `requests` requests to one webhook path
    (every statement of those requests fails as a lost server does); all else works."""

    def __init__(self, rt: Any, path: str, requests: int = 1) -> None:
        self.engine, self.path, self.left, self.failed = rt.db.engine, path, requests, 0
        event.listen(self.engine, "before_cursor_execute", self._statement)

    def remove(self) -> None:
        """Stop failing anything."""
        event.remove(self.engine, "before_cursor_execute", self._statement)

    def _statement(self, *_args: Any) -> None:
        if not flask.has_request_context() or flask.request.path != self.path:
            return
        if not hasattr(flask.g, "outage"):
            flask.g.outage = self.left > 0
            self.left -= 1
            self.failed += flask.g.outage
        if flask.g.outage:
            raise sqlalchemy.exc.OperationalError(
                "(fault injection)", None, ConnectionError("server closed the connection"))


@pytest.fixture
def outage(stack: Live) -> Iterator[Any]:
    """Make an outage on one path: `outage(path)`."""
    made: list[OutageOn] = []

    def on(path: str, requests: int = 1) -> OutageOn:
        made.append(OutageOn(stack.rt, path, requests))
        return made[-1]

    yield on
    for one in made:
        one.remove()


def _callbacks(live_: Live) -> list[Callback]:
    with live_.rt.db.session() as s:
        return list(s.scalars(select(Callback)))


def _offer_at_once(live_: Live) -> None:
    from models.entities import Queue
    with live_.rt.db.session() as s:
        for queue in s.scalars(select(Queue)):
            queue.callback_threshold_seconds = 0


def _in_hold_loop(keys: str) -> Any:
    """Press nothing at the first offer, `keys` in the hold loop, 1 to confirm the number."""

    def respond(prompt: GatherPrompt) -> str | None:
        if "Press 1 to confirm" in prompt.prompt or "press 1 to confirm" in prompt.prompt:
            return "1"
        return keys if prompt.attempt == 1 else None

    return respond


# -- 3: a <Redirect> carries only the standard call parameters ------------------------------

def test_redirect_posts_standard_parameters_only_so_an_outage_retry_keeps_the_queue_result(
        stack, outage):
    seed_queues(stack.rt, ("support", "Support", None))
    _offer_at_once(stack)
    failing = outage(paths.QUEUE_EXIT)  # the Enqueue action, QueueResult=leave, fails once
    caller = stack.network.place_call(CALLER, OUR_NUMBER, keypresses=_in_hold_loop("1"))
    caller.wait_until(lambda c: any(e[0] == "redirect" for e in c.events()), timeout=30)
    caller.wait_until(lambda c: "Press 1 to confirm" in c.said() or c.ended, timeout=30)
    assert failing.failed == 1 and "technical problem" in caller.said()
    caller.wait_ended(timeout=30)
    assert "You're booked" in caller.said()  # the retry knew the caller had left to book
    assert len(_callbacks(stack)) == 1


def test_redirect_posts_standard_parameters_only_so_an_outage_retry_keeps_the_key_pressed(
        stack, outage):
    seed_queues(stack.rt, ("sales", "Sales", "1"), ("support", "Support", "2"))
    failing = outage(paths.MENU)
    caller = stack.network.place_call(CALLER, OUR_NUMBER, keypresses=["2"])
    caller.wait_until(lambda c: ("enqueue", "support") in c.events() or c.ended, timeout=30)
    assert failing.failed == 1 and "technical problem" in caller.said()
    assert ("enqueue", "support") in caller.events()
    caller.hangup()


# -- 10: keys count only inside a <Gather> ---------------------------------------------------

def _last(call: VirtualCall) -> tuple[str, ...]:
    events = call.events()
    return events[-1] if events else ()


def test_keys_count_only_inside_gather_so_the_hold_music_sits_inside_it(stack):
    seed_queues(stack.rt, ("support", "Support", None))
    _offer_at_once(stack)
    caller = stack.network.place_call(CALLER, OUR_NUMBER)
    caller.wait_until(lambda c: ("enqueue", "support") in c.events())
    caller.wait_until(lambda c: _last(c)[:1] == (HOLD_MUSIC_STARTED,))
    caller.press("1")  # during the music
    caller.wait_until(lambda c: ("dequeue", "support", "leave") in c.events(), timeout=30)
    assert not caller.events("key-ignored")
    caller.hangup()


def test_keys_count_only_inside_gather_so_the_first_offer_sits_inside_it(stack):
    seed_queues(stack.rt, ("support", "Support", None))
    _offer_at_once(stack)
    caller = stack.network.place_call(CALLER, OUR_NUMBER)
    caller.wait_until(lambda c: "Press 1 to be called back" in " ".join(_last(c)))
    caller.press("1")  # while the first offer is spoken
    caller.wait_until(lambda c: "Press 1 to confirm" in c.said() or c.ended, timeout=30)
    assert ("enqueue", "support") not in caller.events()
    assert not caller.events("key-ignored")
    caller.hangup()


def test_gather_timeout_runs_after_its_prompt_so_a_caller_has_three_seconds_to_press(stack):
    seed_queues(stack.rt, ("support", "Support", None))
    _offer_at_once(stack)
    stack.network.reaction_time = 2.5  # presses 2.5 s after the offer's last word
    caller = stack.network.place_call(CALLER, OUR_NUMBER, keypresses=_in_hold_loop("1"))
    caller.wait_until(lambda c: ("dequeue", "support", "leave") in c.events(), timeout=30)
    assert not caller.events("key-too-late")
    caller.hangup()


# -- 12: QueueResult=hangup ------------------------------------------------------------------

def test_enqueue_action_queue_result_hangup_ends_the_call_without_a_status_callback(stack):
    seed_queues(stack.rt, ("support", "Support", None))
    caller = stack.network.place_call(CALLER, OUR_NUMBER, status_url=None)  # none configured
    caller.wait_until(lambda c: ("enqueue", "support") in c.events())
    caller.hangup()
    caller.wait_ended()
    eventually(lambda: stack.interaction(caller).status == ABANDONED, timeout=30)
    assert lines.length(stack.rt.live, "support") == 0


def test_enqueue_action_hangup_and_the_status_callback_settle_the_call_once(stack):
    seed_queues(stack.rt, ("support", "Support", None))
    caller = stack.network.place_call(CALLER, OUR_NUMBER)  # both reports arrive
    caller.wait_until(lambda c: ("enqueue", "support") in c.events())
    caller.hangup()
    caller.wait_ended()
    eventually(lambda: stack.interaction(caller).status == ABANDONED, timeout=30)
    eventually(lambda: ("completed", 0) in caller.status_reports, timeout=30)
    row = stack.interaction(caller)
    assert row.status == ABANDONED and row.outcome == "abandoned"
    assert lines.length(stack.rt.live, "support") == 0


# -- 14: status callbacks in any order, repeated, `initiated` first --------------------------

def _out_of_order(call: VirtualCall) -> bool:
    sent = [n for _, n in call.status_reports]
    return sent != sorted(sent) or len(sent) != len(set(sent))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_status_callbacks_shuffled_and_repeated_leave_agent_and_caller_settled(stack, seed):
    stack.network.shuffle_status_callbacks(seed)
    seed_queues(stack.rt, ("support", "Support", None))
    alice = seed_agent(stack.rt, "alice", ["support"])
    stack.network.register_endpoint("client:alice", Answer.human(after=1), handle_time=10)
    make_available(stack.rt, alice)
    caller = stack.network.place_call(CALLER, OUR_NUMBER)
    agent = stack.network.wait_for_call(lambda c: c.to == "client:alice")
    agent.wait_ended(timeout=30)
    caller.wait_ended(timeout=30)
    eventually(lambda: stack.rt.presence.state(alice) in (WRAP_UP, AVAILABLE), timeout=30)
    eventually(lambda: stack.rt.presence.state(alice) == AVAILABLE, timeout=30)
    row = stack.interaction(caller)
    assert row.status == COMPLETED and row.agent_id == alice
    with stack.rt.db.session() as s:
        leg = s.scalar(select(Leg))
        assert leg.ended_at is not None and leg.answered_at is not None
    sent = sorted(set(agent.status_reports), key=lambda r: r[1])
    assert [status for status, _ in sent] == ["queued", "ringing", "in-progress", "completed"]
    assert _out_of_order(agent)  # the seed did exercise disorder or repeats
    print(f"seed {seed}: agent leg reports arrived as {agent.status_reports}")


# -- 6: a Twilio queue's maximum size --------------------------------------------------------

def _jobs_left(live_: Live) -> int:
    """Jobs waiting or running (the worker's own sizing job included)."""
    from rq.registry import StartedJobRegistry
    return len(live_.rt.jobs) + StartedJobRegistry(queue=live_.rt.jobs).count


SIZING_JOB = "size-twilio-queues-in-test"


def _finished(live_: Live, job_id: str) -> bool:
    """Whether the job `job_id` has run to its end (not waiting for a retry)."""
    from rq.job import Job, JobStatus
    return Job.fetch(job_id, connection=live_.rt.jobs_redis).get_status() == JobStatus.FINISHED


def _confirm_only(prompt: GatherPrompt) -> str | None:
    """Press nothing but 1 to confirm the callback number."""
    return "1" if "press 1 to confirm" in prompt.prompt.lower() else None


def test_enqueue_into_a_full_twilio_queue_ends_queue_full_and_the_caller_is_offered_a_callback(
        stack):
    seed_queues(stack.rt, ("support", "Support", None))
    # The worker sizes the line's Twilio queue; the job is done (retries included: a
    # retry after a slow answer would size it again) before anyone shrinks it at Twilio.
    stack.rt.enqueue(tasks.SIZE_TWILIO_QUEUES, job_id=SIZING_JOB)
    store = stack.network.store
    eventually(lambda: _finished(stack, SIZING_JOB) and not _jobs_left(stack), timeout=30)
    assert store.queues["support"].max_size == stack.rt.settings.twilio_queue_size == 5000
    # Then someone shrinks it at Twilio: the next <Enqueue> past its size is refused with
    # QueueResult=queue-full (www.twilio.com/docs/voice/twiml/enqueue).
    store.queues["support"].max_size = 1
    first = stack.network.place_call(CALLER, OUR_NUMBER)
    first.wait_until(lambda c: ("enqueue", "support") in c.events())
    refused = stack.network.place_call("+12125550177", OUR_NUMBER, keypresses=_confirm_only)
    refused.wait_until(lambda c: ("queue-full", "support") in c.events(), timeout=30)
    refused.wait_ended(timeout=30)
    assert TWILIO_QUEUE_FULL in refused.said() and "You're booked" in refused.said()
    assert [c.number for c in _callbacks(stack)] == ["+12125550177"]
    first.hangup()


# -- <Record>: the action first, the recording's status once Twilio has processed it --------

RECORDING_HOST = "https://api.twilio.com/2010-04-01/Accounts/"


def _leaves_a_message(live_: Live, record_seconds: float = 5.0) -> VirtualCall:
    """A caller who presses 2 at the first offer, confirms their number and records."""
    seed_queues(live_.rt, ("support", "Support", None))
    _offer_at_once(live_)
    return live_.network.place_call(CALLER, OUR_NUMBER, keypresses=_in_hold_loop("2"),
                                    record_seconds=record_seconds)


def _kept_message(live_: Live) -> Callback | None:
    """The one callback booked, once it carries its recording's link."""
    found = _callbacks(live_)
    return found[0] if len(found) == 1 and found[0].recording_url else None


def test_record_action_comes_before_the_recording_status_and_the_message_is_booked_once(
        stack):
    caller = _leaves_a_message(stack)
    caller.wait_ended(timeout=30)
    assert "Thank you, we have your message" in caller.said()
    eventually(lambda: _kept_message(stack) is not None, timeout=10)
    stack.network.wait_for_deliveries()
    [callback] = _callbacks(stack)
    assert callback.recording_url.startswith(RECORDING_HOST)


def test_record_ended_by_the_caller_hanging_up_still_books_their_message(stack):
    caller = _leaves_a_message(stack, record_seconds=60)
    caller.wait_until(lambda c: bool(c.events("record")), timeout=30)
    caller.hangup()  # Twilio posts the action (Digits=hangup), then the recording's status
    caller.wait_ended()
    eventually(lambda: _kept_message(stack) is not None, timeout=10)
    stack.network.wait_for_deliveries()
    [callback] = _callbacks(stack)
    assert callback.recording_url.startswith(RECORDING_HOST)
    assert stack.interaction(caller).outcome == CALLBACK_BOOKED  # at their place in line

"""Who answers a callback's customer phone, through the real stack and the stand-in: a
person, a detection that cannot tell, a voicemail or a fax (Twilio's asynchronous
answering-machine detection). An agent's phone answered by voicemail: test_sim_answers.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.callbacks import BOOKED, Callback, CallbackAttempt
from queueing.presence import AVAILABLE
from simulator import Answer, VirtualCall, answer_when
from tests.helpers import make_available, seed_agent, seed_queues
from tests.system import test_e2e_sim as e2e
from tests.system.test_e2e_sim import CALLER, OUR_NUMBER, Live, agent_endpoint, eventually

live = e2e.live  # the running stack and the phone network (a fixture)
_callbacks_offered_at_once = e2e._callbacks_offered_at_once

BOOK = answer_when({"Press 1 to be called back": "1", "Press 1 to confirm": "1"})


def _book_and_call_back(live: Live, customer: Answer) -> tuple[int, VirtualCall]:
    """A caller books a callback; the agent (browser) is free; returns the agent's id and
    the customer's call placed by the callback."""
    seed_queues(live.rt, ("support", "Support", None))
    _callbacks_offered_at_once(live)
    alice = seed_agent(live.rt, "alice", ["support"])
    agent_endpoint(live, "alice")
    live.network.register_endpoint(CALLER, customer, handle_time=20)
    caller = live.network.place_call(CALLER, OUR_NUMBER, keypresses=BOOK)
    caller.wait_ended(timeout=20)
    assert "You're booked" in caller.said(), caller.said()
    make_available(live.rt, alice)
    back = live.network.wait_for_call(lambda c: c.to == CALLER and c.sid != caller.sid,
                                      timeout=20)
    return alice, back


def _attempt(live: Live) -> CallbackAttempt:
    with live.rt.db.session() as s:
        row = s.scalars(select(CallbackAttempt).order_by(CallbackAttempt.id.desc())).first()
        assert row is not None
        s.expunge(row)
        return row


def _callback_status(live: Live) -> str:
    with live.rt.db.session() as s:
        return str(s.scalar(select(Callback.status)))


def test_async_detection_greets_the_customer_at_once_then_bridges_the_person(live):
    _alice, back = _book_and_call_back(live, Answer.human(after=1))
    back.wait_until(lambda c: c.joined_conference is not None, timeout=20)
    answered_at = back.state.answered_at
    assert answered_at is not None
    first_say = next(t for t, e in back.transcript if e[0] == "say")
    assert first_say - answered_at < 1.0  # no silence while detection listens (~3 s)
    assert "calling you back" in back.said()
    assert _attempt(live).answered_by == "human"


def test_unknown_from_detection_is_bridged_like_a_person(live):
    _alice, back = _book_and_call_back(live, Answer("human", 1, "unknown"))
    back.wait_until(lambda c: c.joined_conference is not None, timeout=20)
    assert _attempt(live).answered_by == "unknown"


@pytest.mark.parametrize(("machine", "answered_by"), [
    (Answer.machine(after=1), "machine_start"), (Answer.fax(after=1), "fax")])
def test_machine_or_fax_answering_a_callback_is_never_bridged_and_retried(
        live, machine, answered_by):
    alice, back = _book_and_call_back(live, machine)
    back.wait_ended(timeout=20)
    assert not back.events("dial-conference")  # never bridged to the agent
    attempt = _attempt(live)
    assert (attempt.answered_by, attempt.outcome) == (answered_by, f"answered by {answered_by}")
    assert _callback_status(live) == BOOKED  # not reached: retried per the policy
    eventually(lambda: live.rt.presence.state(alice) == AVAILABLE)

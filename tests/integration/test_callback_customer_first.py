"""Customer-first dialling: the customer is rung first; an agent is paired only once a person
answers (who waits at the callback's original place); failures retry with no agent tied up."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.callbacks import BOOKED, COMPLETED
from models.entities import Assignment, Interaction, Queue
from queueing import dispatch, keys, lines
from tests.callback_steps import (
    attempt_row,
    book_callback,
    call_in,
    customer_form,
    only_callback,
)
from tests.helpers import make_available, seed_agent, seed_queues, spoken, twiml, verbs


@pytest.fixture
def alice(rt):
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        s.scalar(select(Queue)).dial_mode = "customer-first"
    return seed_agent(rt, "alice", ["support"])


def _calls_to(twilio_api, to):
    return [c for c in twilio_api.calls_created() if c.field("To") == to]


def test_customer_is_rung_first_with_machine_detection_and_no_agent_waits(
        rt, twilio, worker, twilio_api, alice):
    book_callback(twilio)
    make_available(rt, alice)
    worker()
    [customer_call] = twilio_api.calls_created()
    assert customer_call.field("To") == "+12125550123"
    assert customer_call.field("MachineDetection") == "Enable"
    assert rt.presence.state(alice) == "available"  # released while the customer rings
    assert attempt_row(rt).agent_id is None
    with rt.db.session() as s:
        assert all(a.ended_at is not None for a in s.scalars(select(Assignment)))


def test_person_answering_holds_and_is_paired_like_a_live_caller(
        rt, twilio, worker, twilio_api, alice):
    book_callback(twilio)
    make_available(rt, alice)
    worker()
    attempt = attempt_row(rt)
    form = customer_form(rt, attempt.id, AnsweredBy="human")
    answer = twiml(twilio.post(f"/voice/callback/customer?attempt={attempt.id}", form))
    assert verbs(answer) == ["Say", "Enqueue"]
    assert spoken(answer).endswith("Please hold for the next agent.")
    assert answer.find("Enqueue").text == "support"
    assert only_callback(rt).status == COMPLETED
    worker()
    [agent_call] = _calls_to(twilio_api, "client:alice")
    assert "/voice/agent/whisper" in agent_call.field("Url")  # the live caller's path
    with rt.db.session() as s:
        waiting = s.scalar(select(Interaction).where(Interaction.call_sid == form["CallSid"]))
        assert (waiting.kind, waiting.status, waiting.joined_at) == (
            "callback", "offered", only_callback(rt).place)


def test_person_answering_waits_at_the_callbacks_original_place(
        rt, twilio, worker, twilio_api, frozen_clock, alice):
    book_callback(twilio)
    frozen_clock.advance(30)
    later = call_in(twilio, "+12125550188")
    make_available(rt, alice)  # paired with the callback, released, takes the later caller
    worker()
    assert [c.field("To") for c in twilio_api.calls_created()] == [
        "+12125550123", "client:alice"]
    attempt = attempt_row(rt)
    form = customer_form(rt, attempt.id, AnsweredBy="human")
    twilio.post(f"/voice/callback/customer?attempt={attempt.id}", form)
    entry = lines.entry_for_call(rt.live, form["CallSid"])
    assert rt.live.zscore(keys.line("support"), entry.id) == only_callback(rt).place
    assert lines.position(rt.live, "support", entry.id) == 1
    assert later["CallSid"] not in [e.call_sid for e in lines.waiting(rt.live, "support")]


def test_machine_answering_retries_per_policy_with_no_agent_ever_rung(
        rt, twilio, worker, twilio_api, alice):
    book_callback(twilio)
    make_available(rt, alice)
    worker()
    attempt = attempt_row(rt)
    hung = twiml(twilio.post(f"/voice/callback/customer?attempt={attempt.id}",
                             customer_form(rt, attempt.id, AnsweredBy="machine_start")))
    assert verbs(hung) == ["Hangup"]
    callback = only_callback(rt)
    assert (callback.status, callback.attempts) == (BOOKED, 1)
    assert callback.next_attempt_at is not None
    assert attempt_row(rt, attempt.id).outcome == "answered by machine_start"
    worker()
    assert _calls_to(twilio_api, "client:alice") == []
    assert rt.presence.state(alice) == "available"


def test_customer_hanging_up_while_waiting_leaves_the_line(rt, twilio, worker, alice):
    book_callback(twilio)
    make_available(rt, alice)
    worker()
    attempt = attempt_row(rt)
    form = customer_form(rt, attempt.id, AnsweredBy="human")
    dispatch.set_state(rt, alice, "offline")
    twilio.post(f"/voice/callback/customer?attempt={attempt.id}", form)
    assert lines.length(rt.live, "support") == 1
    hold = spoken(twiml(twilio.post("/voice/hold", form)))
    assert "You are next in line." in hold and "Press 1" not in hold  # no callback offer
    twilio.post(f"/voice/callback/customer/status?attempt={attempt.id}",
                {**form, "CallStatus": "completed"})
    assert lines.length(rt.live, "support") == 0
    with rt.db.session() as s:
        gone = s.scalar(select(Interaction).where(Interaction.call_sid == form["CallSid"]))
        assert gone.status == "abandoned"

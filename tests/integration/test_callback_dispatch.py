"""Placing callbacks agent first: order in line, the whole journey, retries, idempotency."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from callbacks import jobs, placing
from models.callbacks import BOOKED, COMPLETED, UNREACHABLE, CallbackAttempt
from models.entities import Assignment, Interaction
from queueing import dispatch, keys, lines
from tests.callback_steps import (
    agent_answers,
    attempt_row,
    book_callback,
    call_in,
    customer_form,
    local,
    only_callback,
    run_scheduled,
)
from tests.helpers import make_available, seed_agent, seed_queues, spoken, twiml, verbs


@pytest.fixture
def alice(rt):
    seed_queues(rt, ("support", "Support", None))
    return seed_agent(rt, "alice", ["support"])


def _offered_entries(rt):
    with rt.db.session() as s:
        return [a.entry for a in s.scalars(select(Assignment).order_by(Assignment.id))]


def _customer_calls(twilio_api, number="+12125550123"):
    return [c for c in twilio_api.calls_created() if c.field("To") == number]


def test_whole_journey_booked_agent_rung_whisper_customer_dialled_completed(
        rt, twilio, worker, twilio_api, frozen_clock, alice):
    _form, booked = book_callback(twilio)
    assert spoken(booked).startswith("You're booked.")
    callback = only_callback(rt)
    worker()
    assert [m.to for m in twilio_api.messages()] == ["+12125550123"]
    frozen_clock.advance(600)
    make_available(rt, alice)
    assert _offered_entries(rt) == [f"cb:{callback.id}"]
    worker()
    [agent_call] = twilio_api.calls_created()
    assert agent_call.field("To") == "client:alice"
    assert "/voice/callback/agent?attempt=" in agent_call.field("Url")
    attempt, whisper, agent_form = agent_answers(twilio, rt)
    assert verbs(whisper) == ["Say", "Dial"]
    assert spoken(whisper) == ("Callback to a customer, Support, waiting 10 minutes, "
                               "attempt 1 of 3. Dialling the customer now.")
    conference = whisper.find("Dial/Conference").text
    worker()
    [customer_call] = _customer_calls(twilio_api)
    assert customer_call.field("MachineDetection") == "Enable"
    customer = twiml(twilio.post(local(customer_call.field("Url")),
                                 customer_form(rt, attempt.id, AnsweredBy="human")))
    assert "calling you back about your call to Support" in spoken(customer)
    assert customer.find("Dial/Conference").text == conference
    assert only_callback(rt).status == COMPLETED and only_callback(rt).open_key is None
    twilio.post(f"/voice/callback/customer/status?attempt={attempt.id}",
                customer_form(rt, attempt.id, CallStatus="completed"))
    frozen_clock.advance(180)
    twilio.post(f"/voice/callback/agent/status?attempt={attempt.id}",
                {**agent_form, "CallStatus": "completed"})
    assert rt.presence.state(alice) == "wrap-up"
    assert attempt_row(rt, attempt.id).outcome == "completed"
    assert lines.length(rt.live, "support") == 0
    assert lines.load(rt.live, f"cb:{callback.id}") is None


def test_after_a_completed_callback_and_wrap_up_the_agent_is_paired_with_the_next_caller(
        rt, twilio, worker, alice):
    book_callback(twilio)
    make_available(rt, alice)
    worker()
    attempt, _whisper, agent_form = agent_answers(twilio, rt)
    worker()
    twilio.post(f"/voice/callback/customer?attempt={attempt.id}",
                customer_form(rt, attempt.id, AnsweredBy="human"))
    twilio.post(f"/voice/callback/agent/status?attempt={attempt.id}",
                {**agent_form, "CallStatus": "completed"})
    with rt.db.session() as s:
        [ended] = s.scalars(select(Assignment)).all()
        assert ended.ended_at is not None and ended.active_agent_id is None
    next_caller = call_in(twilio, "+12125550199")
    dispatch.set_state(rt, alice, "available")  # the agent ends wrap-up
    assert rt.presence.state(alice) == "busy"
    with rt.db.session() as s:
        offered = s.scalars(select(Assignment).order_by(Assignment.id)).all()[-1]
        assert offered.ended_at is None
        assert s.get(Interaction, offered.interaction_id).call_sid == next_caller["CallSid"]


def test_agent_hanging_up_first_ends_the_customer_call_and_starts_wrap_up(
        rt, twilio, worker, twilio_api, alice):
    book_callback(twilio)
    make_available(rt, alice)
    worker()
    attempt, _whisper, agent_form = agent_answers(twilio, rt)
    worker()
    twilio.post(f"/voice/callback/customer?attempt={attempt.id}",
                customer_form(rt, attempt.id, AnsweredBy="human"))
    twilio.post(f"/voice/callback/agent/status?attempt={attempt.id}",
                {**agent_form, "CallStatus": "completed"})
    worker()
    customer_sid = attempt_row(rt, attempt.id).call_sid
    hang_ups = [u for u in twilio_api.requests("call-update") if u.field("Status")]
    assert [u.path.rsplit("/", 1)[-1] for u in hang_ups] == [f"{customer_sid}.json"]
    assert rt.presence.state(alice) == "wrap-up"


def test_callback_keeps_its_place_between_earlier_and_later_live_callers(
        rt, twilio, frozen_clock, alice):
    early = call_in(twilio, "+12125550101")
    frozen_clock.advance(10)
    _form, _ = book_callback(twilio)
    frozen_clock.advance(10)
    late = call_in(twilio, "+12125550102")
    callback = only_callback(rt)
    waiting = lines.waiting(rt.live, "support")
    assert [e.call_sid or e.id for e in waiting] == [early["CallSid"], f"cb:{callback.id}",
                                                     late["CallSid"]]
    bob = seed_agent(rt, "bob", ["support"])
    carol = seed_agent(rt, "carol", ["support"])
    for agent in (alice, bob, carol):
        make_available(rt, agent)
    assert _offered_entries(rt)[1] == f"cb:{callback.id}"


def test_connect_job_run_twice_rings_the_agent_once(rt, twilio, worker, twilio_api, alice):
    book_callback(twilio)
    make_available(rt, alice)
    with rt.db.session() as s:
        assignment_id = s.scalar(select(Assignment.id))
    assert jobs.ring_agent(rt, assignment_id) == "agent rung"
    assert jobs.ring_agent(rt, assignment_id) == "already dialled"
    worker()  # the queued copy of the same job
    assert len(twilio_api.calls_created()) == 1
    with rt.db.session() as s:
        assert len(s.scalars(select(CallbackAttempt)).all()) == 1


def test_customer_dial_job_run_twice_places_one_call(rt, twilio, worker, twilio_api, alice):
    book_callback(twilio)
    make_available(rt, alice)
    worker()
    attempt, _whisper, _form = agent_answers(twilio, rt)
    assert placing.dial_customer(rt, attempt.id) == "customer dialled"
    assert placing.dial_customer(rt, attempt.id) == "already dialled"
    worker()
    assert len(_customer_calls(twilio_api)) == 1
    key = attempt_row(rt, attempt.id).idempotency_key
    assert key == f"callback-assignment-{attempt.assignment_id}"


def _one_failed_try(rt, twilio, worker, twilio_api, how):
    worker()
    attempt, _whisper, agent_form = agent_answers(twilio, rt)
    worker()
    if how.startswith("machine"):
        root = twiml(twilio.post(f"/voice/callback/customer?attempt={attempt.id}",
                                 customer_form(rt, attempt.id, AnsweredBy=how)))
        assert verbs(root) == ["Hangup"]
    else:
        twilio.post(f"/voice/callback/customer/status?attempt={attempt.id}",
                    customer_form(rt, attempt.id, CallStatus=how))
    return attempt, agent_form


def test_failed_tries_release_agent_at_once_retry_at_original_place_then_unreachable(
        rt, twilio, worker, twilio_api, frozen_clock, alice):
    book_callback(twilio)
    callback = only_callback(rt)
    worker()
    make_available(rt, alice)
    for number, how in enumerate(("busy", "no-answer", "machine_end_beep"), start=1):
        attempt, agent_form = _one_failed_try(rt, twilio, worker, twilio_api, how)
        assert attempt.number == number
        assert rt.presence.state(alice) == "available"  # released at once
        worker()
        hang_ups = [u for u in twilio_api.requests("call-update") if u.field("Status")]
        assert hang_ups[-1].path.endswith(f"/Calls/{attempt.agent_call_sid}.json")
        twilio.post(f"/voice/callback/agent/status?attempt={attempt.id}",
                    {**agent_form, "CallStatus": "completed"})
        assert rt.presence.state(alice) == "available"
        if number < 3:
            assert only_callback(rt).status == BOOKED
            assert lines.length(rt.live, "support") == 0  # not before the retry is due
            dispatch.set_state(rt, alice, "offline")  # a later caller must wait behind it
            late = call_in(twilio, f"+1212555030{number}")
            frozen_clock.advance(300)
            run_scheduled(rt, worker)
            waiting = lines.waiting(rt.live, "support")
            assert [e.id for e in waiting][0] == f"cb:{callback.id}"
            assert waiting[1].call_sid == late["CallSid"]
            assert rt.live.zscore(keys.line("support"), waiting[0].id) == callback.place
            twilio.post("/voice/status", {**late, "CallStatus": "completed"})
            make_available(rt, alice)
    final = only_callback(rt)
    assert (final.status, final.attempts, final.open_key) == (UNREACHABLE, 3, None)
    assert lines.load(rt.live, f"cb:{callback.id}") is None
    worker()
    texts = [m.body for m in twilio_api.messages()]
    assert len(texts) == 2 and "could not reach you" in texts[-1]


def test_agent_not_answering_puts_callback_back_at_the_front(
        rt, twilio, worker, twilio_api, frozen_clock, alice):
    book_callback(twilio)
    callback = only_callback(rt)
    frozen_clock.advance(5)
    later = call_in(twilio, "+12125550188")
    make_available(rt, alice)
    worker()
    attempt = attempt_row(rt)
    agent_form = {"CallSid": attempt.agent_call_sid, "AccountSid": "AC" + "0" * 32,
                  "CallStatus": "no-answer"}
    twilio.post(f"/voice/callback/agent/status?attempt={attempt.id}", agent_form)
    assert attempt_row(rt, attempt.id).outcome == "agent missed"
    assert only_callback(rt).status == BOOKED and only_callback(rt).attempts == 0
    assert _offered_entries(rt) == [f"cb:{callback.id}", f"cb:{callback.id}"]
    assert [w.call_sid for w in lines.waiting(rt.live, "support")] == [later["CallSid"]]


def test_cancelled_while_agent_rings_hangs_the_agent_up_and_frees_them(
        rt, twilio, worker, twilio_api, alice):
    from ivr import booking
    book_callback(twilio)
    make_available(rt, alice)
    worker()
    booking.cancel(rt, "+12125550123")
    attempt, whisper, agent_form = agent_answers(twilio, rt)
    assert verbs(whisper) == ["Say", "Hangup"]
    twilio.post(f"/voice/callback/agent/status?attempt={attempt.id}",
                {**agent_form, "CallStatus": "completed"})
    assert rt.presence.state(alice) == "available"
    worker()
    assert _customer_calls(twilio_api) == []


def test_cancelled_after_the_agent_answered_dials_nobody_and_frees_the_agent(
        rt, twilio, worker, twilio_api, alice):
    from ivr import booking
    book_callback(twilio)
    make_available(rt, alice)
    worker()
    attempt, _whisper, agent_form = agent_answers(twilio, rt)
    booking.cancel(rt, "+12125550123")
    worker()
    assert _customer_calls(twilio_api) == []
    hang_ups = [u for u in twilio_api.requests("call-update") if u.field("Status")]
    assert hang_ups[-1].path.endswith(f"/Calls/{attempt.agent_call_sid}.json")
    twilio.post(f"/voice/callback/agent/status?attempt={attempt.id}",
                {**agent_form, "CallStatus": "completed"})
    assert rt.presence.state(alice) == "available"

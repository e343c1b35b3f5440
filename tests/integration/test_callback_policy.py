"""The queue's callback policy (set by an admin) drives numbers, tries, spacing and texts."""

from __future__ import annotations

import pytest

from admin import config
from admin.audit import Actor
from models.callbacks import BOOKED, UNREACHABLE
from queueing import lines
from tests.callback_steps import (
    agent_answers,
    book_callback,
    call_in,
    customer_form,
    local,
    only_callback,
    run_scheduled,
)
from tests.helpers import make_available, seed_agent, seed_queues, spoken, twiml

OPERATOR = Actor(None, "operator")


@pytest.fixture
def alice(rt):
    seed_queues(rt, ("support", "Support", None))
    return seed_agent(rt, "alice", ["support"])


def _set_policy(rt, **changes):
    with rt.db.session() as s:
        config.set_callback_policy(s, OPERATOR, "support", changes, rt.settings)


def _key_number(twilio, form, digits):
    twiml(twilio.post("/voice/hold/key", {**form, "Digits": "1"}))
    twiml(twilio.post("/voice/queue-exit", {**form, "QueueResult": "leave"}))
    return twiml(twilio.post("/voice/callback/number", {**form, "Digits": digits}))


def test_without_a_policy_a_canadian_number_is_refused(rt, twilio, alice):
    form = call_in(twilio, "anonymous")
    refused = _key_number(twilio, form, "14165550123")
    assert "I can only call you back on a number in the United States." in spoken(refused)


def test_policy_allowing_canada_lets_a_canadian_number_through(rt, twilio, worker, alice):
    _set_policy(rt, allowed_countries="US,CA")
    form = call_in(twilio, "anonymous")
    confirm = _key_number(twilio, form, "14165550123")
    assert "number ending 0 1 2 3" in spoken(confirm)
    twiml(twilio.post(local(confirm.find("Gather").get("action")), {**form, "Digits": "1"}))
    assert only_callback(rt).number == "+14165550123"


def test_policy_number_types_refuse_a_type_it_leaves_out(rt, twilio, alice):
    _set_policy(rt, allowed_number_types="MOBILE")
    form = call_in(twilio, "anonymous")
    refused = _key_number(twilio, form, "2125550199")  # fixed line or mobile: not listed
    assert "I cannot call that kind of number." in spoken(refused)


def test_policy_with_two_attempts_spaced_two_minutes_closes_after_two(
        rt, twilio, worker, twilio_api, frozen_clock, alice):
    _set_policy(rt, attempts=2, spacing_minutes=2,
                sms_unreachable="Sorry we missed you; call us any time.")
    book_callback(twilio)
    assert only_callback(rt).max_attempts == 2
    worker()
    make_available(rt, alice)
    for number in (1, 2):
        worker()
        attempt, _whisper, _form = agent_answers(twilio, rt)
        assert attempt.number == number
        worker()
        twilio.post(f"/voice/callback/customer/status?attempt={attempt.id}",
                    customer_form(rt, attempt.id, CallStatus="no-answer"))
        if number == 1:
            callback = only_callback(rt)
            assert callback.status == BOOKED
            assert (callback.next_attempt_at - frozen_clock.now()).total_seconds() == 120
            frozen_clock.advance(120)
            run_scheduled(rt, worker)  # back in line, offered to alice again
    assert (only_callback(rt).status, only_callback(rt).attempts) == (UNREACHABLE, 2)
    assert lines.length(rt.live, "support") == 0
    worker()
    assert twilio_api.messages()[-1].body.endswith(
        "Sorry we missed you; call us any time. (reference "
        f"{only_callback(rt).reference})")


def test_policy_booked_text_carries_reference_and_how_to_cancel(
        rt, twilio, worker, twilio_api, alice):
    _set_policy(rt, sms_booked="Thanks for your patience.")
    book_callback(twilio)
    worker()
    body = twilio_api.messages()[-1].body
    assert "Thanks for your patience. Reference " + only_callback(rt).reference in body
    assert body.endswith("Reply NOCALL if you no longer need the call.")

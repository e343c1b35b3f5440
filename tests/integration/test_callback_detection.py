"""Answering-machine detection of a callback's customer call is asynchronous (Twilio's
"Answering Machine Detection" page, AsyncAmd): the customer is greeted at once, and
Twilio's AsyncAmdStatusCallback decides: every AnsweredBy value Twilio sends is handled."""

from __future__ import annotations

import pytest

from models.callbacks import BOOKED, COMPLETED
from tests.callback_steps import (
    agent_answers,
    attempt_row,
    book_callback,
    customer_form,
    local,
    only_callback,
)
from tests.faults import StatementOutage
from tests.helpers import make_available, seed_agent, seed_queues, spoken, twiml, verbs

MACHINES = ("fax", "machine_start", "machine_end_beep", "machine_end_silence",
            "machine_end_other")
PEOPLE = ("human", "unknown")


@pytest.fixture
def alice(rt):
    seed_queues(rt, ("support", "Support", None))
    return seed_agent(rt, "alice", ["support"])


def _customer_rung(rt, twilio, worker, twilio_api, alice):
    """Book, pair the agent, the agent answers: returns the attempt and the customer's call
    as created (the Calls create request)."""
    book_callback(twilio)
    worker()
    make_available(rt, alice)
    worker()
    attempt, _whisper, _form = agent_answers(twilio, rt)
    worker()
    [customer_call] = [c for c in twilio_api.calls_created()
                       if c.field("To") == "+12125550123"]
    return attempt, customer_call


def test_callback_asks_twilio_for_asynchronous_machine_detection_with_a_status_callback(
        rt, twilio, worker, twilio_api, alice):
    attempt, call = _customer_rung(rt, twilio, worker, twilio_api, alice)
    assert call.field("MachineDetection") == "Enable"
    assert call.field("AsyncAmd") == "true"
    assert local(call.field("AsyncAmdStatusCallback")) == \
        f"/voice/callback/customer/amd?attempt={attempt.id}"
    assert call.field("AsyncAmdStatusCallbackMethod") == "POST"


def test_answered_customer_is_greeted_at_once_before_twilio_knows_who_answered(
        rt, twilio, worker, twilio_api, alice):
    attempt, call = _customer_rung(rt, twilio, worker, twilio_api, alice)
    greeted = twiml(twilio.post(local(call.field("Url")), customer_form(rt, attempt.id)))
    assert "calling you back about your call to Support" in spoken(greeted)
    assert verbs(greeted) == ["Say", "Redirect"]  # never a conference before detection
    waiting = twiml(twilio.post(local(greeted.find("Redirect").text),
                                customer_form(rt, attempt.id)))
    assert verbs(waiting) == ["Pause", "Redirect"]
    assert only_callback(rt).status != COMPLETED


@pytest.mark.parametrize("answered_by", PEOPLE)
def test_person_or_unknown_from_async_detection_is_bridged_to_the_agent(
        rt, twilio, worker, twilio_api, alice, answered_by):
    attempt, call = _customer_rung(rt, twilio, worker, twilio_api, alice)
    greeted = twiml(twilio.post(local(call.field("Url")), customer_form(rt, attempt.id)))
    amd = twilio.post(local(call.field("AsyncAmdStatusCallback")),
                      customer_form(rt, attempt.id, AnsweredBy=answered_by))
    assert amd.status_code == 204
    bridged = twiml(twilio.post(local(greeted.find("Redirect").text),
                                customer_form(rt, attempt.id)))
    assert bridged.find("Dial/Conference").text == f"hl-cb-{attempt.id}"
    assert "Connecting you to Alice now." in spoken(bridged)
    assert "calling you back" not in spoken(bridged)  # greeted once only
    assert attempt_row(rt, attempt.id).answered_by == answered_by
    assert only_callback(rt).status == COMPLETED


@pytest.mark.parametrize("answered_by", MACHINES)
def test_machine_or_fax_from_async_detection_is_never_bridged_and_the_callback_is_retried(
        rt, twilio, worker, twilio_api, alice, answered_by):
    attempt, call = _customer_rung(rt, twilio, worker, twilio_api, alice)
    greeted = twiml(twilio.post(local(call.field("Url")), customer_form(rt, attempt.id)))
    twilio.post(local(call.field("AsyncAmdStatusCallback")),
                customer_form(rt, attempt.id, AnsweredBy=answered_by))
    after = twiml(twilio.post(local(greeted.find("Redirect").text),
                              customer_form(rt, attempt.id)))
    assert after.find("Dial") is None and verbs(after) == ["Hangup"]
    row = attempt_row(rt, attempt.id)
    assert (row.answered_by, row.outcome) == (answered_by, f"answered by {answered_by}")
    assert only_callback(rt).status == BOOKED  # not reached: retried per policy
    assert rt.presence.state(alice) == "available"
    worker()
    ended = [u for u in twilio_api.requests("call-update") if u.field("Status")]
    assert {u.path.rsplit("/", 1)[-1] for u in ended} >= {f"{row.call_sid}.json"}


def test_an_answered_by_twilio_never_sends_is_refused_in_plain_words(
        rt, twilio, worker, twilio_api, alice):
    attempt, call = _customer_rung(rt, twilio, worker, twilio_api, alice)
    refused = twilio.post(local(call.field("AsyncAmdStatusCallback")),
                          customer_form(rt, attempt.id, AnsweredBy="robot"))
    assert refused.status_code == 400
    assert attempt_row(rt, attempt.id).answered_by == ""


def _until_detection_decides(twilio, rt, attempt_id, wait_url):
    """Follow the greeted customer's wait (a pause, then the wait again) until the app
    decides; its TwiML then."""
    for _ in range(60):
        after = twiml(twilio.post(local(wait_url), customer_form(rt, attempt_id)))
        if verbs(after) != ["Pause", "Redirect"]:
            return after
        wait_url = after.find("Redirect").text
    raise AssertionError("the customer waited for ever")


def test_answered_by_posted_once_during_a_database_outage_is_kept_so_a_machine_is_never_bridged(
        rt, twilio, worker, twilio_api, alice):
    # Twilio posts AnsweredBy to the AsyncAmdStatusCallback once and ignores the answer
    # (www.twilio.com/docs/voice/answering-machine-detection, AsyncAmdStatusCallback): an
    # apology's <Redirect> is never followed, so the result must outlive the outage.
    attempt, call = _customer_rung(rt, twilio, worker, twilio_api, alice)
    greeted = twiml(twilio.post(local(call.field("Url")), customer_form(rt, attempt.id)))
    form = customer_form(rt, attempt.id, AnsweredBy="machine_start")
    outage = StatementOutage(rt.db.engine)
    outage.start()
    try:
        amd = twilio.post(local(call.field("AsyncAmdStatusCallback")), form)
    finally:
        outage.end()
        outage.remove()
    assert amd.status_code == 202  # accepted: the worker records it
    worker()
    after = _until_detection_decides(twilio, rt, attempt.id, greeted.find("Redirect").text)
    assert after.find("Dial") is None and verbs(after) == ["Hangup"]
    row = attempt_row(rt, attempt.id)
    assert (row.answered_by, row.outcome) == ("machine_start", "answered by machine_start")
    assert only_callback(rt).status == BOOKED  # not reached: retried per policy

"""An agent rung on a phone number must accept with a key before the caller is bridged:
a call to a phone number completes when a voicemail picks up, as when a person does
(help.twilio.com "What are the possible call statuses"). Browser agents are not asked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.entities import CONNECTED, OFFERED, WAITING, Agent, Interaction, Leg
from queueing import lines
from tests.callback_steps import attempt_row, book_callback, local, only_callback
from tests.helpers import call_form, make_available, seed_agent, seed_queues, spoken, twiml, verbs

AGENT_PHONE = "+12125550999"


def _offered(rt, twilio, worker, contact):
    seed_queues(rt, ("support", "Support", None))
    agent_id = seed_agent(rt, "alice", ["support"], contact)
    make_available(rt, agent_id)
    form = call_form()
    twilio.post("/voice/incoming", form)
    worker()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg))
    return form, agent_id, leg, call_form(sid=leg.call_sid, from_="+12125550000")


def _status(rt):
    with rt.db.session() as s:
        return s.scalar(select(Interaction.status))


def test_agent_answering_on_a_phone_hears_the_offer_inside_a_gather_and_nothing_is_bridged(
        rt, twilio, worker, twilio_api):
    form, _agent, leg, agent_form = _offered(rt, twilio, worker, AGENT_PHONE)
    root = twiml(twilio.post(f"/voice/agent/whisper?leg={leg.id}", agent_form))
    assert verbs(root) == ["Gather", "Redirect"]
    gather = root.find("Gather")
    assert "Caller waiting in Support, press 1 to accept" in spoken(gather)
    assert gather.get("numDigits") == "1" and int(gather.get("timeout")) >= 3
    worker()
    assert not [u for u in twilio_api.requests("call-update")
                if u.path.endswith(f"/Calls/{form['CallSid']}.json")]  # caller not moved
    assert _status(rt) == OFFERED


def test_agent_pressing_1_on_a_phone_is_bridged_to_the_caller(rt, twilio, worker, twilio_api):
    form, _agent, leg, agent_form = _offered(rt, twilio, worker, AGENT_PHONE)
    asked = twiml(twilio.post(f"/voice/agent/whisper?leg={leg.id}", agent_form))
    bridged = twiml(twilio.post(local(asked.find("Gather").get("action")),
                                {**agent_form, "Digits": "1"}))
    assert bridged.find("Dial/Conference") is not None
    worker()
    assert twilio_api.requests("call-update")[-1].path.endswith(f"/Calls/{form['CallSid']}.json")
    assert _status(rt) == CONNECTED


@pytest.mark.parametrize("keys", [("", ""), ("2", "9")], ids=["silence", "wrong-keys"])
def test_agent_voicemail_never_accepting_is_a_missed_offer_and_the_caller_keeps_the_place(
        rt, twilio, worker, twilio_api, keys):
    form, agent_id, leg, agent_form = _offered(rt, twilio, worker, AGENT_PHONE)
    root = twiml(twilio.post(f"/voice/agent/whisper?leg={leg.id}", agent_form))
    for digits in keys:
        root = twiml(twilio.post(local(root.find("Redirect").text),
                                 {**agent_form, "Digits": digits}))
    assert verbs(root) == ["Say", "Hangup"]
    assert "offered to another agent" in spoken(root)
    twilio.post(f"/voice/status/agent?leg={leg.id}", {**agent_form, "CallStatus": "completed"})
    assert _status(rt) in (WAITING, OFFERED)  # never bridged: back in line, offered again
    with rt.db.session() as s:
        assert s.get(Agent, agent_id).missed_offers == 1
        interaction_id = s.scalar(select(Interaction.id))
    entry = lines.load(rt.live, lines.caller_entry_id(interaction_id))
    assert entry is not None and entry.call_sid == form["CallSid"]  # the same place


def test_browser_agent_is_not_asked_to_accept(rt, twilio, worker, twilio_api):
    _form, _agent, leg, agent_form = _offered(rt, twilio, worker, None)
    root = twiml(twilio.post(f"/voice/agent/whisper?leg={leg.id}", agent_form))
    assert verbs(root) == ["Say", "Dial"]


def _callback_offered(rt, twilio, worker):
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"], AGENT_PHONE)
    book_callback(twilio)
    worker()
    make_available(rt, alice)
    worker()
    attempt = attempt_row(rt)
    return alice, attempt, call_form(sid=attempt.agent_call_sid, from_="+12125550000")


def test_callback_agent_on_a_phone_accepts_before_the_customer_is_dialled(
        rt, twilio, worker, twilio_api):
    _alice, attempt, form = _callback_offered(rt, twilio, worker)
    asked = twiml(twilio.post(f"/voice/callback/agent?attempt={attempt.id}", form))
    assert "press 1 to accept" in spoken(asked.find("Gather"))
    worker()
    assert [c.field("To") for c in twilio_api.calls_created()] == [AGENT_PHONE]
    joined = twiml(twilio.post(local(asked.find("Gather").get("action")),
                               {**form, "Digits": "1"}))
    assert joined.find("Dial/Conference").text == f"hl-cb-{attempt.id}"
    worker()
    assert [c.field("To") for c in twilio_api.calls_created()][-1] == "+12125550123"


def test_callback_agent_voicemail_never_accepting_is_a_missed_offer(
        rt, twilio, worker, twilio_api):
    alice, attempt, form = _callback_offered(rt, twilio, worker)
    root = twiml(twilio.post(f"/voice/callback/agent?attempt={attempt.id}", form))
    for _ in range(2):
        root = twiml(twilio.post(local(root.find("Redirect").text), form))
    assert verbs(root) == ["Say", "Hangup"]
    twilio.post(f"/voice/callback/agent/status?attempt={attempt.id}",
                {**form, "CallStatus": "completed"})
    worker()
    assert "+12125550123" not in [c.field("To") for c in twilio_api.calls_created()]
    assert attempt_row(rt, attempt.id).outcome == "agent missed"
    assert only_callback(rt).attempts == 0  # the customer's tries untouched, place kept
    with rt.db.session() as s:
        assert s.get(Agent, alice).missed_offers == 1

"""Cancelling a callback: by text message (NOCALL), or by phoning again."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from models.callbacks import BOOKED, CANCELLED
from models.entities import COMPLETED, Interaction
from queueing import lines
from tests.callback_steps import book_callback, local, only_callback
from tests.helpers import call_form, seed_queues, spoken, twiml, verbs


@pytest.fixture
def support(rt):
    seed_queues(rt, ("support", "Support", None))
    return "support"


def _text(twilio, body, from_="+12125550123"):
    form = {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": from_,
            "To": "+12125550000", "Body": body}
    return twilio.post("/sms/incoming", form)


# NOCALL, not CANCEL: Twilio reserves CANCEL as an opt-out keyword on long codes (it would
# unsubscribe the customer from every text); see tests/integration/test_texts.py.
def test_sms_nocall_cancels_the_open_callback_and_replies(rt, twilio, support):
    book_callback(twilio)
    reference = only_callback(rt).reference
    response = _text(twilio, " nocall ")
    assert response.status_code == 200 and response.mimetype == "text/xml"
    reply = ET.fromstring(response.get_data(as_text=True)).find("Message").text
    assert reply == f"Your callback (reference {reference}) is cancelled. Call us any time."
    callback = only_callback(rt)
    assert callback.status == CANCELLED and callback.open_key is None
    assert lines.length(rt.live, support) == 0


def test_sms_nocall_without_a_callback_says_so_and_changes_nothing(rt, twilio, support):
    response = _text(twilio, "NOCALL")
    reply = ET.fromstring(response.get_data(as_text=True)).find("Message").text
    assert reply == "You have no callback booked with us."


def test_unsigned_sms_is_refused(rt, client, support):
    response = client.post("/sms/incoming", data={"From": "+12125550123", "Body": "NOCALL"})
    assert response.status_code == 403


def test_calling_again_offers_keep_or_cancel_and_1_keeps_it(rt, twilio, support):
    book_callback(twilio)
    form = call_form()
    root = twiml(twilio.post("/voice/incoming", form))
    assert "Press 1 to keep your callback, or 2 to cancel it and wait on the line." in spoken(root)
    kept = twiml(twilio.post(local(root.find("Gather").get("action")), {**form, "Digits": "1"}))
    assert verbs(kept)[-1] == "Hangup"
    assert only_callback(rt).status == BOOKED
    with rt.db.session() as s:
        second = s.scalar(select(Interaction).where(Interaction.call_sid == form["CallSid"]))
        assert second.status == COMPLETED and second.outcome == "kept callback"


def test_calling_again_and_pressing_2_cancels_and_joins_the_line(rt, twilio, support):
    book_callback(twilio)
    form = call_form()
    root = twiml(twilio.post("/voice/incoming", form))
    moved = twiml(twilio.post(local(root.find("Gather").get("action")), {**form, "Digits": "2"}))
    assert local(moved.find("Redirect").text) == "/voice/incoming"
    joined = twiml(twilio.post("/voice/incoming", form))
    assert "Enqueue" in verbs(joined)
    assert only_callback(rt).status == CANCELLED
    assert [e.call_sid for e in lines.waiting(rt.live, support)] == [form["CallSid"]]

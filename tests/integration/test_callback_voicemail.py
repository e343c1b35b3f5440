"""A message instead of holding: recorded, booked as a callback carrying its link at the
caller's place, and played to the agent before the customer is dialled."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.callbacks import BOOKED, Callback
from queueing import keys, lines
from tests.callback_steps import agent_answers, call_in, local, only_callback
from tests.faults import StatementOutage
from tests.helpers import make_available, seed_agent, seed_queues, spoken, twiml, verbs

VOICEMAIL = "Or press 2 to leave a message and we will call you back."
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE0123"


@pytest.fixture
def alice(rt):
    seed_queues(rt, ("support", "Support", None))
    return seed_agent(rt, "alice", ["support"])


def _to_record(twilio, form):
    left = twiml(twilio.post("/voice/hold/key", {**form, "Digits": "2"}))
    assert verbs(left) == ["Leave"]
    prompt = twiml(twilio.post("/voice/queue-exit", {**form, "QueueResult": "leave"}))
    assert "number ending 0 1 2 3" in spoken(prompt)
    return twiml(twilio.post(local(prompt.find("Gather").get("action")), {**form, "Digits": "1"}))


def test_the_offer_adds_press_2_to_leave_a_message(rt, twilio, alice):
    form = call_in(twilio)
    assert VOICEMAIL in spoken(twiml(twilio.post("/voice/hold", form)))


def test_pressing_2_confirms_the_number_then_records_with_limits_and_callbacks(
        rt, twilio, alice):
    form = call_in(twilio)
    record = _to_record(twilio, form)
    assert verbs(record) == ["Say", "Record"]
    attrs = record.find("Record").attrib
    assert attrs["maxLength"] == "120" and attrs["finishOnKey"] == "#"
    assert local(attrs["action"]) == "/voice/callback/recorded"
    assert local(attrs["recordingStatusCallback"]) == "/voice/callback/recording-status"
    with rt.db.session() as s:
        assert s.scalars(select(Callback)).all() == []  # nothing booked before the message


def test_the_recording_becomes_a_callback_at_the_callers_place_carrying_its_link(
        rt, twilio, worker, twilio_api, frozen_clock, alice):
    form = call_in(twilio)
    joined = rt.live.zscore(keys.line("support"), lines.entry_for_call(rt.live,
                                                                       form["CallSid"]).id)
    _to_record(twilio, form)
    frozen_clock.advance(40)
    done = twiml(twilio.post("/voice/callback/recorded",
                             {**form, "RecordingUrl": RECORDING, "RecordingDuration": "31"}))
    assert spoken(done).startswith("Thank you, we have your message. We will call you back in")
    callback = only_callback(rt)
    assert (callback.status, callback.recording_url, callback.place) == (BOOKED, RECORDING,
                                                                          joined)
    assert [e.id for e in lines.waiting(rt.live, "support")] == [f"cb:{callback.id}"]
    twilio.post("/voice/callback/recording-status",
                {**form, "RecordingUrl": RECORDING, "RecordingStatus": "completed"})
    assert only_callback(rt).reference == callback.reference  # one callback, not two
    worker()
    assert len(twilio_api.messages()) == 1


def test_caller_hanging_up_while_recording_is_booked_from_the_recording_status(
        rt, twilio, alice):
    form = call_in(twilio)
    _to_record(twilio, form)
    twilio.post("/voice/callback/recording-status",
                {**form, "RecordingUrl": RECORDING, "RecordingStatus": "completed"})
    assert only_callback(rt).recording_url == RECORDING


def test_a_recording_status_in_a_database_outage_still_books_a_caller_who_hung_up_mid_message(
        rt, twilio, worker, alice):
    # Twilio sends the recordingStatusCallback once and ignores its answer
    # (www.twilio.com/docs/voice/twiml/record): the worker keeps the message afterwards.
    form = call_in(twilio)
    _to_record(twilio, form)
    outage = StatementOutage(rt.db.engine)
    outage.start()
    try:
        reply = twilio.post("/voice/callback/recording-status",
                            {**form, "RecordingUrl": RECORDING, "RecordingStatus": "completed"})
    finally:
        outage.end()
        outage.remove()
    assert reply.status_code == 202  # accepted: the worker keeps it
    worker()
    callback = only_callback(rt)
    assert (callback.status, callback.recording_url) == (BOOKED, RECORDING)


def test_agent_hears_the_message_before_the_customer_is_dialled(
        rt, twilio, worker, twilio_api, alice):
    media = b"ID3 the customer's message"
    recording = twilio_api.add_recording("AC" + "0" * 32, "RE" + "2" * 32, media)
    form = call_in(twilio)
    _to_record(twilio, form)
    twilio.post("/voice/callback/recorded", {**form, "RecordingUrl": recording})
    worker()
    make_available(rt, alice)
    worker()
    attempt, whisper, agent_form = agent_answers(twilio, rt)
    assert verbs(whisper) == ["Say", "Play", "Redirect"]
    assert spoken(whisper).endswith("attempt 1 of 3. Their message:")
    # Twilio fetches <Play> media with a plain GET, which an account requiring basic auth
    # on recording media refuses for Twilio's own link: the app serves it, keyed
    played = local(whisper.find("Play").text)
    assert played.startswith(f"/voice/callback/message.mp3?attempt={attempt.id}&key=")
    got = twilio.client.get(played)
    assert got.status_code == 200 and got.data == media and got.mimetype == "audio/mpeg"
    assert twilio_api.requests("recording-media")[-1].status == 200
    assert twilio.client.get(played[:-4] + "0000").status_code == 403  # another key
    worker()
    assert [c.field("To") for c in twilio_api.calls_created()] == ["client:alice"]
    heard = twiml(twilio.post(local(whisper.find("Redirect").text), agent_form))
    assert spoken(heard) == "Dialling the customer now."
    assert heard.find("Dial/Conference") is not None
    worker()
    assert [c.field("To") for c in twilio_api.calls_created()] == ["client:alice",
                                                                  "+12125550123"]


def test_outage_retry_of_the_record_action_keeps_the_message_though_redirect_posts_no_recording(
        rt, twilio, alice):
    form = call_in(twilio)
    _to_record(twilio, form)
    outage = StatementOutage(rt.db.engine)
    outage.start()
    try:
        sorry = twiml(twilio.post("/voice/callback/recorded",
                                  {**form, "RecordingUrl": RECORDING, "RecordingDuration": "31"}))
    finally:
        outage.end()
        outage.remove()
    assert "technical problem" in spoken(sorry)
    # Twilio follows the apology's <Redirect> with the standard call parameters only
    # (www.twilio.com/docs/voice/twiml/redirect): no RecordingUrl but the one in its URL.
    done = twiml(twilio.post(local(sorry.find("Redirect").text), form))
    assert spoken(done).startswith("Thank you, we have your message.")
    assert only_callback(rt).recording_url == RECORDING

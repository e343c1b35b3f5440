"""The stand-in waits for a webhook's answer as Twilio does: 15 s, then error 11205 and the
number's Fallback URL, or without one Twilio's "application error" and the end of the call
(twilio.com/docs/api/errors/11205, twilio.com/docs/usage/security/availability-reliability).

The app below is this module's own; the network's wait is shortened to 1 s (Twilio's 15 s is
its default, checked separately) so the tests take seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask, Response, request
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.serving import make_server

from simulator import PhoneNetwork, TwilioRestStandIn

ACCOUNT = "AC" + "3" * 32
TOKEN = "timeout-test-token"
CALLER = "+15551230002"
OUR_NUMBER = "+15550000001"
WAIT = 1.0  # the network's wait for an answer in these tests
SLOWER = 2.5  # the slow webhook answers after this long: past the wait


def make_app(fallback_forms: list[dict[str, str]]) -> Flask:
    """A slow voice webhook and a fallback that answers at once."""
    app = Flask(__name__)

    @app.post("/voice/slow")
    def slow() -> Response:
        time.sleep(SLOWER)
        return Response(str(VoiceResponse().say("Too late.")), mimetype="text/xml")

    @app.post("/voice/fallback")
    def fallback() -> Response:
        fallback_forms.append(request.form.to_dict())
        answer = VoiceResponse()
        answer.say("Sorry, please call again.")
        answer.hangup()
        return Response(str(answer), mimetype="text/xml")

    return app


@pytest.fixture
def app_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    forms: list[dict[str, str]] = []
    server = make_server("127.0.0.1", 0, make_app(forms), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", forms
    server.shutdown()
    server.server_close()
    thread.join(5)


def network(base_url: str, standin: TwilioRestStandIn, **number: str) -> PhoneNetwork:
    """A phone network whose number has the given config (voice_fallback_url, …)."""
    return PhoneNetwork(base_url, TOKEN, standin, speed=100, account_sid=ACCOUNT,
                        webhook_timeout=WAIT, **number)


def test_webhook_not_answered_in_time_is_abandoned_with_11205_and_the_fallback_url_takes_over(
        app_server):
    base_url, fallback_forms = app_server
    with TwilioRestStandIn(account_sid=ACCOUNT, auth_token=TOKEN) as standin:
        net = network(base_url, standin, voice_fallback_url="/voice/fallback")
        try:
            started = time.monotonic()
            caller = net.place_call(CALLER, OUR_NUMBER, voice_url="/voice/slow", status_url=None)
            caller.wait_ended()
            took = time.monotonic() - started
        finally:
            net.close()
    assert took < SLOWER  # the slow answer was not waited for
    assert "Sorry, please call again." in caller.said()
    assert "application error" not in caller.said() and "Too late." not in caller.said()
    [form] = fallback_forms
    assert form["ErrorCode"] == "11205" and form["ErrorUrl"] == f"{base_url}/voice/slow"
    assert form["CallSid"] == caller.sid
    assert [(e.kind, e.fatal) for e in caller.errors] == [("http-11205", False)]


def test_webhook_not_answered_in_time_without_a_fallback_url_plays_twilios_application_error(
        app_server):
    base_url, fallback_forms = app_server
    with TwilioRestStandIn(account_sid=ACCOUNT, auth_token=TOKEN) as standin:
        net = network(base_url, standin)
        try:
            caller = net.place_call(CALLER, OUR_NUMBER, voice_url="/voice/slow", status_url=None)
            caller.wait_ended()
        finally:
            net.close()
    assert "application error" in caller.said() and "Too late." not in caller.said()
    assert caller.events("hangup") == [("hangup", "application-error")]
    assert fallback_forms == []


def test_twilio_waits_15_seconds_for_a_webhook_answer_by_default():
    with TwilioRestStandIn(account_sid=ACCOUNT, auth_token=TOKEN) as standin:
        net = PhoneNetwork("http://127.0.0.1:9", TOKEN, standin)
        try:
            assert net.app.timeout == (5.0, 15.0)  # 5 s per TCP attempt, 15 s for the answer
        finally:
            net.close()

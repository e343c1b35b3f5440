"""The phone network drives a real Flask app over HTTP exactly as Twilio would.

The app below is this module's own: it checks Twilio signatures with RequestValidator and
answers with TwiML from twilio.twiml; the app's REST client is twilio-python pointed at
the stand-in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask, Response, abort, request
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial, VoiceResponse
from werkzeug.serving import make_server

from simulator import Answer, PhoneNetwork, TwilioRestStandIn, VirtualCall, answer_when

ACCOUNT = "AC" + "2" * 32
TOKEN = "engine-test-token"
CUSTOMER = "+15551230001"
OUR_NUMBER = "+15550000000"
Form = dict[str, str]


class Hits:
    """Every webhook request the test app accepted, by path."""

    def __init__(self) -> None:
        self._hits: list[tuple[str, Form]] = []
        self._cond = threading.Condition()

    def add(self, path: str, form: Form) -> None:
        with self._cond:
            self._hits.append((path, form))
            self._cond.notify_all()

    def paths(self) -> list[str]:
        """The paths requested, in the order the app received them."""
        with self._cond:
            return [p for p, _ in self._hits]

    def forms(self, path: str) -> list[Form]:
        with self._cond:
            return [form for p, form in self._hits if p == path]

    def wait(self, path: str, predicate: Callable[[Form], bool] = lambda f: True,
             timeout: float = 5.0) -> Form:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for p, form in self._hits:
                    if p == path and predicate(form):
                        return form
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no request to {path}; saw {[p for p, _ in self._hits]}")
                self._cond.wait(0.05)


def twiml(response: VoiceResponse | MessagingResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def make_app(hits: Hits) -> Flask:
    """A tiny contact-center app: IVR, queue with wait loop, conferences, errors."""
    app = Flask(__name__)
    validator = RequestValidator(TOKEN)

    @app.before_request
    def verify_signature() -> None:
        params = request.form.to_dict() if request.method == "POST" else {}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, params, signature):
            abort(403)
        hits.add(request.path, {**request.args.to_dict(), **request.form.to_dict()})

    @app.post("/voice/incoming")
    def incoming() -> Response:
        vr = VoiceResponse()
        vr.say("Welcome to Holdless.")
        gather = vr.gather(num_digits=1, action="/voice/menu", timeout=3)
        gather.say("Press 1 to wait for billing, press 2 for a callback offer.")
        vr.say("We did not get that.")
        vr.hangup()
        return twiml(vr)

    @app.post("/voice/menu")
    def menu() -> Response:
        vr = VoiceResponse()
        wait_url = "/voice/wait" if request.form["Digits"] == "1" else "/voice/wait-offer"
        vr.say("Joining the billing queue.")
        vr.enqueue("billing", wait_url=wait_url, action="/voice/queue-done")
        vr.say("You left the queue.")
        return twiml(vr)

    add_queue_routes(app)
    add_conference_routes(app)
    add_misc_routes(app)
    return app


def add_queue_routes(app: Flask) -> None:
    @app.post("/voice/wait")
    def wait() -> Response:
        vr = VoiceResponse()
        vr.say(f"You are number {request.form['QueuePosition']} in line.")
        vr.play("http://example.com/hold.mp3")
        return twiml(vr)

    @app.post("/voice/wait-offer")
    def wait_offer() -> Response:
        vr = VoiceResponse()
        gather = vr.gather(num_digits=1, action="/voice/wait-choice", timeout=2)
        gather.say("Press 9 and we will call you back.")
        vr.play("http://example.com/hold.mp3")
        return twiml(vr)

    @app.post("/voice/wait-choice")
    def wait_choice() -> Response:
        vr = VoiceResponse()
        vr.leave()
        return twiml(vr)

    @app.post("/voice/queue-done")
    def queue_done() -> Response:
        vr = VoiceResponse()
        vr.say("We will call you back.")
        return twiml(vr)


def add_conference_routes(app: Flask) -> None:
    @app.post("/voice/connect")
    def connect() -> Response:
        vr = VoiceResponse()
        dial = Dial(action="/voice/after-dial")
        dial.conference(request.args["room"], start_conference_on_enter=False,
                        end_conference_on_exit=False)
        vr.append(dial)
        return twiml(vr)

    @app.post("/voice/agent")
    def agent() -> Response:
        vr = VoiceResponse()
        dial = Dial()
        dial.conference(request.args["room"], start_conference_on_enter=True,
                        end_conference_on_exit=True)
        vr.append(dial)
        return twiml(vr)

    @app.post("/voice/after-dial")
    def after_dial() -> Response:
        vr = VoiceResponse()
        vr.say("The agent has left the call.")
        vr.hangup()
        return twiml(vr)

    @app.post("/voice/transfer")
    def transfer() -> Response:
        vr = VoiceResponse()
        dial = Dial(action="/voice/after-dial", timeout=10)
        dial.number("+15559990000", url="/voice/whisper")
        vr.append(dial)
        return twiml(vr)

    @app.post("/voice/whisper")
    def whisper() -> Response:
        vr = VoiceResponse()
        vr.say("Transferred caller, waited four minutes.")
        return twiml(vr)


def add_misc_routes(app: Flask) -> None:
    @app.post("/voice/status")
    def status() -> tuple[str, int]:
        return "", 204

    @app.post("/voice/broken")
    def broken() -> Response:
        abort(500)

    @app.post("/voice/not-twiml")
    def not_twiml() -> Response:
        return Response("<Speak>hello</Speak>", mimetype="text/xml")

    @app.post("/voice/voicemail")
    def voicemail() -> Response:
        vr = VoiceResponse()
        vr.say("Leave a message.")
        vr.record(max_length=30, action="/voice/recorded",
                  recording_status_callback="/voice/recording-status")
        return twiml(vr)

    @app.post("/voice/recorded")
    def recorded() -> Response:
        vr = VoiceResponse()
        vr.hangup()
        return twiml(vr)

    @app.post("/voice/recording-status")
    def recording_status() -> tuple[str, int]:
        return "", 204

    @app.post("/sms/incoming")
    def sms() -> Response:
        reply = MessagingResponse()
        reply.message("Thanks, we got your message.")
        return twiml(reply)


@dataclass
class Stack:
    """The test app on a real port, the REST stand-in, the network and a Twilio client."""

    base_url: str
    hits: Hits
    standin: TwilioRestStandIn
    network: PhoneNetwork
    client: Client


@pytest.fixture
def app_server() -> Iterator[tuple[str, Hits]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    hits = Hits()
    server = make_server("127.0.0.1", 0, make_app(hits), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def stack(app_server: tuple[str, Hits]) -> Iterator[Stack]:
    base_url, hits = app_server
    with TwilioRestStandIn(account_sid=ACCOUNT, auth_token=TOKEN) as standin:
        network = PhoneNetwork(base_url, TOKEN, standin, speed=100, account_sid=ACCOUNT,
                               play_seconds=10, hold_music_seconds=10)
        client = Client(ACCOUNT, TOKEN)
        client.api.base_url = standin.base_url
        try:
            yield Stack(base_url, hits, standin, network, client)
        finally:
            network.close()
            client.http_client.session.close()  # type: ignore[attr-defined]


def caller_waiting_in_billing(stack: Stack, **kwargs: object) -> VirtualCall:
    """An inbound caller who pressed 1 and now waits in the billing queue."""
    caller = stack.network.place_call(
        CUSTOMER, OUR_NUMBER, keypresses=answer_when({"press 1": "1"}), **kwargs)  # type: ignore[arg-type]
    caller.wait_until(lambda c: ("enqueue", "billing") in c.events())
    return caller


def test_inbound_call_posts_signed_ringing_request_and_gather_digit_reaches_queue(
    stack: Stack,
) -> None:
    caller = caller_waiting_in_billing(stack)
    first = stack.hits.forms("/voice/incoming")[0]
    assert first["CallSid"] == caller.sid and first["CallStatus"] == "ringing"
    assert first["Direction"] == "inbound" and first["From"] == CUSTOMER
    assert stack.hits.wait("/voice/menu")["Digits"] == "1"
    assert caller.events("say")[:2] == [
        ("say", "Welcome to Holdless."),
        ("say", "Press 1 to wait for billing, press 2 for a callback offer."),
    ]
    assert stack.network.queue_size("billing") == 1


def test_wait_url_is_requested_again_and_again_with_queue_position(stack: Stack) -> None:
    caller = caller_waiting_in_billing(stack)
    caller.wait_until(lambda c: len(stack.hits.forms("/voice/wait")) >= 3)
    waits = stack.hits.forms("/voice/wait")
    assert all(w["QueuePosition"] == "1" and w["CurrentQueueSize"] == "1" for w in waits)
    assert int(waits[2]["QueueTime"]) >= int(waits[0]["QueueTime"]) + 10
    assert waits[0]["QueueSid"].startswith("QU")
    assert ("play", "http://example.com/hold.mp3") in caller.events()


def test_no_digit_at_gather_falls_through_to_the_next_verb(stack: Stack) -> None:
    caller = stack.network.place_call(CUSTOMER, OUR_NUMBER)
    caller.wait_ended()
    assert "We did not get that." in caller.said()
    assert caller.events("gather") == [("gather", "")]
    assert stack.hits.forms("/voice/menu") == []


def test_second_caller_gets_position_two_then_one_after_the_first_hangs_up(
    stack: Stack,
) -> None:
    first = caller_waiting_in_billing(stack)
    second = caller_waiting_in_billing(stack)
    stack.hits.wait("/voice/wait", lambda f: f["CallSid"] == second.sid
                    and f["QueuePosition"] == "2" and f["CurrentQueueSize"] == "2")
    first.hangup()
    first.wait_ended()
    stack.hits.wait("/voice/wait", lambda f: f["CallSid"] == second.sid
                    and f["QueuePosition"] == "1" and f["CurrentQueueSize"] == "1")
    done = stack.hits.wait("/voice/queue-done", lambda f: f["CallSid"] == first.sid)
    assert done["QueueResult"] == "hangup"


def test_gather_in_wait_url_then_leave_posts_enqueue_action_with_leave(stack: Stack) -> None:
    caller = stack.network.place_call(
        CUSTOMER, OUR_NUMBER, keypresses=answer_when({"press 1": "2", "press 9": "9"}))
    caller.wait_ended()
    done = stack.hits.wait("/voice/queue-done")
    assert done["QueueResult"] == "leave" and done["QueueSid"].startswith("QU")
    assert "We will call you back." in caller.said()
    assert "You left the queue." not in caller.said()
    assert stack.network.queue_size("billing") == 0


def test_rest_redirect_takes_caller_out_of_queue_into_conference(stack: Stack) -> None:
    caller = caller_waiting_in_billing(stack)
    stack.client.calls(caller.sid).update(url=f"{stack.base_url}/voice/connect?room=r1",
                                          method="POST")
    caller.wait_until(lambda c: c.joined_conference == "r1")
    assert stack.network.queue_size("billing") == 0
    assert ("dequeue", "billing", "redirected") in caller.events()
    assert "You left the queue." not in caller.said()
    redirected = stack.hits.wait("/voice/queue-done")
    assert redirected["QueueResult"] == "redirected"
    assert stack.hits.wait("/voice/connect")["CallSid"] == caller.sid


def agent_joins(stack: Stack, room: str, handle_time: float | None) -> VirtualCall:
    stack.network.register_endpoint("client:alice", answer=Answer.human(after=2),
                                    handle_time=handle_time)
    created = stack.client.calls.create(
        to="client:alice", from_=OUR_NUMBER, url=f"{stack.base_url}/voice/agent?room={room}",
        status_callback=f"{stack.base_url}/voice/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"])
    agent = stack.network.call(created.sid)
    agent.wait_until(lambda c: c.joined_conference == room)
    return agent


def test_outbound_call_to_client_joins_the_callers_conference(stack: Stack) -> None:
    caller = caller_waiting_in_billing(stack)
    stack.client.calls(caller.sid).update(url=f"{stack.base_url}/voice/connect?room=r2")
    caller.wait_until(lambda c: c.joined_conference == "r2")
    agent = agent_joins(stack, "r2", handle_time=None)
    fetched = stack.hits.wait("/voice/agent")
    assert fetched["CallSid"] == agent.sid and fetched["Direction"] == "outbound-api"
    caller.wait_until(lambda c: ("conference-connected", "r2") in c.events())
    live = stack.network.conference_named("r2")
    assert set(live.participants) == {caller.sid, agent.sid} and live.started
    listed = stack.client.conferences.list(friendly_name="r2", status="in-progress")
    assert [c.sid for c in listed] == [live.sid]


def test_agent_leaving_with_end_conference_on_exit_ends_the_callers_dial(stack: Stack) -> None:
    caller = caller_waiting_in_billing(stack)
    stack.client.calls(caller.sid).update(url=f"{stack.base_url}/voice/connect?room=r3")
    caller.wait_until(lambda c: c.joined_conference == "r3")
    agent = agent_joins(stack, "r3", handle_time=30)
    caller.wait_ended()
    agent.wait_ended()
    assert stack.hits.wait("/voice/after-dial")["DialCallStatus"] == "completed"
    assert "The agent has left the call." in caller.said()
    reports = [f for f in stack.hits.forms("/voice/status") if f["CallSid"] == agent.sid]
    # they may arrive in any order and twice: SequenceNumber gives the order they were sent
    sent = {int(f["SequenceNumber"]): f["CallStatus"] for f in reports}
    assert [sent[n] for n in sorted(sent)] == ["queued", "ringing", "in-progress", "completed"]
    final = stack.hits.wait("/voice/status", lambda f: f["CallSid"] == caller.sid)
    assert final["CallStatus"] == "completed" and int(final["CallDuration"]) > 0
    agent_final = next(f for f in stack.hits.forms("/voice/status")
                       if f["CallSid"] == agent.sid and f["CallStatus"] == "completed")
    assert int(agent_final["CallDuration"]) >= 30


def test_busy_endpoint_reports_busy_and_never_fetches_the_url(stack: Stack) -> None:
    stack.network.register_endpoint("+15557770000", answer=Answer.busy())
    created = stack.client.calls.create(to="+15557770000", from_=OUR_NUMBER,
                                        url=f"{stack.base_url}/voice/agent?room=x",
                                        status_callback=f"{stack.base_url}/voice/status")
    stack.network.call(created.sid).wait_ended()
    final = stack.hits.wait("/voice/status", lambda f: f["CallSid"] == created.sid)
    assert final["CallStatus"] == "busy"
    assert stack.hits.forms("/voice/agent") == []
    assert stack.client.calls(created.sid).fetch().status == "busy"


def test_machine_detection_posts_answered_by_machine_start(stack: Stack) -> None:
    stack.network.register_endpoint("+15558880000", answer=Answer.machine(after=1))
    stack.client.calls.create(to="+15558880000", from_=OUR_NUMBER, machine_detection="Enable",
                              url=f"{stack.base_url}/voice/voicemail")
    assert stack.hits.wait("/voice/voicemail")["AnsweredBy"] == "machine_start"


def test_record_posts_its_action_first_and_the_recording_status_once_the_file_is_processed(
        stack: Stack) -> None:
    stack.network.register_endpoint("+15558880001", answer=Answer.human(after=1))
    stack.client.calls.create(to="+15558880001", from_=OUR_NUMBER,
                              url=f"{stack.base_url}/voice/voicemail")
    recorded = stack.hits.wait("/voice/recorded")
    assert recorded["RecordingSid"].startswith("RE") and recorded["RecordingDuration"] == "5"
    assert recorded["Digits"] == "#"
    status = stack.hits.wait("/voice/recording-status")
    assert status["RecordingStatus"] == "completed" and status["RecordingSource"] == "RecordVerb"
    assert status["RecordingSid"] == recorded["RecordingSid"]
    assert status["RecordingUrl"] == recorded["RecordingUrl"]
    assert status["RecordingUrl"].startswith("https://api.twilio.com/2010-04-01/Accounts/")
    voicemail_paths = [p for p in stack.hits.paths() if p.startswith("/voice/record")]
    assert voicemail_paths == ["/voice/recorded", "/voice/recording-status"]


def test_a_caller_hanging_up_while_recorded_still_has_the_message_posted_then_reported(
        stack: Stack) -> None:
    stack.network.register_endpoint("+15558880002", answer=Answer.human(after=1),
                                    record_seconds=30)
    stack.client.calls.create(to="+15558880002", from_=OUR_NUMBER,
                              url=f"{stack.base_url}/voice/voicemail")
    call = stack.network.wait_for_call(lambda c: c.to == "+15558880002")
    call.wait_until(lambda c: bool(c.events("record")))
    call.hangup()
    recorded = stack.hits.wait("/voice/recorded")
    assert recorded["Digits"] == "hangup" and recorded["RecordingSid"].startswith("RE")
    status = stack.hits.wait("/voice/recording-status")
    assert status["RecordingSid"] == recorded["RecordingSid"]
    assert [p for p in stack.hits.paths() if p.startswith("/voice/record")] == [
        "/voice/recorded", "/voice/recording-status"]


def test_dial_number_whispers_to_the_dialled_leg_then_bridges(stack: Stack) -> None:
    stack.network.register_endpoint("+15559990000", answer=Answer.human(after=1),
                                    handle_time=20)
    caller = caller_waiting_in_billing(stack)
    stack.client.calls(caller.sid).update(url=f"{stack.base_url}/voice/transfer")
    caller.wait_ended()
    dialled = stack.network.calls_to("+15559990000")[0]
    assert "Transferred caller, waited four minutes." in dialled.said()
    assert dialled.parent_sid == caller.sid
    after = stack.hits.wait("/voice/after-dial")
    assert after["DialCallStatus"] == "completed" and after["DialCallSid"] == dialled.sid
    assert int(after["DialCallDuration"]) >= 15


def test_rest_update_with_inline_twiml_and_status_completed(stack: Stack) -> None:
    caller = caller_waiting_in_billing(stack)
    stack.client.calls(caller.sid).update(twiml="<Response><Say>Sorry, closing.</Say>"
                                                "<Pause length=\"60\"/></Response>")
    caller.wait_until(lambda c: "Sorry, closing." in c.said())
    stack.client.calls(caller.sid).update(status="completed")
    caller.wait_ended()
    assert caller.events("hangup") == [("hangup", "rest-completed")]
    assert caller.status == "completed"


def test_caller_out_of_patience_abandons_and_leaves_the_queue(stack: Stack) -> None:
    caller = caller_waiting_in_billing(stack, patience=40)
    caller.wait_ended()
    assert caller.events("hangup") == [("hangup", "patience")]
    assert stack.network.queue_size("billing") == 0
    assert stack.hits.wait("/voice/queue-done")["QueueResult"] == "hangup"


def test_app_500_ends_the_call_with_an_http_error_recorded(stack: Stack) -> None:
    caller = stack.network.place_call(CUSTOMER, OUR_NUMBER, voice_url="/voice/broken")
    caller.wait_ended()
    assert [e.kind for e in caller.errors] == ["http"] and "HTTP 500" in caller.errors[0].detail
    assert "application error" in caller.said()
    assert stack.hits.wait("/voice/status", lambda f: f["CallSid"] == caller.sid)


def test_invalid_twiml_ends_the_call_with_a_twiml_error(stack: Stack) -> None:
    caller = stack.network.place_call(CUSTOMER, OUR_NUMBER, voice_url="/voice/not-twiml")
    caller.wait_ended()
    assert [e.kind for e in caller.errors] == ["twiml"]
    assert "Response" in caller.errors[0].detail


def test_wrongly_signed_requests_are_refused_and_the_call_ends_with_an_error(
    stack: Stack,
) -> None:
    forger = PhoneNetwork(stack.base_url, "wrong-token", stack.standin, speed=100)
    try:
        caller = forger.place_call(CUSTOMER, OUR_NUMBER, status_url=None)
        caller.wait_ended()
    finally:
        forger.close()
    assert "HTTP 403" in caller.errors[0].detail
    assert "Welcome to Holdless." not in caller.said()
    assert stack.hits.forms("/voice/incoming") == []


def test_inbound_sms_is_signed_and_gets_the_apps_reply(stack: Stack) -> None:
    reply = stack.network.send_sms(CUSTOMER, OUR_NUMBER, "call me back")
    assert reply.status == 200 and "Thanks, we got your message." in reply.body
    form = stack.hits.wait("/sms/incoming")
    assert form["Body"] == "call me back" and form["MessageSid"].startswith("SM")


def test_audio_wait_url_is_played_while_the_conference_has_not_started(stack: Stack) -> None:
    music = "http://music.example.invalid/hold/BusyStrings.mp3"
    caller = caller_waiting_in_billing(stack)
    stack.client.calls(caller.sid).update(twiml=(
        '<Response><Dial><Conference startConferenceOnEnter="false" '
        f'waitUrl="{music}" waitMethod="GET">room-9</Conference></Dial></Response>'))
    caller.wait_until(lambda c: len(c.events("play")) >= 2 and ("play", music) in c.events())
    assert caller.errors == []
    assert caller.joined_conference == "room-9"


def _ring_out(stack: Stack, to: str) -> str:
    stack.network.register_endpoint(to, answer=Answer.human(after=1), handle_time=5)
    return stack.client.calls.create(
        to=to, from_=OUR_NUMBER, url=f"{stack.base_url}/voice/agent?room=cps",
        status_callback=f"{stack.base_url}/voice/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"]).sid


def test_calls_created_beyond_the_accounts_calls_per_second_wait_queued_and_start_at_that_rate(
        stack: Stack) -> None:
    stack.network.calls_per_second = 0.05  # one call every 20 virtual seconds (0.2 s here)
    before = stack.network.clock.now()
    sids = [_ring_out(stack, f"+1555666000{n}") for n in range(3)]
    assert [stack.client.calls(s).fetch().status for s in sids[1:]] == ["queued", "queued"]
    # when each phone rang, on the network's own clock: the k-th call leaves the queue no
    # sooner than k slots after the first could, however late a loaded machine runs
    # (a real-time poll of the status once saw two calls start 'together')
    calls = [stack.network.call(sid) for sid in sids]
    for call in calls:
        call.wait_until(lambda c: c.state.rang_at is not None, timeout=5)
    rang = [call.state.rang_at for call in calls]
    assert None not in rang
    waited = [float(moment or 0) - before for moment in rang]
    assert waited[1] >= 20 and waited[2] >= 40, waited


def test_a_call_cancelled_while_queued_is_canceled_and_sends_no_status_callback(
        stack: Stack) -> None:
    stack.network.calls_per_second = 0.01  # the second call waits 100 virtual seconds
    first, queued = (_ring_out(stack, f"+1555777000{n}") for n in range(2))
    assert stack.client.calls(queued).fetch().status == "queued"
    assert stack.client.calls(queued).update(status="canceled").status == "canceled"
    stack.network.call(queued).wait_ended()
    assert stack.client.calls(queued).fetch().status == "canceled"
    assert stack.client.calls(first).fetch().status == "in-progress"
    assert [f for f in stack.hits.forms("/voice/status") if f["CallSid"] == queued] == []


def test_a_number_the_account_may_not_call_is_refused_with_twilios_400_error_body(
        stack: Stack) -> None:
    stack.standin.refuse("+33612345678", 21215)
    with pytest.raises(TwilioRestException) as refused:
        stack.client.calls.create(to="+33612345678", from_=OUR_NUMBER,
                                  url=f"{stack.base_url}/voice/agent?room=x")
    assert (refused.value.status, refused.value.code) == (400, 21215)
    body = stack.standin.requests("call-create")[-1]
    assert body.status == 400 and stack.network.calls_to("+33612345678") == []


def test_a_queue_at_its_max_size_refuses_the_next_enqueue_with_queue_full(stack: Stack) -> None:
    stack.client.queues.create(friendly_name="billing", max_size=1)
    first = caller_waiting_in_billing(stack)
    second = stack.network.place_call(CUSTOMER, OUR_NUMBER,
                                      keypresses=answer_when({"press 1": "1"}))
    second.wait_until(lambda c: ("queue-full", "billing") in c.events())
    done = stack.hits.wait("/voice/queue-done", lambda f: f["CallSid"] == second.sid)
    assert done["QueueResult"] == "queue-full"
    assert "QueueSid" not in done and "QueueTime" not in done  # never enqueued
    assert stack.network.queue_size("billing") == 1
    wait = stack.hits.wait("/voice/wait", lambda f: f["CallSid"] == first.sid)
    assert wait["MaxQueueSize"] == "1" and wait["CurrentQueueSize"] == "1"


def test_queues_take_twilios_default_sizes_and_max_size_is_at_most_5000(stack: Stack) -> None:
    caller_waiting_in_billing(stack)  # <Enqueue> creates billing on demand
    made = stack.client.queues.create(friendly_name="support")
    assert made.max_size == 1000 and made.current_size == 0
    listed = {q.friendly_name: q for q in stack.client.queues.list()}
    assert listed["billing"].max_size == 100 and listed["billing"].current_size == 1
    with pytest.raises(TwilioRestException) as refused:
        stack.client.queues(made.sid).update(max_size=5001)
    assert refused.value.status == 400
    assert stack.client.queues(made.sid).update(max_size=5000).max_size == 5000
    assert stack.client.queues(made.sid).fetch().max_size == 5000

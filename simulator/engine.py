"""`PhoneNetwork`: virtual calls and SMS placed onto the app's webhooks, driven in real time.

Inbound calls come from `place_call`; outbound calls appear when the app creates them through
the REST stand-in and ring endpoints registered with `register_endpoint`. Every call runs in
its own thread on a virtual clock `speed` times faster than wall time.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from simulator.call import HangupSignal, RedirectSignal, VirtualCall
from simulator.clock import VirtualClock
from simulator.dialing import DialingRunner
from simulator.endpoints import (
    MACHINE_OUTCOMES,
    Answer,
    AnswerRule,
    Endpoint,
    Keypad,
    KeypressScript,
)
from simulator.resources import (
    CallResource,
    ConferenceResource,
    MessageResource,
    ParticipantResource,
    new_sid,
    rfc2822,
)
from simulator.rest import Form, TwilioRestStandIn
from simulator.rooms import CallQueue, Conference, Participant
from simulator.runner import StatusCallback
from simulator.twiml import Document, Verb, parse_twiml
from simulator.webhooks import REQUEST_TIMEOUT, AppClient, WebhookError, WebhookResponse

# Virtual seconds between an outbound message's status changes (sent, delivered).
MESSAGE_STEP_SECONDS = 1.0
DEFAULT_CALLS_PER_SECOND = 1.0  # a Twilio account's default CPS (call resource docs)
_PARTICIPANT_FLAGS = ("StartConferenceOnEnter", "EndConferenceOnExit", "Muted", "Beep",
                      "WaitUrl", "WaitMethod")


def _one(form: Form, name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _events(values: Iterable[str] | None) -> frozenset[str]:
    """Requested status callback events (always including `completed`)."""
    events = {part for value in values or () for part in value.replace(",", " ").split()}
    return frozenset(events | {"completed"})


@dataclass(frozen=True)
class Detection:
    """Answering-machine detection asked for a call: its mode (Enable or DetectMessageEnd),
    whether asynchronous, and where its result is posted (asynchronous only)."""

    mode: str
    asynchronous: bool
    url: str | None
    method: str


def _detection(form: Form) -> Detection | None:
    """The detection a Calls create request asks for (MachineDetection, AsyncAmd,
    AsyncAmdStatusCallback, AsyncAmdStatusCallbackMethod), or None."""
    mode = _one(form, "MachineDetection")
    if mode not in ("Enable", "DetectMessageEnd"):
        return None
    return Detection(mode, (_one(form, "AsyncAmd") or "").lower() == "true",
                     _one(form, "AsyncAmdStatusCallback"),
                     _one(form, "AsyncAmdStatusCallbackMethod") or "POST")


class PhoneNetwork:
    """Virtual phones, queues and conferences acting on the app as Twilio would."""

    def __init__(self, app_base_url: str, auth_token: str, rest_standin: TwilioRestStandIn,
                 speed: float = 1.0, account_sid: str | None = None,
                 play_seconds: float | Callable[[str], float] = 20.0,
                 hold_music_seconds: float = 20.0, words_per_second: float = 2.5,
                 reaction_time: float = 1.0, enqueue_action_on_redirect: bool = True,
                 unknown_answer: Answer | None = None, voice_fallback_url: str | None = None,
                 voice_fallback_method: str = "POST",
                 webhook_timeout: float = REQUEST_TIMEOUT,
                 status_seed: int | None = 0) -> None:
        """Attach to the app (webhooks) and to the REST stand-in (the app's REST calls).

        `enqueue_action_on_redirect`: Twilio requests an Enqueue's action URL when a call
        is taken out of the queue by the REST API (QueueResult=redirected, answer ignored).
        `voice_fallback_url`, `voice_fallback_method`: the number's voice Fallback URL, as
        on Twilio's IncomingPhoneNumber resource (VoiceFallbackUrl, VoiceFallbackMethod),
        requested when a webhook of a call to the number fails (error 11205 after
        `webhook_timeout`, Twilio's 15 s, with no answer).
        `status_seed`: status callbacks arrive shuffled and some twice, as Twilio may deliver
        them (see runner.STATUS_HELD_BACK_CHANCE), reproducibly for a seed; None: in order.
        """
        self.cond = threading.Condition(threading.RLock())
        self.clock = VirtualClock(speed)
        self.app = AppClient(app_base_url, auth_token, webhook_timeout)
        self.voice_fallback = ((voice_fallback_url, voice_fallback_method.upper())
                               if voice_fallback_url else None)
        self.rest = rest_standin
        self.store = rest_standin.store
        self.account_sid = account_sid or rest_standin.account_sid or "AC" + "0" * 32
        self.play_seconds = play_seconds
        self.hold_music_seconds = hold_music_seconds
        self.words_per_second = words_per_second
        self.reaction_time = reaction_time
        self.empty_wait_pause = 5.0
        self.enqueue_action_on_redirect = enqueue_action_on_redirect
        self.unknown_answer = unknown_answer or Answer.failed()
        # The account's calls per second: calls created through POST /Calls beyond it wait
        # in Twilio's queue as `queued` and are placed at this rate (virtual seconds);
        # docs/voice/api/call-resource, "Calls Per Second": 1 by default.
        self.calls_per_second = DEFAULT_CALLS_PER_SECOND
        self._next_call_slot = 0.0
        self.calls: dict[str, VirtualCall] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.queues: dict[str, CallQueue] = {}
        self.conferences: dict[str, Conference] = {}
        self._status_seeds = None if status_seed is None else random.Random(status_seed)
        self._deliveries: list[threading.Thread] = []  # status callbacks still on their way
        self._attach(rest_standin)

    def _attach(self, rest: TwilioRestStandIn) -> None:
        rest.on_call_create = self._on_call_create
        rest.on_call_update = self._on_call_update
        rest.on_participant_create = self._on_participant_create
        rest.on_participant_update = self._on_participant_update
        rest.on_participant_delete = self._on_participant_delete
        rest.on_message_create = self._on_message_create
        rest.on_recording_end = self._on_recording_end

    # -- lifecycle ---------------------------------------------------------------------

    def close(self, timeout: float = 5.0) -> None:
        """Hang up every live call and wait for their threads to finish."""
        with self.cond:
            calls = list(self.calls.values())
        for call in calls:
            call.signal(HangupSignal("network-closed"))
        deadline = time.monotonic() + timeout
        for call in calls:
            if call.thread is not None:
                call.thread.join(max(0.0, deadline - time.monotonic()))

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait (real seconds) for the message and recording status callbacks already on
        their way to reach the app; True when none is left."""
        deadline = time.monotonic() + timeout
        with self.cond:
            pending = list(self._deliveries)
        for thread in pending:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self.cond:
            self._deliveries = [t for t in self._deliveries if t.is_alive()]
            return not self._deliveries

    def _deliver(self, name: str, deliver: Callable[[], None]) -> None:
        """Post status callbacks from their own thread, remembered until they are done."""
        thread = threading.Thread(target=deliver, name=name, daemon=True)
        with self.cond:
            self._deliveries = [t for t in self._deliveries if t.is_alive()] + [thread]
        thread.start()

    def __enter__(self) -> PhoneNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- configuration and lookups -----------------------------------------------------

    def register_endpoint(self, address: str, answer: AnswerRule | None = None,
                          handle_time: float | None = None,
                          keypresses: KeypressScript = None,
                          record_seconds: float = 5.0) -> Endpoint:
        """Make `address` ("+1555…" or "client:alice") reachable and say how it behaves.

        `handle_time`: virtual seconds the person stays once connected (None: until the
        other side ends).
        """
        endpoint = Endpoint(address, answer or Answer.human(), handle_time, keypresses,
                            record_seconds)
        with self.cond:
            self.endpoints[address] = endpoint
        return endpoint

    def call(self, sid: str) -> VirtualCall:
        """The call with this sid (KeyError if unknown)."""
        with self.cond:
            return self.calls[sid]

    def calls_to(self, address: str) -> list[VirtualCall]:
        """Calls placed to `address`, oldest first."""
        with self.cond:
            return [c for c in self.calls.values() if c.to == address]

    def wait_for_call(self, predicate: Callable[[VirtualCall], bool],
                      timeout: float = 5.0) -> VirtualCall:
        """Block until some call satisfies `predicate`; return it or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for call in self.calls.values():
                    if predicate(call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching call within {timeout}s")
                self.cond.wait(min(remaining, 0.05))

    def queue(self, name: str) -> CallQueue:
        """The named call queue, created on first use (call under the lock)."""
        with self.cond:
            if name not in self.queues:
                # <Enqueue> creates a queue on demand (or uses the one created through REST):
                # twilio.com/docs/voice/twiml/enqueue.
                resource = self.store.ensure_queue(self.account_sid, name)
                self.queues[name] = CallQueue(resource, self.clock)
            return self.queues[name]

    def queue_size(self, name: str) -> int:
        """How many calls wait in the named queue now."""
        with self.cond:
            queue = self.queues.get(name)
            return len(queue.entries) if queue else 0

    def conference_named(self, name: str) -> Conference:
        """The live conference with this friendly name, created if none is live."""
        with self.cond:
            live = self.conferences.get(name)
            if live is None or live.ended:
                resource = self.store.ensure_conference(self.account_sid, name)
                live = Conference(name, resource.sid)
                self.conferences[name] = live
            return live

    def play_duration(self, url: str) -> float:
        """Virtual seconds a <Play> of `url` lasts."""
        return self.play_seconds(url) if callable(self.play_seconds) else self.play_seconds

    def timestamp(self) -> str:
        """Now, formatted as Twilio's callback Timestamp."""
        return rfc2822(datetime.now(UTC))

    def shuffle_status_callbacks(self, seed: int | None) -> None:
        """Deliver status callbacks shuffled and some twice from this seed on (None: in order)."""
        with self.cond:
            self._status_seeds = None if seed is None else random.Random(seed)

    def status_shuffler(self) -> random.Random | None:
        """A seeded source of disorder for one leg's status callbacks (None: in order)."""
        with self.cond:
            seeds = self._status_seeds
            return None if seeds is None else random.Random(seeds.getrandbits(64))

    # -- inbound -----------------------------------------------------------------------

    def place_call(self, from_: str, to: str, keypresses: KeypressScript = None,
                   patience: float | None = None, talk_time: float | None = None,
                   voice_url: str = "/voice/incoming", status_url: str | None = "/voice/status",
                   method: str = "POST", record_seconds: float = 5.0) -> VirtualCall:
        """Place an inbound call from `from_` to the app's number `to`; returns at once.

        `patience`: virtual seconds before the caller gives up unless connected to someone;
        `talk_time`: virtual seconds they stay once connected (None: until the other side ends).
        """
        call = self._new_call(new_sid("CA"), from_, to, "inbound", Keypad(keypresses),
                              talk_time, record_seconds=record_seconds)
        if patience is not None:
            call.state.hangup_at = self.clock.now() + patience
        callback = StatusCallback(self.app.resolve(status_url) if status_url else None)
        runner = DialingRunner(self, call, callback)
        runner.fallback = self.voice_fallback  # the number's, for a call that came in on it

        def life() -> None:
            call.set_status("ringing")
            self.store.update_call(call.sid, status="ringing")
            document = runner.fetch(voice_url, method)
            runner.answer()
            runner.run_main(document)

        self._launch(runner, life)
        return call

    def send_sms(self, from_: str, to: str, body: str,
                 url: str = "/sms/incoming") -> WebhookResponse:
        """Deliver an inbound SMS to the app's messaging webhook; returns the app's answer.
        An opt-out, opt-in or help keyword is applied by Twilio first (with its own reply)
        and still forwarded to the webhook, as Twilio's opt-out keywords page says."""
        self.store.messaging.receive(from_, to, body)
        sid = new_sid("SM")
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid,
                  "AccountSid": self.account_sid, "From": from_, "To": to, "Body": body,
                  "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
                  "ApiVersion": "2010-04-01"}
        return self.app.send(self.app.resolve(url), params)

    def _on_message_create(self, message: MessageResource) -> None:
        """Send a new message's status callbacks (sent, then delivered or its failure)."""
        requests = self.rest.message_callbacks(message.sid)

        def deliver() -> None:
            for url, form in requests:
                time.sleep(self.clock.to_real(MESSAGE_STEP_SECONDS))
                try:
                    self.app.send(self.app.resolve(url), form)
                except WebhookError:
                    continue  # Twilio does not retry a failed status callback

        self._deliver(f"sms-{message.sid}", deliver)

    def deliver_later(self, name: str, url: str, method: str, form: dict[str, str],
                      after: float) -> None:
        """Post `form` to `url` `after` virtual seconds from now, from its own thread (a
        callback whose answer Twilio ignores; a failed one is not retried)."""

        def deliver() -> None:
            time.sleep(self.clock.to_real(after))
            try:
                self.app.send(url, form, method)
            except WebhookError:
                return  # Twilio does not retry a failed status callback

        self._deliver(name, deliver)

    def _on_recording_end(self, requests: list[tuple[str, dict[str, str]]]) -> None:
        """Post the status callbacks of recordings stopped through REST (Recordings
        resource page: RecordingStatusCallback once the recording is completed)."""

        def deliver() -> None:
            for url, form in requests:
                try:
                    self.app.send(self.app.resolve(url), form)
                except WebhookError:
                    continue  # Twilio does not retry a failed status callback

        self._deliver("recording-callbacks", deliver)

    # -- outbound ----------------------------------------------------------------------

    def _new_call(self, sid: str, from_: str, to: str, direction: str, keypad: Keypad,
                  talk_time: float | None = None, parent_sid: str | None = None,
                  record_seconds: float = 5.0) -> VirtualCall:
        call = VirtualCall(sid, self.account_sid, from_, to, direction, self.cond, self.clock,
                           keypad, talk_time, parent_sid)
        call.record_seconds = record_seconds
        if self.store.get_call(sid) is None:
            self.store.add_call(CallResource(sid, self.account_sid, to, from_, direction,
                                             parent_call_sid=parent_sid))
        with self.cond:
            self.calls[sid] = call
            self.cond.notify_all()
        return call

    def _endpoint_call(self, sid: str, from_: str, to: str, direction: str,
                       parent_sid: str | None = None) -> tuple[VirtualCall, Endpoint | None]:
        with self.cond:
            endpoint = self.endpoints.get(to)
        if endpoint is None:
            call = self._new_call(sid, from_, to, direction, Keypad(), parent_sid=parent_sid)
        else:
            call = self._new_call(sid, from_, to, direction, Keypad(endpoint.keypresses),
                                  endpoint.handle_time, parent_sid, endpoint.record_seconds)
        return call, endpoint

    def _launch(self, runner: DialingRunner, life: Callable[[], None]) -> None:
        thread = threading.Thread(target=runner.run, args=(life,), daemon=True,
                                  name=f"call-{runner.call.sid[:10]}")
        runner.call.thread = thread
        thread.start()

    def ring(self, runner: DialingRunner, endpoint: Endpoint | None, timeout: float,
             detection: Detection | None = None) -> bool:
        """Ring the leg's endpoint; True once answered, False with a final status otherwise."""
        call = runner.call
        runner.status_event("initiated")
        call.set_status("ringing")
        self.store.update_call(call.sid, status="ringing")
        runner.status_event("ringing")
        person = getattr(endpoint.answer, "ring", None) if endpoint is not None else None
        if person is not None:  # someone at a page, answering as they click (browser_phones)
            try:
                answer = person(call, timeout)
            except HangupSignal:
                runner.final_status = "canceled"
                raise
        else:
            answer = endpoint.decide(call) if endpoint is not None else self.unknown_answer
        if answer.outcome == "failed":
            runner.final_status = "failed"
            return False
        try:
            call.wait(min(answer.after, timeout), allow_redirect=False)
        except HangupSignal:
            runner.final_status = "canceled"
            raise
        if answer.outcome in ("busy", "no-answer") or answer.after > timeout:
            runner.final_status = "busy" if answer.outcome == "busy" else "no-answer"
            return False
        if answer.outcome in MACHINE_OUTCOMES:
            call.keypad = Keypad()  # a voicemail or fax never presses keys
        call.answered_as = answer.outcome
        runner.answer()
        runner.status_event("answered")
        if detection is not None:
            self._detect(runner, answer, detection)
        return True

    def _detect(self, runner: DialingRunner, answer: Answer, detection: Detection) -> None:
        """Answering-machine detection (docs /docs/voice/answering-machine-detection).
        Synchronous: the call stays silent while detection listens, then its Url is
        requested with AnsweredBy. AsyncAmd=true: the Url is requested at once (without
        AnsweredBy) and AnsweredBy is posted to AsyncAmdStatusCallback when detection ends."""
        call, answered_by = runner.call, answer.detected_as(detection.mode)
        if not detection.asynchronous:
            call.wait(answer.detect_after, allow_redirect=False)
            runner.answered_by = answered_by
            self.store.update_call(call.sid, answered_by=answered_by)
            return

        def report() -> None:
            if not self._sleep_while_live(call, answer.detect_after) or not detection.url:
                return  # no AsyncAmdStatusCallback: Twilio warns 21262, results on the Call
            self.store.update_call(call.sid, answered_by=answered_by)
            runner.notify(detection.url, detection.method, {
                "AnsweredBy": answered_by,
                "MachineDetectionDuration": str(int(answer.detect_after * 1000))},
                kind="amd-callback")

        threading.Thread(target=report, daemon=True, name=f"amd-{call.sid[:10]}").start()

    def _sleep_while_live(self, call: VirtualCall, seconds: float) -> bool:
        """Let `seconds` virtual seconds pass; False if the call ended meanwhile."""
        end = self.clock.now() + seconds
        with self.cond:
            while not call.ended and self.clock.now() < end:
                self.cond.wait(min(max(self.clock.to_real(end - self.clock.now()), 0.0005),
                                   0.05))
            return not call.ended

    def _on_call_create(self, resource: CallResource, form: Form) -> None:
        call, endpoint = self._endpoint_call(resource.sid, resource.from_, resource.to,
                                             "outbound-api")
        callback = StatusCallback(_one(form, "StatusCallback"),
                                  _one(form, "StatusCallbackMethod") or "POST",
                                  _events(form.get("StatusCallbackEvent")))
        runner = DialingRunner(self, call, callback)
        timeout = float(_one(form, "Timeout") or 60)
        slot = self._take_call_slot()

        detection = _detection(form)

        def life() -> None:
            self._wait_in_cps_queue(runner, slot)
            if not self.ring(runner, endpoint, timeout, detection):
                return
            twiml = _one(form, "Twiml")
            if twiml:
                document = parse_twiml(twiml, self.app.base_url)
            else:
                document = runner.fetch(_one(form, "Url") or "", _one(form, "Method"))
            runner.run_main(document)

        self._launch(runner, life)

    def _take_call_slot(self) -> float:
        """The virtual moment a newly created call leaves the account's CPS queue."""
        with self.cond:
            slot = max(self.clock.now(), self._next_call_slot)
            self._next_call_slot = slot + 1.0 / self.calls_per_second
            return slot

    def _wait_in_cps_queue(self, runner: DialingRunner, slot: float) -> None:
        """Stay `queued` until the call's slot; a call ended while queued is `canceled`
        and, as on Twilio, sends no status callback at all."""
        wait = slot - self.clock.now()
        if wait <= 0:
            return
        runner.call.log("queued", f"{wait:.2f}")
        try:
            runner.call.wait(wait, allow_redirect=False)
        except HangupSignal:
            runner.final_status, runner.silent_end = "canceled", True
            raise

    def start_dial_leg(self, parent: DialingRunner, verb: Verb, noun: Verb, address: str,
                       room: Conference, relative_to: str) -> VirtualCall:
        """Start the dialled leg of a <Dial><Number|Client>; it joins `room` once answered."""
        caller_id = verb.attr("callerId") or parent.call.from_
        call, endpoint = self._endpoint_call(new_sid("CA"), caller_id, address, "outbound-dial",
                                             parent.call.sid)
        status_url = noun.attr("statusCallback")
        callback = StatusCallback(
            self.app.resolve(status_url, relative_to) if status_url else None,
            noun.attr("statusCallbackMethod") or "POST",
            _events([noun.attr("statusCallbackEvent") or ""]))
        runner = DialingRunner(self, call, callback)
        whisper_url = noun.attr("url")

        def life() -> None:
            if not self.ring(runner, endpoint, verb.number("timeout", 30)):
                return
            whisper = None
            if whisper_url:
                whisper = runner.fetch(whisper_url, noun.attr("method"), relative_to=relative_to)
            runner.bridge_answered(room, whisper)

        self._launch(runner, life)
        return call

    # -- REST hooks --------------------------------------------------------------------

    def _on_call_update(self, resource: CallResource, form: Form) -> None:
        with self.cond:
            call = self.calls.get(resource.sid)
        if call is None:
            return
        status = _one(form, "Status")
        if status in ("completed", "canceled"):
            call.signal(HangupSignal(f"rest-{status}"))
            return
        url, twiml = _one(form, "Url"), _one(form, "Twiml")
        if url or twiml:
            call.signal(RedirectSignal(url, _one(form, "Method") or "POST", twiml))

    def _on_participant_create(self, conference: ConferenceResource, resource: CallResource,
                               form: Form) -> None:
        call, endpoint = self._endpoint_call(resource.sid, resource.from_, resource.to,
                                             "outbound-api")
        callback = StatusCallback(_one(form, "StatusCallback"),
                                  _one(form, "StatusCallbackMethod") or "POST",
                                  _events(form.get("StatusCallbackEvent")))
        runner = DialingRunner(self, call, callback)
        attrs = {name[0].lower() + name[1:]: value for name in _PARTICIPANT_FLAGS
                 if (value := _one(form, name)) is not None}
        if _one(form, "CallSidToCoach") and (_one(form, "Coaching") or "true") == "true":
            attrs["coach"] = _one(form, "CallSidToCoach") or ""  # <Conference coach="CA...">
        noun = Verb("Conference", attrs, conference.friendly_name)
        timeout = float(_one(form, "Timeout") or 60)

        def life() -> None:
            if not self.ring(runner, endpoint, timeout):
                return
            runner.dial_conference(noun, Document(self.app.base_url, ()))
            raise HangupSignal("conference-ended")

        self._launch(runner, life)

    def _live_participant(self, conference: ConferenceResource,
                          call_sid: str) -> Participant | None:
        with self.cond:
            live = self.conferences.get(conference.friendly_name)
            if live is None or live.sid != conference.sid:
                return None
            return live.participants.get(call_sid)

    def _on_participant_update(self, conference: ConferenceResource,
                               participant: ParticipantResource, form: Form) -> None:
        live = self._live_participant(conference, participant.call_sid)
        if live is None:
            return
        with self.cond:
            for name, attr in (("Hold", "hold"), ("Muted", "muted"),
                               ("EndConferenceOnExit", "end_on_exit")):
                value = _one(form, name)
                if value is not None:
                    setattr(live, attr, value.lower() == "true")
                    live.call.log("participant-update", name, value.lower())
            if _one(form, "Coaching") is not None or _one(form, "CallSidToCoach") is not None:
                live.coaching = participant.coached_call()
                live.call.log("participant-update", "Coaching", str(live.coaching))
            self.cond.notify_all()

    def _on_participant_delete(self, conference: ConferenceResource,
                               participant: ParticipantResource, form: Form) -> None:
        live = self._live_participant(conference, participant.call_sid)
        if live is None:
            return
        with self.cond:
            live.removed = True
            self.cond.notify_all()

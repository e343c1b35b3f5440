"""`CallRunner`: executes one call leg's life in its own thread, TwiML verb by verb."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from simulator.call import HangupSignal, RedirectSignal, ScopeExit, VirtualCall
from simulator.clock import VirtualClock
from simulator.resources import ResourceStore, new_sid
from simulator.rest import TwilioRestStandIn
from simulator.rooms import CallQueue, QueueEntry
from simulator.twiml import (
    QUEUE_WAIT_VERBS,
    VERBS,
    Document,
    TwimlError,
    Verb,
    parse_twiml,
)
from simulator.webhooks import AppClient, WebhookError

APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
# Status callbacks are sent asynchronously: they may arrive in any order (their SequenceNumber
# tells the order they were sent in) and may be delivered more than once (Twilio retries a
# request it thinks failed). www.twilio.com/docs/voice/api/call-resource#statuscallbackevent,
# www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides. The stand-in holds back
# a report with this chance (it then arrives after later ones, the final one included) and
# sends a report twice with the other.
STATUS_HELD_BACK_CHANCE = 0.5
FAKE_AUDIO = b"ID3\x03\x00\x00\x00\x00\x00\x00"  # the start of an MP3 file, then the sid
STATUS_REPEATED_CHANCE = 0.25
# Virtual seconds Twilio takes to process a <Record>'s file before its recordingStatusCallback.
RECORDING_PROCESSING_SECONDS = 2.0
STATUS_FOR_EVENT = {"initiated": "queued", "ringing": "ringing", "answered": "in-progress"}


class LeaveQueue(Exception):  # noqa: N818 - control flow
    """A <Leave> verb ran while the call waits in a queue."""


@dataclass(frozen=True)
class StatusCallback:
    """Where and for which events a leg reports its progress."""

    url: str | None = None
    method: str = "POST"
    events: frozenset[str] = frozenset({"completed"})


class Network(Protocol):
    """What a call runner needs of the phone network it runs on (`engine.PhoneNetwork`)."""

    cond: threading.Condition
    clock: VirtualClock
    app: AppClient
    rest: TwilioRestStandIn
    store: ResourceStore
    words_per_second: float
    reaction_time: float
    hold_music_seconds: float
    empty_wait_pause: float
    enqueue_action_on_redirect: bool

    def queue(self, name: str) -> CallQueue:
        """The named call queue, created on first use."""

    def play_duration(self, url: str) -> float:
        """Virtual seconds a <Play> of `url` lasts."""

    def timestamp(self) -> str:
        """Now, formatted as Twilio's callback Timestamp."""

    def status_shuffler(self) -> random.Random | None:
        """A seeded source of disorder for one leg's status callbacks (None: in order)."""

    def deliver_later(self, name: str, url: str, method: str, form: dict[str, str],
                      after: float) -> None:
        """Post `form` to `url` `after` virtual seconds from now, from its own thread."""


class CallRunner:
    """Runs a call leg: ringing, fetching TwiML, executing verbs, final status callback."""

    def __init__(self, net: Network, call: VirtualCall, callback: StatusCallback) -> None:
        """Bind a call to the network it lives on."""
        self.net = net
        self.call = call
        self.callback = callback
        self.final_status: str | None = None
        # Ended without any status callback (a call cancelled in the account's CPS queue).
        self.silent_end = False
        self.answered_by: str | None = None
        self.in_queue = False
        self._sequence = 0
        self._sender: ThreadPoolExecutor | None = None
        # The number's voice Fallback URL and method (IncomingPhoneNumber VoiceFallbackUrl,
        # VoiceFallbackMethod) for a call that came in on it; None: Twilio's application error.
        self.fallback: tuple[str, str] | None = None
        self._held: list[dict[str, str]] = []
        self._disorder = net.status_shuffler()

    # -- life cycle --------------------------------------------------------------------

    def run(self, body: Callable[[], None]) -> None:
        """Thread target: run `body`, turning signals and app errors into the call's end."""
        reason = "end-of-document"
        try:
            body()
        except HangupSignal as signal:
            reason = signal.reason
        except (WebhookError, TwimlError) as error:
            reason = "application-error"
            self._application_error(error)
        except Exception as error:  # noqa: BLE001 - a simulator bug must still end the call
            reason = "simulator-error"
            self.call.fail("simulator", "", repr(error))
        self._finish(reason)

    def _application_error(self, error: WebhookError | TwimlError) -> None:
        url = error.url if isinstance(error, WebhookError) else ""
        kind = "twiml" if isinstance(error, TwimlError) or "TwiML" in str(error) else "http"
        self.call.fail(kind, url, str(error))
        if self.call.state.answered_at is None and self.call.direction == "inbound":
            self.answer()
        if self.call.state.answered_at is not None:
            self.call.log("say", APPLICATION_ERROR)

    def _finish(self, reason: str) -> None:
        call, net = self.call, self.net
        with net.cond:
            call.state.ended_at = net.clock.now()
            answered = call.state.answered_at is not None
            status = self.final_status or ("completed" if answered else "canceled")
            call.state.status = status
            call.state.joined_conference = None
        call.log("hangup", reason)
        net.store.update_call(call.sid, status=status, duration=call.duration())
        if not self.silent_end:
            self.status_event("completed", status)
        self.drain_status_callbacks()
        self._post_recordings(net.rest.end_recordings(call.sid))
        with net.cond:
            call.state.finished = True
            net.cond.notify_all()

    def _post_recordings(self, callbacks: list[tuple[str, dict[str, str]]]) -> None:
        """The call's REST-started recordings are over with it: post their status
        callbacks (twilio.com/docs/voice/api/recording#recordingstatuscallback)."""
        for url, form in callbacks:
            try:
                self.net.app.send(self.net.app.resolve(url), form)
            except WebhookError as error:
                self.call.fail("recording-callback", url, str(error), fatal=False)

    def answer(self) -> None:
        """Mark the call answered (in progress)."""
        with self.net.cond:
            self.call.state.answered_at = self.net.clock.now()
        self.call.set_status("in-progress")
        self.net.store.update_call(self.call.sid, status="in-progress",
                                   answered_by=self.answered_by)

    # -- requests to the app -----------------------------------------------------------

    def params(self, extra: dict[str, str] | None = None,
               standard_only: bool = False) -> dict[str, str]:
        """Twilio's standard voice request parameters plus `extra`; `standard_only`: the
        standard ones alone (www.twilio.com/docs/voice/twiml#request-parameters)."""
        call = self.call
        params = {
            "CallSid": call.sid, "AccountSid": call.account_sid, "From": call.from_,
            "To": call.to, "Caller": call.from_, "Called": call.to,
            "CallStatus": call.status, "Direction": call.direction, "ApiVersion": "2010-04-01",
        }
        if call.parent_sid:
            params["ParentCallSid"] = call.parent_sid
        if standard_only:
            return params
        if self.answered_by:
            params["AnsweredBy"] = self.answered_by
        params.update(extra or {})
        return params

    def fetch(self, url: str, method: str | None, extra: dict[str, str] | None = None,
              relative_to: str | None = None, standard_only: bool = False) -> Document:
        """Request TwiML from the app; when that fails, the number's Fallback URL (if any);
        errors propagate and end the call."""
        absolute = self.net.app.resolve(url, relative_to)
        try:
            return self.net.app.fetch_twiml(absolute, self.params(extra, standard_only),
                                            method or "POST")
        except WebhookError as error:
            if self.fallback is None:
                raise
            return self._fetch_fallback(error, absolute)

    def _fetch_fallback(self, error: WebhookError, failed_url: str) -> Document:
        """The failed request is noted (its error code in the call's notifications) and the
        Fallback URL requested at once with the call's parameters, ErrorCode and ErrorUrl;
        its TwiML continues the call (twilio.com/docs/usage/security/availability-reliability,
        twilio.com/docs/api/errors/11205)."""
        assert self.fallback is not None
        self.call.fail(f"http-{error.code}", failed_url, str(error), fatal=False)
        url, method = self.fallback
        extra = {"ErrorCode": error.code, "ErrorUrl": failed_url}
        return self.net.app.fetch_twiml(self.net.app.resolve(url), self.params(extra), method)

    def notify(self, url: str, method: str | None, extra: dict[str, str],
               relative_to: str | None = None, kind: str = "callback") -> None:
        """Tell the app something whose answer Twilio ignores; failures are logged, not fatal."""
        absolute = self.net.app.resolve(url, relative_to)
        if kind == "status-callback":
            with self.net.cond:
                self.call.status_reports.append((extra["CallStatus"],
                                                 int(extra["SequenceNumber"])))
        try:
            self.net.app.send(absolute, self.params(extra), method or "POST")
        except WebhookError as error:
            self.call.fail(kind, absolute, str(error), fatal=False)

    def status_event(self, event: str, final_status: str | None = None) -> None:
        """Send a call-progress status callback if the leg asked for this event."""
        if not self.callback.url or event not in self.callback.events:
            return
        self._sequence += 1
        extra = {"CallStatus": final_status or STATUS_FOR_EVENT[event],
                 "CallbackSource": "call-progress-events",
                 "SequenceNumber": str(self._sequence - 1),
                 "Timestamp": self.net.timestamp()}
        if event == "completed":
            extra["CallDuration"] = str(self.call.duration())
            extra["Duration"] = str((self.call.duration() + 59) // 60)
        self._held.append(extra)
        disorder = self._disorder
        if disorder is not None and event != "completed" \
                and disorder.random() < STATUS_HELD_BACK_CHANCE:
            return  # delivered later, after reports sent after it
        batch, self._held = self._held, []
        if disorder is not None:
            disorder.shuffle(batch)
            batch += [dict(e) for e in batch if disorder.random() < STATUS_REPEATED_CHANCE]
        url, method = self.callback.url, self.callback.method
        for report in batch:  # Twilio does not hold the call up while it reports progress
            self._status_sender().submit(self.notify, url, method, report,
                                         kind="status-callback")
        if event == "completed":
            self.drain_status_callbacks()

    def _status_sender(self) -> ThreadPoolExecutor:
        if self._sender is None:
            self._sender = ThreadPoolExecutor(max_workers=1,
                                              thread_name_prefix=f"status-{self.call.sid[:10]}")
        return self._sender

    def drain_status_callbacks(self) -> None:
        """Wait until every progress callback sent so far has been delivered."""
        if self._sender is not None:
            self._sender.shutdown(wait=True)
            self._sender = None

    # -- documents ---------------------------------------------------------------------

    def run_main(self, document: Document | None) -> None:
        """Execute documents until one ends without a successor, then hang up."""
        while document is not None:
            try:
                document = self.execute(document, VERBS, "the call")
            except RedirectSignal as redirect:
                document = self.follow(redirect)
        raise HangupSignal("end-of-document")

    def follow(self, redirect: RedirectSignal) -> Document:
        """The document a REST update points the call at."""
        self.call.log("redirected", redirect.url or "twiml")
        if redirect.twiml is not None:
            return parse_twiml(redirect.twiml, self.net.app.base_url)
        assert redirect.url is not None  # a REST redirect posts the standard parameters
        # (www.twilio.com/docs/voice/api/call-resource#update-a-call-resource)
        return self.fetch(redirect.url, redirect.method, standard_only=True)

    def run_restricted(self, document: Document | None, allowed: frozenset[str],
                       where: str) -> None:
        """Execute a chain of documents (redirects, Gather actions) limited to `allowed` verbs."""
        while document is not None:
            document = self.execute(document, allowed, where)

    def execute(self, document: Document, allowed: frozenset[str],
                where: str) -> Document | None:
        """Run a document's verbs; return the next document if one takes over, else None."""
        for verb in document.verbs:
            if verb.name not in allowed:
                raise TwimlError(f"<{verb.name}> is not allowed in {where}")
            self.call.check()
            handler = getattr(self, f"verb_{verb.name.lower()}")
            successor: Document | None = handler(verb, document)
            if successor is not None:
                return successor
        return None

    # -- simple verbs ------------------------------------------------------------------

    def _loops(self, verb: Verb) -> int:
        loops = int(verb.number("loop", 1))
        return loops if loops > 0 else 10**9

    def verb_say(self, verb: Verb, document: Document) -> None:
        """Speak text: recorded in the transcript, taking its reading time."""
        seconds = max(0.5, len(verb.text.split()) / self.net.words_per_second)
        for _ in range(self._loops(verb)):
            self.call.log("say", verb.text)
            self.call.wait(seconds)

    def verb_play(self, verb: Verb, document: Document) -> None:
        """Play audio for its (configured) virtual duration."""
        for _ in range(self._loops(verb)):
            self.call.log("play", verb.text)
            self.call.wait(self.net.play_duration(verb.text))

    def verb_pause(self, verb: Verb, document: Document) -> None:
        """Silence for `length` seconds (default 1)."""
        length = verb.number("length", 1)
        self.call.log("pause", f"{length:g}")
        self.call.wait(length)

    def verb_redirect(self, verb: Verb, document: Document) -> Document:
        """Continue with the document at the given URL. The request carries the standard
        call parameters only: no Digits, QueueResult, AnsweredBy or RecordingUrl of an
        earlier request (www.twilio.com/docs/voice/twiml/redirect)."""
        self.call.log("redirect", verb.text)
        return self.fetch(verb.text, verb.attr("method"), relative_to=document.url,
                          standard_only=True)

    def verb_hangup(self, verb: Verb, document: Document) -> None:
        """End the call."""
        raise HangupSignal("twiml-hangup")

    def verb_reject(self, verb: Verb, document: Document) -> None:
        """Refuse the call (busy or not answered)."""
        reason = verb.attr("reason", "rejected") or "rejected"
        self.call.log("reject", reason)
        self.final_status = "busy" if reason == "busy" else "no-answer"
        raise HangupSignal("twiml-reject")

    def verb_leave(self, verb: Verb, document: Document) -> None:
        """Leave the queue the call waits in; outside a queue it does nothing."""
        self.call.log("leave")
        if self.in_queue:
            raise LeaveQueue()

    def verb_sms(self, verb: Verb, document: Document) -> None:
        """The long-deprecated <Sms> verb: recorded only."""
        self.call.log("sms", verb.text)

    def verb_connect(self, verb: Verb, document: Document) -> None:
        """<Connect> (streams, rooms) is not simulated."""
        raise TwimlError("<Connect> is not simulated")

    # -- Gather and Record -------------------------------------------------------------

    def verb_gather(self, verb: Verb, document: Document) -> Document | None:
        """Play the prompts, collect the caller's digits, post them to the action URL."""
        num_digits = int(verb.number("numDigits", 0)) or None
        with self.call.gathering():
            digits, finished_on = self.collect_digits(verb, document, num_digits)
        self.call.log("gather", digits)
        if not digits and not verb.flag("actionOnEmptyResult", False):
            return None
        extra = {"Digits": digits}
        if finished_on:
            extra["FinishedOnKey"] = finished_on
        return self.fetch(verb.attr("action") or document.url, verb.attr("method"), extra,
                          relative_to=document.url)

    def collect_digits(self, verb: Verb, document: Document,
                       num_digits: int | None) -> tuple[str, str]:
        """Digits keyed in at a Gather, and the finish key if one ended it."""
        wants_dtmf = "dtmf" in (verb.attr("input") or "dtmf")
        try:
            with self.call.scope(lambda: wants_dtmf and self.call.peek_digits() != "") as token:
                for child in verb.children:
                    self.call.check()
                    getattr(self, f"verb_{child.name.lower()}")(child, document)
        except ScopeExit as exit_:
            if exit_.token != token:
                raise
        if not wants_dtmf:
            self.call.wait(verb.number("timeout", 5))
            return "", ""
        timeout = verb.number("timeout", 5)
        if not self.call.peek_digits():
            prompt = " ".join(c.text for c in verb.children if c.name == "Say")
            # a <Gather> nests <Say>, <Play> and <Pause> (twilio.com/docs/voice/twiml/gather)
            played = tuple(c.text for c in verb.children if c.name == "Play")
            scripted = self.call.keypad.respond(self.call, prompt, num_digits, played)
            if scripted and self.net.reaction_time >= timeout:
                # the timeout runs from the end of the nested verbs: a caller slower than
                # it presses after the Gather ended (www.twilio.com/docs/voice/twiml/gather#timeout)
                self.call.wait(timeout)
                self.call.log("key-too-late", scripted)
                return "", ""
            if scripted:
                self.call.wait(self.net.reaction_time)
                self.call.press(scripted)
                timeout -= self.net.reaction_time
        finish = verb.attr("finishOnKey", "#") or ""
        return self.await_digits(num_digits, timeout, finish)

    def await_digits(self, num_digits: int | None, timeout: float,
                     finish: str) -> tuple[str, str]:
        """Wait for digits until enough arrive, the finish key, or `timeout` of silence."""
        got = ""
        while True:
            if not self.call.wait(timeout, until=lambda: self.call.peek_digits() != ""):
                return got, ""
            got += self.call.take_digits()
            if finish and finish in got:
                return got.split(finish)[0], finish
            if num_digits and len(got) >= num_digits:
                return got[:num_digits], ""

    def verb_record(self, verb: Verb, document: Document) -> Document | None:
        """Record the caller for their record time (capped by maxLength), then post the
        result to the action. The recordingStatusCallback comes later, once Twilio has
        processed the file, after the action's request (www.twilio.com/docs/voice/twiml/record,
        recordingStatusCallback: "when the recording is available"; recordings "require
        post-processing, and may not always be ready right away": Twilio's help article
        "Getting Started with Recording Status Callbacks"). The caller ends their message
        with the pound key (Digits "#"); a caller hanging up instead still has the audio so
        far posted to the action (Digits "hangup", the answer ignored), then reported."""
        seconds = min(self.call.record_seconds, verb.number("maxLength", 3600))
        self.call.log("record", f"{seconds:g}")
        started, began = self.net.clock.now(), self.net.timestamp()
        action = verb.attr("action") or document.url
        try:
            self.call.wait(seconds)
        except HangupSignal:
            heard = self._new_recording(self.net.clock.now() - started)
            self.notify(action, verb.attr("method"), {**heard, "Digits": "hangup"},
                        relative_to=document.url, kind="record-action")
            self._recording_processed(verb, document, heard, began)
            raise
        extra = {**self._new_recording(seconds), "Digits": "#"}
        following = self.fetch(action, verb.attr("method"), extra, relative_to=document.url)
        self._recording_processed(verb, document, extra, began)
        return following

    def _new_recording(self, seconds: float) -> dict[str, str]:
        """A stored recording of `seconds`: the action's RecordingSid, Url and Duration."""
        sid = new_sid("RE")
        return {"RecordingSid": sid, "RecordingDuration": str(int(seconds)),
                "RecordingUrl": self.net.rest.add_recording(self.call.account_sid, sid,
                                                            FAKE_AUDIO + sid.encode())}

    def _recording_processed(self, verb: Verb, document: Document,
                             recording: dict[str, str], began: str) -> None:
        """The <Record>'s recordingStatusCallback (if asked), sent RECORDING_PROCESSING_SECONDS
        later from its own thread, with the parameters Twilio documents for it."""
        callback = verb.attr("recordingStatusCallback")
        if not callback:
            return
        form = {"AccountSid": self.call.account_sid, "CallSid": self.call.sid,
                "RecordingSid": recording["RecordingSid"],
                "RecordingUrl": recording["RecordingUrl"], "RecordingStatus": "completed",
                "RecordingDuration": recording["RecordingDuration"], "RecordingChannels": "1",
                "RecordingSource": "RecordVerb", "RecordingStartTime": began}
        self.net.deliver_later(f"record-{recording['RecordingSid']}",
                               self.net.app.resolve(callback, document.url),
                               verb.attr("recordingStatusCallbackMethod") or "POST", form,
                               RECORDING_PROCESSING_SECONDS)

    # -- Enqueue -----------------------------------------------------------------------

    def verb_enqueue(self, verb: Verb, document: Document) -> Document | None:
        """Wait in a named queue, running the wait URL, until Leave, hang-up or redirect."""
        name = verb.text or verb.attr("name") or ""
        with self.net.cond:
            queue = self.net.queue(name)
            entry = None if queue.full() else queue.join(self.call)
        if entry is None:
            return self._queue_full(verb, document, queue)
        self.call.log("enqueue", name)
        started = self.net.clock.now()
        self.in_queue = True
        try:
            self.wait_in_queue(verb, document, queue, entry)
        except LeaveQueue:
            result = "leave"
            self._dequeue(queue, entry, result)
        except HangupSignal:
            self._dequeue(queue, entry, "hangup")
            self._enqueue_action(verb, document, queue.sid, started, "hangup", notify_only=True)
            raise
        except RedirectSignal:
            self._dequeue(queue, entry, "redirected")
            if self.net.enqueue_action_on_redirect:
                self._enqueue_action(verb, document, queue.sid, started, "redirected",
                                     notify_only=True)
            raise
        finally:
            self._dequeue(queue, entry, "error")
        return self._enqueue_action(verb, document, queue.sid, started, result)

    def _queue_full(self, verb: Verb, document: Document, queue: CallQueue) -> Document | None:
        """A queue at its maximum size refuses the call: the Enqueue ends with QueueResult
        queue-full to its action URL (without QueueSid and QueueTime, sent only "if the call
        was actually enqueued"), or falls through to the next verb without one
        (twilio.com/docs/voice/twiml/enqueue, "QueueResult values"; warning 14207)."""
        self.call.log("queue-full", queue.name)
        action = verb.attr("action")
        if not action:
            return None
        return self.fetch(action, verb.attr("method"), {"QueueResult": "queue-full"},
                          relative_to=document.url)

    def _dequeue(self, queue: CallQueue, entry: QueueEntry, result: str) -> None:
        with self.net.cond:
            present = entry in queue.entries
            queue.remove(entry)
            self.net.cond.notify_all()
        if present:
            self.call.log("dequeue", queue.name, result)
        self.in_queue = False

    def _enqueue_action(self, verb: Verb, document: Document, queue_sid: str, started: float,
                        result: str, notify_only: bool = False) -> Document | None:
        action = verb.attr("action")
        if not action:
            return None
        extra = {"QueueResult": result, "QueueSid": queue_sid,
                 "QueueTime": str(int(self.net.clock.now() - started))}
        if notify_only:
            self.notify(action, verb.attr("method"), extra, document.url, kind="enqueue-action")
            return None
        return self.fetch(action, verb.attr("method"), extra, relative_to=document.url)

    def wait_in_queue(self, verb: Verb, document: Document, queue: CallQueue,
                      entry: QueueEntry) -> None:
        """Loop the wait URL's TwiML (or hold music) while the call stays queued."""
        wait_url = verb.attr("waitUrl")
        while True:
            lap = self.net.clock.now()
            if wait_url:
                with self.net.cond:
                    extra = queue.wait_params(entry)
                wait_doc = self.fetch(wait_url, verb.attr("waitUrlMethod"), extra,
                                      relative_to=document.url)
                self.run_restricted(wait_doc, QUEUE_WAIT_VERBS, "an Enqueue waitUrl")
            else:
                self.call.log("play", "hold-music")
                self.call.wait(self.net.hold_music_seconds)
            if self.net.clock.now() - lap < 1.0:
                self.call.wait(self.net.empty_wait_pause)

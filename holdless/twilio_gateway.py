"""The one place Holdless makes REST calls to Twilio (or to the local stand-in)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from holdless.pacer import DialPacer
from holdless.settings import Settings

__all__ = ["RECORDING_URL", "RESPONSE_FIELDS_READ", "CallState", "DialRefused", "MonitorMode",
           "PlacedCall", "TwilioGateway", "TwilioRestException", "is_call_gone"]

# Limits of our REST calls to Twilio.
AGENT_RING_TIMEOUT_SECONDS = 20
TWILIO_HTTP_TIMEOUT_SECONDS = 10
# Twilio's host for REST and recording media, when TWILIO_API_BASE_URL does not name another.
TWILIO_API_HOST = "https://api.twilio.com"
# A RecordingUrl as Twilio posts it: https, Twilio's host, the account's recording.
RECORDING_URL = re.compile(r"^https://api\.twilio\.com/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})"
                           r"/Recordings/(RE[0-9a-fA-F]{32})(?:\.mp3|\.wav)?$")
RECORDING_FETCH_TIMEOUT_SECONDS = 10


class NotARecording(ValueError):
    """The URL is not a recording of this account on Twilio's host."""
# Looking for a call already placed (before dialling again a leg with no sign of a call):
# how much earlier than our record of the leg Twilio's clock may date the call.
PLACED_CALL_CLOCK_SLACK_SECONDS = 5

# Twilio's answer when a call sid is not (or no longer) known to it.
CALL_NOT_FOUND_STATUS = 404
# Twilio's answers that mean "that call is not there any more": not found (20404), or not
# in progress so it cannot be redirected or ended (21220). See the Call resource page.
CALL_GONE_STATUSES = (CALL_NOT_FOUND_STATUS,)
CALL_GONE_CODES = (20404, 21220)
# Twilio's refusals of a text: the customer replied STOP (21610), and the number cannot
# receive texts (21614 not a mobile number, 21635 a landline). Error pages:
# https://www.twilio.com/docs/api/errors/21610 , /21614 , /21635
SMS_OPTED_OUT_CODE = 21610
SMS_NOT_MOBILE_CODES = (21614, 21635)


# Twilio's answers (HTTP 400 with its error body: code, message, more_info, status) when it
# will not place a call at all; retrying the same call can only be refused again. Each
# code's page is https://www.twilio.com/docs/api/errors/<code>:
DIAL_REFUSED_CODES = {
    21215: "the account's geographic permissions do not allow calling this number",
    21210: "the caller ID is not a number verified for the account",
    21212: "the caller ID is not a valid phone number",
    21216: "Twilio blocks calls to this number",
    21217: "the number does not appear to be a valid phone number",
    13224: "Twilio does not support calling this number, or it is invalid",
}
DIAL_REFUSED_STATUS = 400
# The refusals that are about our own caller ID (the call's From), not the number called.
CALLER_ID_REFUSED_CODES = frozenset({21210, 21212})


class DialRefused(TwilioRestException):
    """Twilio refused to place a call (one of DIAL_REFUSED_CODES); `reason` says why in
    plain words, with the code."""

    def __init__(self, exc: TwilioRestException) -> None:
        super().__init__(exc.status, exc.uri, exc.msg, exc.code, exc.method, exc.details)
        self.reason = f"Twilio refused the call ({exc.code}): {DIAL_REFUSED_CODES[exc.code or 0]}"
        # Our caller ID was refused (TWILIO_CALLER_ID): the number called is not to blame.
        self.blames_caller_id = exc.code in CALLER_ID_REFUSED_CODES


def is_dial_refused(exc: TwilioRestException) -> bool:
    """Whether Twilio answered a call-create with one of its refusals (not a fault to retry)."""
    return exc.status == DIAL_REFUSED_STATUS and exc.code in DIAL_REFUSED_CODES


# Every field of Twilio's JSON answers this module reads, by the operation (Twilio's
# operationId in its OpenAPI description) that answers it; for a list, fields of its
# records. tests/unit/test_twilio_contract.py checks each is documented there
# (simulator/twilio_api_v2010_used.json) and that every such field read here is listed.
RESPONSE_FIELDS_READ: dict[str, tuple[str, ...]] = {
    "CreateCall": ("sid",),
    "FetchCall": ("status", "end_time"),
    "UpdateCall": ("status",),  # end_leg: `canceled` for a call ended while still queued
    "ListCall": ("sid", "status", "date_created", "direction"),
    "ListConference": ("sid",),
    "CreateParticipant": ("call_sid",),
    "CreateMessage": ("sid",),
    "ListQueue": ("sid", "friendly_name", "max_size"),
    "CreateCallRecording": ("sid",),
}

# A recording Twilio does not know (any more): deleting it again is done already.
RECORDING_NOT_FOUND_STATUS = 404


def is_call_gone(exc: TwilioRestException) -> bool:
    """Whether Twilio refused because the call is no longer there (already over)."""
    return exc.status in CALL_GONE_STATUSES or exc.code in CALL_GONE_CODES


@dataclass(frozen=True)
class MonitorMode:
    """How a supervisor is in a conference: `listen_only` (muted: heard by nobody), coaching
    `coach_call_sid` (heard by that agent only), or neither (barge: heard by all)."""

    listen_only: bool
    coach_call_sid: str | None = None

    def parameters(self) -> dict[str, object]:
        """The Participant resource's parameters for this mode (twilio-python names)."""
        coaching = self.coach_call_sid is not None
        extra = {"call_sid_to_coach": self.coach_call_sid} if coaching else {}
        return {"muted": self.listen_only, "coaching": coaching, **extra}


@dataclass(frozen=True)
class CallState:
    """A call as Twilio shows it now: its status, and its end_time once it has ended (the
    Call resource, FetchCall; twilio.com/docs/voice/api/call-resource)."""

    status: str
    ended: datetime | None = None


@dataclass(frozen=True)
class PlacedCall:
    """A call Twilio knows we placed: its sid, status and when it was created."""

    sid: str
    status: str
    created: datetime


class TwilioGateway:
    """Redirects calls, places calls and sends SMS through Twilio's REST API."""

    def __init__(self, settings: Settings, pacer: DialPacer | None = None) -> None:
        """A client for the account in `settings`; calls are created no faster than `pacer`
        allows (the account's calls per second)."""
        self.caller_id = settings.twilio_caller_id
        self.pacer = pacer
        self.client = Client(
            settings.twilio_account_sid, settings.twilio_auth_token or "unset",
            http_client=TwilioHttpClient(timeout=TWILIO_HTTP_TIMEOUT_SECONDS),
        )
        if settings.twilio_api_base_url:
            self.client.api.base_url = settings.twilio_api_base_url
        self.account = settings.twilio_account_sid
        self.media_auth = (settings.twilio_account_sid, settings.twilio_auth_token or "unset")
        self.api_base = settings.twilio_api_base_url or TWILIO_API_HOST

    def fetch_recording(self, recording_url: str) -> bytes:
        """The MP3 media of one of this account's recordings, fetched with the account's
        credentials (accounts may require HTTP basic auth for recording media:
        twilio.com/docs/voice/api/recording#fetch-a-recording-media-file). Only a RecordingUrl
        of this account on Twilio's host is fetched, from the configured API address."""
        found = RECORDING_URL.match(recording_url)
        if found is None or found.group(1) != self.account:
            raise NotARecording("not a recording of this account")
        account, recording = found.group(1), found.group(2)
        url = f"{self.api_base}/2010-04-01/Accounts/{account}/Recordings/{recording}.mp3"
        reply = requests.get(url, auth=self.media_auth, timeout=RECORDING_FETCH_TIMEOUT_SECONDS)
        reply.raise_for_status()
        return reply.content

    def redirect(self, call_sid: str, url: str) -> None:
        """Make a live call leave what it is doing and fetch new TwiML from `url`."""
        self.client.calls(call_sid).update(url=url, method="POST")

    def hang_up(self, call_sid: str) -> None:
        """End a live call."""
        self.client.calls(call_sid).update(status="completed")

    def end_call(self, call_sid: str) -> bool:
        """End a call if it is still live; False when it was already over. Other errors raise."""
        try:
            self.hang_up(call_sid)
        except TwilioRestException as exc:
            if is_call_gone(exc):
                return False
            raise
        return True

    def end_leg(self, call_sid: str) -> str | None:
        """End a call if it is still live; returns its status in Twilio's answer (`canceled`
        for a call ended while still queued: Twilio sends no status callback for it), or
        None when it was already over. Other errors raise."""
        try:
            call = self.client.calls(call_sid).update(status="completed")
        except TwilioRestException as exc:
            if is_call_gone(exc):
                return None
            raise
        return str(call.status)

    def redirect_if_live(self, call_sid: str, url: str) -> bool:
        """Send a call to new TwiML if it is still live; False when it was already over."""
        try:
            self.redirect(call_sid, url)
        except TwilioRestException as exc:
            if is_call_gone(exc):
                return False
            raise
        return True

    def dial(self, to: str, url: str, status_callback: str, *, amd_callback: str = "",
             timeout: int = AGENT_RING_TIMEOUT_SECONDS) -> str:
        """Place an outbound call that runs the TwiML at `url` once answered; returns its sid.

        With `amd_callback`, answering machines are detected asynchronously: the call's TwiML
        runs as soon as it is answered (no silence while detection listens) and Twilio posts
        AnsweredBy to `amd_callback` when it knows (docs: /docs/voice/answering-machine-detection,
        parameters MachineDetection, AsyncAmd, AsyncAmdStatusCallback(Method)).
        DialRefused when Twilio will not place it (the number or caller ID is refused)."""
        extra = {"machine_detection": "Enable", "async_amd": "true",
                 "async_amd_status_callback": amd_callback,
                 "async_amd_status_callback_method": "POST"} if amd_callback else {}
        if self.pacer is not None:
            self.pacer.wait_for_slot()
        try:
            call = self.client.calls.create(
                to=to, from_=self.caller_id, url=url, method="POST", timeout=timeout,
                status_callback=status_callback, status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                **extra,
            )
        except TwilioRestException as exc:
            if is_dial_refused(exc):
                raise DialRefused(exc) from exc
            raise
        return str(call.sid)

    def call_status(self, call_sid: str) -> str | None:
        """Twilio's status of a call (queued, ringing, in-progress, completed, busy, failed,
        no-answer, canceled); None when Twilio does not know the call. Other errors raise."""
        state = self.call_state(call_sid)
        return None if state is None else state.status

    def call_state(self, call_sid: str) -> CallState | None:
        """Twilio's status of a call and, once it is over, when it ended; None when Twilio
        does not know the call. Other errors raise."""
        try:
            call = self.client.calls(call_sid).fetch()
        except TwilioRestException as exc:
            if exc.status == CALL_NOT_FOUND_STATUS:
                return None
            raise
        ended = call.end_time
        return CallState(str(call.status), ended if isinstance(ended, datetime) else None)

    def calls_placed_to(self, to: str, since: datetime) -> list[PlacedCall]:
        """Calls this account placed through the REST API to `to` created at `since` or
        later (allowing a few seconds of clock difference), oldest first. Twilio filters
        start times by whole days and a queued call has none yet, so it is asked for the
        day's calls and the queued ones, and the exact moment is checked here."""
        after = since - timedelta(seconds=PLACED_CALL_CLOCK_SLACK_SECONDS)
        found = {c.sid: c for c in self.client.calls.list(to=to, start_time_after=after)}
        found.update({c.sid: c for c in self.client.calls.list(to=to, status="queued")})
        placed = [PlacedCall(str(c.sid), str(c.status), c.date_created)
                  for c in found.values()
                  if c.direction == "outbound-api" and c.date_created is not None
                  and c.date_created >= after]
        return sorted(placed, key=lambda c: c.created)

    def hold_in_conference(self, conference: str, call_sid: str, hold: bool,
                           hold_url: str | None = None) -> bool:
        """Put a participant of the named live conference on hold (hearing `hold_url`'s TwiML)
        or take them off it; False when that conference is not in progress."""
        found = self.client.conferences.list(friendly_name=conference, status="in-progress",
                                             limit=1)
        if not found:
            return False
        extra = {"hold_url": hold_url, "hold_method": "POST"} if hold and hold_url else {}
        self.client.conferences(str(found[0].sid)).participants(call_sid).update(
            hold=hold, **extra)
        return True

    def _live_conference(self, conference: str) -> str | None:
        """The sid of the in-progress conference with this friendly name, if any."""
        found = self.client.conferences.list(friendly_name=conference, status="in-progress",
                                             limit=1)
        return str(found[0].sid) if found else None

    def join_supervisor(self, conference: str, phone: str, mode: MonitorMode,
                        status_callback: str) -> str | None:
        """Ring a supervisor's phone (`client:NAME` or a number) into the named live
        conference in `mode`; returns the new participant's call sid, or None when that
        conference is not in progress. No beep, and their leaving never ends the call
        (Participant resource, CreateParticipant: Muted, Coaching, CallSidToCoach, Beep,
        EndConferenceOnExit; twilio.com/docs/voice/api/conference-participant-resource)."""
        sid = self._live_conference(conference)
        if sid is None:
            return None
        participant = self.client.conferences(sid).participants.create(
            from_=self.caller_id, to=phone, beep="false",
            start_conference_on_enter=False, end_conference_on_exit=False,
            timeout=AGENT_RING_TIMEOUT_SECONDS, status_callback=status_callback,
            status_callback_method="POST", status_callback_event=["answered", "completed"],
            **mode.parameters())
        return str(participant.call_sid)

    def set_supervisor_mode(self, conference: str, call_sid: str, mode: MonitorMode) -> bool:
        """Move a supervisor already in the named live conference to `mode` (UpdateParticipant:
        Muted, Coaching, CallSidToCoach); False when the conference is over."""
        sid = self._live_conference(conference)
        if sid is None:
            return False
        self.client.conferences(sid).participants(call_sid).update(**mode.parameters())
        return True

    def remove_participant(self, conference: str, call_sid: str) -> bool:
        """Take a participant out of the named live conference (DeleteParticipant: their call
        ends); False when the conference or the participant is gone."""
        sid = self._live_conference(conference)
        if sid is None:
            return False
        try:
            self.client.conferences(sid).participants(call_sid).delete()
        except TwilioRestException as exc:
            if is_call_gone(exc):
                return False
            raise
        return True

    def size_queue(self, name: str, max_size: int) -> bool:
        """Give the Twilio queue `name` (what <Enqueue> names) room for `max_size` calls:
        created with that MaxSize when missing, updated when its size differs (Queue
        resource, twilio.com/docs/voice/api/queue-resource: CreateQueue/UpdateQueue MaxSize,
        at most 5000). Returns whether anything was created or changed."""
        for queue in self.client.queues.stream():
            if queue.friendly_name == name:
                if queue.max_size == max_size:
                    return False
                self.client.queues(str(queue.sid)).update(max_size=max_size)
                return True
        self.client.queues.create(friendly_name=name, max_size=max_size)
        return True

    def start_recording(self, call_sid: str, status_callback: str) -> str:
        """Start recording a live call, both channels (the caller on one, what they hear on
        the other), Twilio posting the recording's events to `status_callback`; returns the
        recording's sid. Recordings resource, "Create a Recording resource" (POST to the
        Recordings of an in-progress call: CreateCallRecording, RecordingChannels dual),
        twilio.com/docs/voice/api/recording#create-a-recording-resource."""
        recording = self.client.calls(call_sid).recordings.create(
            recording_channels="dual", recording_status_callback=status_callback,
            recording_status_callback_method="POST",
            recording_status_callback_event=["in-progress", "completed", "absent"])
        return str(recording.sid)

    def set_recording_status(self, call_sid: str, recording_sid: str, status: str) -> None:
        """Pause, resume or stop a call's recording (`paused`, `in-progress`, `stopped`):
        UpdateCallRecording, twilio.com/docs/voice/api/recording#update-a-recording-resource.
        A paused stretch is skipped, not kept as silence (PauseBehavior=skip)."""
        extra = {"pause_behavior": "skip"} if status == "paused" else {}
        self.client.calls(call_sid).recordings(recording_sid).update(status=status, **extra)

    def delete_recording(self, recording_sid: str) -> bool:
        """Delete a recording (its media and metadata) at Twilio; False when Twilio no
        longer has it (404: already deleted), so deleting twice is harmless. DeleteRecording,
        twilio.com/docs/voice/api/recording#delete-a-recording-resource."""
        try:
            self.client.recordings(recording_sid).delete()
        except TwilioRestException as exc:
            if exc.status == RECORDING_NOT_FOUND_STATUS:
                return False
            raise
        return True

    def send_sms(self, to: str, body: str, status_callback: str) -> str:
        """Send a text message, Twilio reporting its delivery to `status_callback`;
        returns its sid (the message is `queued` then)."""
        message = self.client.messages.create(to=to, from_=self.caller_id, body=body,
                                              status_callback=status_callback)
        return str(message.sid)

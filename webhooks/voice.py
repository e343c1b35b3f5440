"""Twilio voice webhooks: parse the request, call the IVR, answer with its TwiML."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests
from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.orm.exc import StaleDataError

from callbacks import (
    accepting,
    agent_legs,
    call_ends,
    customer_first,
    detection,
    placing,
    recording,
)
from holdless import paths, prompts, tasks
from holdless.speech import LANGUAGES
from holdless.twilio_gateway import NotARecording
from ivr import (
    account,
    arriving,
    callback_capture,
    callback_kept,
    callback_voicemail,
    in_line,
    language,
    survey,
    twiml,
)
from ivr.numbers import caller_number
from models.states import ENDED_CALL_STATUSES
from queueing import monitoring
from webhooks import deferral, forms
from webhooks.security import twilio_signed

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

bp = Blueprint("voice", __name__)
log = logging.getLogger(__name__)

ATTEMPT_DIGITS = 10  # a callback attempt id fits in fewer digits


def _rt() -> Runtime:
    return current_app.extensions["holdless"]


def _twiml(document: object) -> Response:
    return Response(str(document), mimetype="text/xml")


# How often a webhook is run again when another process changed its call meanwhile.
CONFLICT_ATTEMPTS = 3


def retry_on_conflict(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run the view again (on fresh rows) when its interaction changed status under it,
    e.g. the caller hung up while the agent was answering; each view is safe to re-run."""

    @functools.wraps(view)
    def attempt(*args: Any, **kwargs: Any) -> Any:
        for remaining in range(CONFLICT_ATTEMPTS - 1, -1, -1):
            try:
                return view(*args, **kwargs)
            except StaleDataError:
                if not remaining:
                    raise
        raise AssertionError("unreachable")

    return attempt


@bp.post(paths.INCOMING)
@twilio_signed
@retry_on_conflict
def incoming() -> Response:
    """A new inbound call."""
    rt = _rt()
    return _twiml(arriving.incoming(rt, _call_facts(rt)))


@bp.post(paths.LANGUAGE)
@twilio_signed
@retry_on_conflict
def choose_language() -> Response:
    """The caller's key (or none) after the line offered its languages."""
    rt = _rt()
    return _twiml(arriving.choose_language(rt, _call_facts(rt), forms.digits()))


def _call_facts(rt: Runtime) -> arriving.CallFacts:
    """Who is calling which of our numbers, from the request's form."""
    return arriving.CallFacts(forms.call_sid(),
                              caller_number(forms.field("From"), rt.settings.default_region),
                              forms.field("To"))


@bp.get(paths.PROMPT_PREFIX + "/<tag>/<key>.wav")
def prompt(tag: str, key: str) -> Response:
    """A recorded prompt for a line without a Twilio voice (holdless/prompts.py): the
    address's signature stands for the sentence, so only our TwiML's prompts are served."""
    rt, text = _rt(), request.args.get("text", "")[:prompts.MAX_TEXT]
    if tag not in LANGUAGES or not prompts.valid(rt.settings.twilio_auth_token, tag, text, key,
                                                 request.args.get("sig", "")[:64]):
        abort(403, description="not a prompt of ours (text, key or sig do not match)")
    try:
        found = prompts.audio(language.folder(rt), tag, text)
    except prompts.PromptMissing as exc:
        log.warning("prompt missing: %s", exc)
        abort(404, description=str(exc))
    return Response(found.read_bytes(), mimetype="audio/wav",
                    headers={"Cache-Control": "max-age=86400"})


@bp.post(paths.MENU)
@twilio_signed
@retry_on_conflict
def menu() -> Response:
    """The caller pressed a key in the menu (or none)."""
    attempt = forms.int_arg("attempt", default=1, low=1, high=10)
    return _twiml(arriving.choose(_rt(), forms.call_sid(), forms.digits(), attempt))


@bp.post(paths.HOLD)
@twilio_signed
@retry_on_conflict
def hold() -> Response:
    """The Enqueue wait URL: one turn of the hold loop."""
    return _twiml(in_line.hold(_rt(), forms.call_sid()))


@bp.post(paths.HOLD_KEY)
@twilio_signed
@retry_on_conflict
def hold_key() -> Response:
    """A key pressed while holding."""
    return _twiml(in_line.hold_key(_rt(), forms.call_sid(), forms.digits()))


@bp.post(paths.OFFER_KEY)
@twilio_signed
@retry_on_conflict
def offer_key() -> Response:
    """A key pressed during the callback offer spoken before the caller enters the queue."""
    return _twiml(in_line.offer_key(_rt(), forms.call_sid(), forms.digits()))


@bp.post(paths.QUEUE_EXIT)
@twilio_signed
@retry_on_conflict
def queue_exit() -> Response:
    """The Enqueue action: the caller left Twilio's queue. QueueResult=hangup is the
    caller hanging up while queued: applied here as the number's status callback would be
    (the two settle the call once, whichever comes first), so a number without a status
    callback does not leave the caller in line until the sweeper."""
    sid, result = forms.call_sid(), forms.queue_result()
    if result == "hangup":
        return _twiml_after(_settle(call_ends.CALLER_CALL, 0, "completed", sid))
    return _twiml(in_line.queue_exit(_rt(), sid, result))


def _twiml_after(_settled: tuple[str, int]) -> Response:
    """An empty TwiML answer once a call end is applied (Twilio ignores it: the call is over)."""
    return _twiml(twiml.empty())


@bp.post(paths.REJOIN)
@twilio_signed
@retry_on_conflict
def rejoin() -> Response:
    """Back to the hold line at the original place."""
    return _twiml(in_line.rejoin(_rt(), forms.call_sid()))


@bp.post(paths.ACCOUNT)
@twilio_signed
def account_number() -> Response:
    """The caller keyed an account number (or pound alone to skip) before joining a line."""
    queue = request.args.get("queue", "")
    if not queue.isidentifier():
        abort(400, description="query argument queue missing or malformed")
    attempt = forms.int_arg("attempt", default=1, low=1, high=10)
    return _twiml(account.keyed(_rt(), forms.call_sid(), queue, forms.digits(), attempt))


@bp.post(paths.RECORDING_CONSENT)
@twilio_signed
@retry_on_conflict
def recording_consent() -> Response:
    """The caller's key after the recording question (1 agrees, 2 declines)."""
    queue = request.args.get("queue", "")
    if not queue.isidentifier():
        abort(400, description="query argument queue missing or malformed")
    attempt = forms.int_arg("attempt", default=1, low=1, high=10)
    return _twiml(arriving.consent_keyed(_rt(), forms.call_sid(), queue, forms.digits(),
                                         attempt))


@bp.post(paths.CONFERENCE_EVENTS)
@twilio_signed
def conference_events() -> tuple[str, int]:
    """Twilio's conference status callback: the caller joined their agent or left the
    bridge (recording runs only while they are bridged)."""
    event = forms.field("StatusCallbackEvent")
    if not event:
        abort(400, description="StatusCallbackEvent missing")
    handler = {recording.JOIN_EVENT: recording.participant_joined,
               recording.LEAVE_EVENT: recording.participant_left}.get(event)
    if handler is not None:
        attempt = forms.int_arg("attempt") if request.args.get("attempt") else None
        handler(_rt(), forms.int_arg("interaction"), forms.call_sid(), attempt)
    return "", 204


@bp.post(paths.RECORDING_STATUS)
@twilio_signed
def recording_status() -> tuple[str, int]:
    """Twilio's RecordingStatusCallback for a conversation recording."""
    status = forms.field("RecordingStatus")
    if not status:
        abort(400, description="RecordingStatus missing")
    recording.status_reported(_rt(), forms.int_arg("recording"), status,
                              forms.field("RecordingUrl"), forms.field("RecordingDuration"))
    return "", 204


@bp.post(paths.SURVEY)
@twilio_signed
def survey_start() -> Response:
    """The last agent left: the caller was redirected here for the post-call survey."""
    rt = _rt()
    return _twiml(survey.start(rt, language.for_call(rt, forms.call_sid())))


@bp.post(paths.SURVEY_ANSWER)
@twilio_signed
def survey_answer() -> Response:
    """A key pressed (or none) for one survey question."""
    question = request.args.get("q", "")
    attempt = forms.int_arg("attempt", default=1, low=1, high=10)
    return _twiml(survey.answer(_rt(), forms.call_sid(), question, forms.digits(), attempt))


@bp.post(paths.CALLBACK_CONFIRM)
@twilio_signed
def callback_confirm() -> Response:
    """The caller confirms the callback number (1) or asks to key another (2)."""
    attempt = forms.int_arg("attempt", default=1, low=1, high=10)
    return _twiml(callback_capture.confirm(_rt(), forms.call_sid(), forms.digits(), attempt))


@bp.post(paths.CALLBACK_SLOT)
@twilio_signed
def callback_slot() -> Response:
    """The caller chose one of the offered callback slots (1, 2) or none."""
    attempt = forms.int_arg("attempt", default=1, low=1, high=10)
    return _twiml(callback_capture.choose_slot(_rt(), forms.call_sid(), forms.digits(), attempt))


@bp.post(paths.CALLBACK_RECORDED)
@twilio_signed
def callback_recorded() -> Response:
    """The caller's message for a callback ended (the Record action)."""
    return _twiml(callback_voicemail.recorded(_rt(), forms.call_sid(), forms.recording_url()))


@bp.post(paths.CALLBACK_RECORDING_STATUS)
@twilio_signed
def callback_recording_status() -> tuple[str, int]:
    """The caller's message is stored (the Record recordingStatusCallback)."""
    if forms.field("RecordingStatus", "completed") != "completed":
        return "", 204
    sid, url = forms.call_sid(), forms.recording_url()
    try:
        callback_voicemail.recording_ready(_rt(), sid, url)
    except deferral.DATABASE_UNREACHABLE:
        # Twilio sends this once and ignores the answer; for a caller who hung up while
        # recorded it may be all that books their message (the action's TwiML is ignored).
        deferral.to_worker(_rt(), tasks.KEEP_MESSAGE, sid, url, job_id=f"cb-message-{sid[:40]}")
        return "", 202
    return "", 204


@bp.post(paths.CALLBACK_AGENT_HEARD)
@twilio_signed
def callback_agent_heard() -> Response:
    """The agent heard the customer's message: dial the customer into the conference."""
    return _twiml(placing.agent_heard(_rt(), forms.int_arg("attempt")))


@bp.get(paths.CALLBACK_MESSAGE_MEDIA)
def callback_message_media() -> Response:
    """The customer's message, for the <Play> Twilio fetches for the agent: the media is
    fetched from Twilio with the account's credentials; the URL's key stands for them."""
    rt, attempt = _rt(), request.args.get("attempt", "")
    url = placing.message_for(rt, int(attempt), request.args.get("key", "")[:64]) \
        if attempt.isdigit() and len(attempt) < ATTEMPT_DIGITS else None
    if url is None:
        abort(403, description="not a message key")
    try:
        media = rt.gateway.fetch_recording(url)
    except (NotARecording, requests.RequestException) as exc:
        log.warning("callback message not fetched (%s)", type(exc).__name__)
        abort(502, description="the recording could not be fetched from Twilio")
    return Response(media, mimetype="audio/mpeg", headers={"Cache-Control": "no-store"})


@bp.post(paths.CALLBACK_NUMBER)
@twilio_signed
def callback_number() -> Response:
    """The caller keyed the number to call back."""
    return _twiml(callback_capture.keyed(_rt(), forms.call_sid(), forms.digits()))


@bp.post(paths.CALLBACK_KEEP)
@twilio_signed
def callback_keep() -> Response:
    """A caller with a booked callback keeps it (1) or cancels it to hold (2)."""
    return _twiml(callback_kept.choose(_rt(), forms.call_sid(), forms.digits()))


@bp.post(paths.CALLBACK_AGENT)
@twilio_signed
def callback_agent() -> Response:
    """The agent answered a callback attempt: whisper, then hold for the customer."""
    return _twiml(placing.agent_took_callback(_rt(), forms.int_arg("attempt")))


@bp.post(paths.CALLBACK_AGENT_STATUS)
@twilio_signed
def callback_agent_status() -> tuple[str, int]:
    """Status of the agent's leg of a callback attempt."""
    return _settle(call_ends.CALLBACK_AGENT, forms.int_arg("attempt"), _status(), "")


@bp.post(paths.CALLBACK_CUSTOMER)
@twilio_signed
def callback_customer() -> Response:
    """The customer's phone answered a callback. Detection is asynchronous, so Twilio does
    not say who answered here: greet at once and wait for its answer. (A number set up
    for synchronous detection posts AnsweredBy here: then it is acted on at once.)"""
    answered_by = forms.answered_by()
    if not answered_by:
        return _twiml(detection.greet(_rt(), forms.int_arg("attempt")))
    return _twiml(customer_first.customer_picked_up(_rt(), forms.int_arg("attempt"),
                                                    answered_by, forms.call_sid()))


@bp.post(paths.CALLBACK_CUSTOMER_WAIT)
@twilio_signed
def callback_customer_wait() -> Response:
    """The greeted customer waits while answering-machine detection listens."""
    waited = forms.int_arg("waited", default=0, low=0,
                           high=detection.DETECTION_WAIT_LIMIT_SECONDS)
    return _twiml(detection.wait_for_detection(_rt(), forms.int_arg("attempt"),
                                               forms.call_sid(), waited))


@bp.post(paths.CALLBACK_CUSTOMER_AMD)
@twilio_signed
def callback_customer_amd() -> tuple[str, int]:
    """Twilio's AsyncAmdStatusCallback: who answered the customer's phone."""
    answered_by = forms.answered_by()
    if answered_by not in detection.ANSWERED_BY_VALUES:
        abort(400, description="AnsweredBy missing or not one Twilio sends")
    attempt_id, sid = forms.int_arg("attempt"), forms.call_sid()
    try:
        detection.detected(_rt(), attempt_id, answered_by, sid)
    except deferral.DATABASE_UNREACHABLE:
        # Twilio posts AnsweredBy once, never again, and ignores what this callback answers
        # (an apology's <Redirect> would never be followed): lost, a machine would be taken
        # for a person once the customer's wait runs out, and bridged. The worker applies it.
        deferral.to_worker(_rt(), tasks.APPLY_DETECTION, attempt_id, answered_by, sid,
                           job_id=f"cb-amd-{attempt_id}")
        return "", 202
    return "", 204


@bp.post(paths.CALLBACK_CUSTOMER_STATUS)
@twilio_signed
def callback_customer_status() -> tuple[str, int]:
    """Status of the customer's call of a callback attempt."""
    return _settle(call_ends.CALLBACK_CUSTOMER, forms.int_arg("attempt"), _status(),
                   forms.call_sid())


def _status() -> str:
    status = forms.field("CallStatus")
    if not status:
        abort(400, description="CallStatus missing")
    return status


@bp.post(paths.CALLER_CONFERENCE)
@twilio_signed
@retry_on_conflict
def caller_conference() -> Response:
    """The caller's side of the conference with their agent."""
    return _twiml(in_line.to_conference(_rt(), forms.call_sid()))


@bp.post(paths.TRANSFER_HOLD)
@twilio_signed
def transfer_hold() -> Response:
    """The hold URL of a caller being transferred (or escalated to a supervisor)."""
    notice = {"1": twiml.ESCALATION_NOTICE, "wait": twiml.ESCALATION_WAIT_NOTICE}.get(
        request.args.get("escalation", ""), twiml.TRANSFER_NOTICE)
    rt = _rt()
    sid = forms.field("CallSid")  # the held caller's call (when Twilio says which)
    sp = language.for_call(rt, sid if forms.CALL_SID.match(sid) else "")
    return _twiml(twiml.transfer_hold(notice=notice, sp=sp))


@bp.post(paths.AGENT_WHISPER)
@twilio_signed
@retry_on_conflict
def agent_whisper() -> Response:
    """The agent answered: whisper, then bridge."""
    return _twiml(agent_legs.agent_answered(_rt(), forms.int_arg("leg")))


@bp.post(paths.AGENT_ACCEPT)
@twilio_signed
@retry_on_conflict
def agent_accept() -> Response:
    """The agent's key (or none) after an offer's whisper: 1 accepts and bridges."""
    tries = forms.int_arg("tries", default=1, low=1, high=accepting.ACCEPT_TRIES)
    return _twiml(agent_legs.agent_accept(_rt(), forms.int_arg("leg"), forms.digits(), tries))


@bp.post(paths.CALLBACK_AGENT_ACCEPT)
@twilio_signed
def callback_agent_accept() -> Response:
    """The agent's key (or none) after a callback's whisper: 1 accepts, the customer is
    dialled."""
    tries = forms.int_arg("tries", default=1, low=1, high=accepting.ACCEPT_TRIES)
    return _twiml(placing.callback_agent_accept(_rt(), forms.int_arg("attempt"),
                                                forms.digits(), tries))


@bp.post(paths.AGENT_STATUS)
@twilio_signed
@retry_on_conflict
def agent_status() -> tuple[str, int]:
    """Status of an agent's leg."""
    return _settle(call_ends.AGENT_LEG, forms.int_arg("leg"), forms.field("CallStatus"),
                   forms.call_sid())


@bp.post(paths.SUPERVISOR_STATUS)
@twilio_signed
def supervisor_status() -> tuple[str, int]:
    """Status of a supervisor's phone leg on a live call: once over, their period ends."""
    monitoring.phone_ended(_rt(), forms.call_sid(), forms.field("CallStatus"))
    return "", 204


@bp.post(paths.CALL_STATUS)
@twilio_signed
@retry_on_conflict
def call_status() -> tuple[str, int]:
    """Status of a caller's call (the number's status callback)."""
    sid, status = forms.call_sid(), forms.field("CallStatus")
    if not status:
        abort(400, description="CallStatus missing")
    if status in ENDED_CALL_STATUSES:
        return _settle(call_ends.CALLER_CALL, 0, status, sid)
    return "", 204


def _settle(kind: str, ident: int, status: str, sid: str) -> tuple[str, int]:
    """Apply a status report through the one table of call ends. Twilio does not retry
    status callbacks: with the database unreachable, hand the report to the worker
    (retried for ~2 minutes) instead of losing it, and answer 202 Accepted."""
    try:
        call_ends.settle(_rt(), kind, ident, status, sid)
    except deferral.DATABASE_UNREACHABLE:
        job_id = f"call-status-{sid}" if kind == call_ends.CALLER_CALL else \
            f"{kind}-status-{ident}-{status}"
        deferral.to_worker(_rt(), tasks.SETTLE_CALL_END, kind, ident, status, sid,
                           job_id=job_id)
        return "", 202
    return "", 204

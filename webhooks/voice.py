"""Twilio voice webhooks: parse the request, call the IVR, answer with its TwiML."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app

from callbacks import connect
from holdless.runtime import Runtime
from ivr import calls, paths
from ivr.numbers import caller_number
from ivr.states import ENDED_CALL_STATUSES
from webhooks import forms
from webhooks.security import twilio_signed

bp = Blueprint("voice", __name__)


def _rt() -> Runtime:
    return current_app.extensions["holdless"]


def _twiml(document: object) -> Response:
    return Response(str(document), mimetype="text/xml")


@bp.post(paths.INCOMING)
@twilio_signed
def incoming() -> Response:
    """A new inbound call."""
    rt = _rt()
    facts = calls.CallFacts(forms.call_sid(),
                            caller_number(forms.field("From"), rt.settings.default_region),
                            forms.field("To"))
    return _twiml(calls.incoming(rt, facts))


@bp.post(paths.MENU)
@twilio_signed
def menu() -> Response:
    """The caller pressed a key in the menu (or none)."""
    attempt = forms.int_arg("attempt", default=1, low=1, high=10)
    return _twiml(calls.choose(_rt(), forms.call_sid(), forms.digits(), attempt))


@bp.post(paths.HOLD)
@twilio_signed
def hold() -> Response:
    """The Enqueue wait URL: one turn of the hold loop."""
    return _twiml(calls.hold(_rt(), forms.call_sid()))


@bp.post(paths.HOLD_KEY)
@twilio_signed
def hold_key() -> Response:
    """A key pressed while holding."""
    return _twiml(calls.hold_key(_rt(), forms.call_sid(), forms.digits()))


@bp.post(paths.QUEUE_EXIT)
@twilio_signed
def queue_exit() -> Response:
    """The Enqueue action: the caller left Twilio's queue."""
    return _twiml(calls.queue_exit(_rt(), forms.call_sid(), forms.field("QueueResult")))


@bp.post(paths.REJOIN)
@twilio_signed
def rejoin() -> Response:
    """Back to the hold line at the original place."""
    return _twiml(calls.rejoin(_rt(), forms.call_sid()))


@bp.post(paths.CALLER_CONFERENCE)
@twilio_signed
def caller_conference() -> Response:
    """The caller's side of the conference with their agent."""
    return _twiml(calls.to_conference(_rt(), forms.call_sid()))


@bp.post(paths.AGENT_WHISPER)
@twilio_signed
def agent_whisper() -> Response:
    """The agent answered: whisper, then bridge."""
    return _twiml(connect.agent_answered(_rt(), forms.int_arg("leg")))


@bp.post(paths.AGENT_STATUS)
@twilio_signed
def agent_status() -> tuple[str, int]:
    """Status of an agent's leg."""
    connect.agent_leg_status(_rt(), forms.int_arg("leg"), forms.field("CallStatus"),
                             forms.call_sid())
    return "", 204


@bp.post(paths.CALL_STATUS)
@twilio_signed
def call_status() -> tuple[str, int]:
    """Status of a caller's call (the number's status callback)."""
    sid, status = forms.call_sid(), forms.field("CallStatus")
    if not status:
        abort(400, description="CallStatus missing")
    if status in ENDED_CALL_STATUSES:
        calls.caller_left(_rt(), sid)
    return "", 204

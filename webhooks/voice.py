"""Twilio voice webhooks: parse the request, call the IVR, answer with its TwiML."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from callbacks import connect, jobs
from holdless.runtime import Runtime
from ivr import calls, paths
from ivr.numbers import caller_number
from ivr.states import ENDED_CALL_STATUSES
from webhooks import forms
from webhooks.security import twilio_signed

bp = Blueprint("voice", __name__)
log = logging.getLogger(__name__)

DATABASE_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)


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
    leg, status, sid = forms.int_arg("leg"), forms.field("CallStatus"), forms.call_sid()
    try:
        connect.agent_leg_status(_rt(), leg, status, sid)
    except DATABASE_UNREACHABLE:
        return _deferred(jobs.agent_status, leg, status, sid, job_id=f"leg-status-{leg}-{status}")
    return "", 204


@bp.post(paths.CALL_STATUS)
@twilio_signed
def call_status() -> tuple[str, int]:
    """Status of a caller's call (the number's status callback)."""
    sid, status = forms.call_sid(), forms.field("CallStatus")
    if not status:
        abort(400, description="CallStatus missing")
    if status in ENDED_CALL_STATUSES:
        try:
            calls.caller_left(_rt(), sid)
        except DATABASE_UNREACHABLE:
            return _deferred(jobs.caller_status, sid, job_id=f"call-status-{sid}")
    return "", 204


def _deferred(func: Any, *args: Any, job_id: str) -> tuple[str, int]:
    """Twilio does not retry status callbacks: with the database unreachable, hand the
    report to the worker (retried for ~2 minutes) instead of losing it. 202 Accepted."""
    log.warning("database unreachable: %s deferred to the worker", request.path)
    _rt().enqueue(func, *args, job_id=job_id)
    return "", 202

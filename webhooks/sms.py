"""Twilio messaging webhooks: texts from customers (NOCALL cancels their callback; Twilio's
opt-out keywords are recorded), and the delivery status of the texts we send."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from holdless import paths, tasks
from holdless.speech import ENGLISH, N_
from ivr import booking, texting
from ivr.numbers import caller_number
from webhooks import deferral, forms
from webhooks.security import twilio_signed

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

bp = Blueprint("sms", __name__)
log = logging.getLogger(__name__)

ERROR_CODE_DIGITS = 10  # Twilio's error codes are five digits
SEND_AGAIN = N_("Sorry, we could not act on your message just now. "
                "Please send it again in a few minutes.")


def _rt() -> Runtime:
    return current_app.extensions["holdless"]


@bp.post(paths.SMS_INCOMING)
@twilio_signed
def incoming() -> Response:
    """A text message to the line's number; the reply (if any) goes back as TwiML."""
    rt = _rt()
    number = caller_number(forms.field("From"), rt.settings.default_region)
    if number is None:
        abort(400, description="From missing or not a phone number")
    try:
        reply = booking.sms_reply(rt, number, forms.field("Body"))
    except deferral.DATABASE_UNREACHABLE:
        reply = _while_unreachable(rt, number, forms.field("Body"))
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return Response(str(response), mimetype="text/xml")


def _while_unreachable(rt: Runtime, number: str, body: str) -> str:
    """The reply to a text that came while the database was unreachable. Twilio forwards a
    text once: an opt-out or opt-in keyword is handed to the worker to record (Twilio
    answers those itself), and anything else is answered with a request to send it again."""
    log.warning("database unreachable: a text to %s not acted on", request.path)
    word = texting.keyword(body)
    if word in texting.OPT_OUT_KEYWORDS or word in texting.OPT_IN_KEYWORDS:
        sid = forms.field("MessageSid")[:40]  # a job per text, however often forwarded
        rt.enqueue(tasks.RECORD_TEXT_OPT, number, word in texting.OPT_OUT_KEYWORDS,
                   rt.clock.now().isoformat(), job_id=f"sms-opt-{sid}" if sid else None)
        return ""
    if word in texting.HELP_KEYWORDS:
        return ""
    return ENGLISH.gettext(SEND_AGAIN)  # their language is in the database


def unreachable_answer() -> Response:
    """The answer to a text whose stores failed it or did not answer within the webhook's
    deadline (its view may still finish when they do): no reply to Twilio's keywords, which
    Twilio answers itself; a request to send anything else again."""
    response = MessagingResponse()
    word = texting.keyword(forms.field("Body"))
    if word and not ({word} & (texting.OPT_OUT_KEYWORDS | texting.OPT_IN_KEYWORDS
                               | texting.HELP_KEYWORDS)):
        response.message(ENGLISH.gettext(SEND_AGAIN))
    return Response(str(response), mimetype="text/xml")


def to_number(raw: str, rt: Runtime) -> str:
    """The E.164 form of a status callback's To ("" when it is not a number)."""
    return caller_number(raw, rt.settings.default_region) or ""


@bp.post(paths.SMS_STATUS)
@twilio_signed
def status() -> Response:
    """Twilio's status callback of a text we sent (sent, delivered, undelivered, failed,
    with ErrorCode on failure): recorded on the text.
    https://www.twilio.com/docs/messaging/guides/track-outbound-message-status"""
    rt = _rt()
    sid, message_status = forms.field("MessageSid"), forms.field("MessageStatus")
    if not sid or not message_status:
        abort(400, description="MessageSid and MessageStatus are required")
    code, to = forms.field("ErrorCode"), to_number(forms.field("To"), rt)
    error_code = int(code) if code.isdigit() and len(code) < ERROR_CODE_DIGITS else None
    try:
        with rt.db.session() as s:
            texting.record_status(s, sid, message_status, error_code, rt.clock.now(), to)
    except deferral.DATABASE_UNREACHABLE:
        # Twilio does not send a status callback again: a failure would never be shown.
        deferral.to_worker(rt, tasks.RECORD_TEXT_STATUS, sid, message_status, error_code, to,
                           job_id=f"sms-status-{sid}-{message_status}")
        return Response(status=202)
    return Response(status=204)

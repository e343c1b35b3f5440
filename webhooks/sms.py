"""Twilio messaging webhooks: texts from customers (CANCEL cancels their callback)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, current_app
from twilio.twiml.messaging_response import MessagingResponse

from holdless import paths
from ivr import booking
from ivr.numbers import caller_number
from webhooks import forms
from webhooks.security import twilio_signed

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

bp = Blueprint("sms", __name__)


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
    reply = booking.sms_reply(rt, number, forms.field("Body"))
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return Response(str(response), mimetype="text/xml")

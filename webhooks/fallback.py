"""The number's voice Fallback URL (PUBLIC_BASE_URL/voice/fallback): Twilio asks it when one
of our webhooks failed or gave no answer within 15 s (error 11205). It reads no store (only
the request and the settings), so it answers while Redis or the database hang."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from holdless import paths
from ivr import language
from ivr.fallback import fallback_answer
from webhooks import forms
from webhooks.security import twilio_signed

bp = Blueprint("fallback", __name__)


@bp.post(paths.VOICE_FALLBACK)
@twilio_signed
def voice_fallback() -> Response:
    """An apology and one more try of the failed webhook (or a goodbye), store-free."""
    ours = current_app.config["HOLDLESS"].public_base_url or request.host_url.rstrip("/")
    words = language.spoken(current_app.extensions["holdless"],
                            language.cached(forms.field("CallSid")))  # reads no store
    answer = fallback_answer(ours, forms.field("ErrorUrl"), words)
    return Response(str(answer), mimetype="text/xml")

"""Twilio webhook signatures, checked always and failing closed."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


def public_url() -> str:
    """The URL Twilio called: the configured public base URL, or what the proxies say."""
    base = current_app.config["HOLDLESS"].public_base_url
    if base:
        query = request.query_string.decode()
        return f"{base}{request.path}" + (f"?{query}" if query else "")
    return request.url


def signature_valid() -> bool:
    """Whether X-Twilio-Signature matches the form as sent, under our auth token."""
    token = current_app.config["HOLDLESS"].twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(public_url(), request.form, signature)


def twilio_signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) any request Twilio did not sign; no bypass in any mode."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not signature_valid():
            log.warning("refused unsigned or mis-signed request to %s", request.path)
            abort(403, description="Twilio signature missing or invalid")
        return view(*args, **kwargs)

    return checked

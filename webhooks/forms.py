"""Validating what Twilio posts, before any of it reaches the domain."""

from __future__ import annotations

import re

from flask import abort, request

CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
DIGITS = re.compile(r"^[0-9*#]{1,20}$")
MAX_FIELD = 256


def call_sid() -> str:
    """The CallSid field, or 400."""
    value = request.form.get("CallSid", "")
    if not CALL_SID.match(value):
        abort(400, description="CallSid missing or malformed")
    return value


def field(name: str, default: str = "") -> str:
    """A free-text field, trimmed and bounded."""
    return request.form.get(name, default).strip()[:MAX_FIELD]


def digits() -> str:
    """The keys pressed, or "" when none or when they are not keypad keys."""
    value = request.form.get("Digits", "").strip()
    return value if DIGITS.match(value) else ""


def int_arg(name: str, default: int | None = None, low: int = 0, high: int = 10**9) -> int:
    """An integer query argument within bounds, or 400."""
    raw = request.args.get(name)
    if raw is None and default is not None:
        return default
    if raw is None or not raw.isdigit() or not low <= int(raw) <= high:
        abort(400, description=f"query argument {name} missing or out of range")
    return int(raw)


def recording_url() -> str:
    """The RecordingUrl field when it is an https link of at most MAX_FIELD characters, else ""."""
    value = request.form.get("RecordingUrl", "").strip()
    return value if value.startswith("https://") and len(value) <= MAX_FIELD else ""

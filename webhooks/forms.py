"""Validating what Twilio posts, before any of it reaches the domain."""

from __future__ import annotations

import re
from collections.abc import Callable

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


# Values Twilio sends in these fields (www.twilio.com/docs/voice/twiml/enqueue#attributes-action
# and www.twilio.com/docs/voice/answering-machine-detection); anything else is refused.
QUEUE_RESULTS = frozenset({"bridged", "bridging-in-process", "error", "hangup", "leave",
                           "redirected", "redirected-from-bridged", "queue-full",
                           "system-error"})
ANSWERED_BY = frozenset({"human", "unknown", "fax", "machine_start", "machine_end_beep",
                         "machine_end_silence", "machine_end_other"})


def carried(name: str) -> str:
    """A field Twilio posts only to one verb's action (Digits to Gather's, QueueResult to
    Enqueue's, AnsweredBy to the detection callback, RecordingUrl to Record's): from the
    form, else from our own URL's query, where an outage retry carries it (a <Redirect>
    posts only the standard call parameters: www.twilio.com/docs/voice/twiml/redirect).
    Validated like any input: "" when absent or not a value Twilio sends."""
    value = (request.form.get(name) or request.args.get(name) or "").strip()
    return value if _CARRIED[name](value) else ""


def carried_fields() -> dict[str, str]:
    """Every carried field this request holds, validated (what an outage retry must keep)."""
    return {name: value for name in _CARRIED if (value := carried(name))}


def digits() -> str:
    """The keys pressed, or "" when none or when they are not keypad keys."""
    return carried("Digits")


def queue_result() -> str:
    """The Enqueue action's QueueResult, or "" when absent or unknown."""
    return carried("QueueResult")


def answered_by() -> str:
    """Answering-machine detection's AnsweredBy, or "" when absent or unknown."""
    return carried("AnsweredBy")


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
    return carried("RecordingUrl")


def _https_link(value: str) -> bool:
    return value.startswith("https://") and len(value) <= MAX_FIELD


_CARRIED: dict[str, Callable[[str], bool]] = {
    "Digits": lambda v: bool(DIGITS.match(v)),
    "QueueResult": QUEUE_RESULTS.__contains__,
    "AnsweredBy": ANSWERED_BY.__contains__,
    "RecordingUrl": _https_link,
}

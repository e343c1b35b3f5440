"""Text messages about callbacks (sent by the worker, after the row they describe is committed)."""

from __future__ import annotations

import logging

from holdless import runtime
from ivr import wording
from ivr.numbers import mask
from models.callbacks import Callback
from queueing.estimate import WaitEstimate

log = logging.getLogger(__name__)

BOOKED, UNREACHABLE = "booked", "unreachable"


def text_for(callback: Callback, kind: str, line: str, seconds_left: float) -> str:
    """The SMS body of one kind of callback message."""
    ref = callback.reference
    if kind == BOOKED:
        when = wording.wait_phrase(WaitEstimate(seconds_left, seconds_left, seconds_left))
        return (f"{line}: your callback is booked, reference {ref}. We will call you in "
                f"{when}, keeping your place in line. Reply CANCEL to cancel it.")
    if kind == UNREACHABLE:
        return (f"{line}: we tried {callback.attempts} times to call you back "
                f"(reference {ref}) but could not reach you. Please call us again when it "
                "suits you.")
    raise ValueError(f"unknown callback message {kind!r}")


def send_sms(callback_id: int, kind: str) -> str:
    """Job: text the customer of a callback (booked or unreachable)."""
    rt = runtime.get()
    with rt.db.session() as s:
        callback = s.get(Callback, callback_id)
        if callback is None:
            return "no such callback"
        seconds = 0.0
        if callback.expected_at is not None:
            seconds = max(0.0, (callback.expected_at - rt.clock.now()).total_seconds())
        body = text_for(callback, kind, str(rt.settings.extra.get("line_name", "Holdless")),
                        seconds)
        number = callback.number
    sid = rt.gateway.send_sms(number, body)
    log.info("callback %s: %s SMS sent to %s", callback_id, kind, mask(number))
    return sid

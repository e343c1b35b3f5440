"""Text messages about callbacks (sent by the worker, after the row they describe is committed)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ivr import policy, wording
from ivr.numbers import mask
from models.callbacks import TEXT_BOOKED, TEXT_UNREACHABLE, Callback
from queueing.estimate import WaitEstimate

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

def text_for(callback: Callback, kind: str, line: str, when: str,
             rules: policy.Policy | None = None) -> str:
    """The SMS body of one kind of callback message (`when`: "in about 12 minutes"); the
    queue policy's own text, where set, with the reference and how to cancel."""
    ref = callback.reference
    if kind == TEXT_BOOKED and rules is not None and rules.sms_booked:
        return (f"{line}: {rules.sms_booked} Reference {ref}; we will call you {when}. "
                "Reply CANCEL to cancel it.")
    if kind == TEXT_UNREACHABLE and rules is not None and rules.sms_unreachable:
        return f"{line}: {rules.sms_unreachable} (reference {ref})"
    if kind == TEXT_BOOKED:
        keeping = "" if callback.slot_start is not None else ", keeping your place in line"
        return (f"{line}: your callback is booked, reference {ref}. We will call you "
                f"{when}{keeping}. Reply CANCEL to cancel it.")
    if kind == TEXT_UNREACHABLE:
        return (f"{line}: we tried {callback.attempts} times to call you back "
                f"(reference {ref}) but could not reach you. Please call us again when it "
                "suits you.")
    raise ValueError(f"unknown callback message {kind!r}")


def send_sms(rt: Runtime, callback_id: int, kind: str, when: str = "") -> str:
    """Job: text the customer of a callback (booked, saying `when`; or unreachable)."""
    with rt.db.session() as s:
        callback = s.get(Callback, callback_id)
        if callback is None:
            return "no such callback"
        if not when and callback.expected_at is not None:
            left = max(0.0, (callback.expected_at - rt.clock.now()).total_seconds())
            when = wording.callback_wait_phrase(WaitEstimate(left, left, left))
        rules = policy.for_queue(s, rt.settings, callback.queue_id)
        body = text_for(callback, kind, str(rt.settings.extra.get("line_name", "Holdless")),
                        when, rules)
        number = callback.number
    sid = rt.gateway.send_sms(number, body)
    log.info("callback %s: %s SMS sent to %s", callback_id, kind, mask(number))
    return sid

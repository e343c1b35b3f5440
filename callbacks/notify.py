"""Text messages about callbacks (sent by the worker, after the row they describe is committed)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from holdless import paths
from holdless.speech import ENGLISH, Speech
from holdless.twilio_gateway import (
    SMS_NOT_MOBILE_CODES,
    SMS_OPTED_OUT_CODE,
    TwilioRestException,
)
from ivr import language, policy, texting, wording
from ivr.numbers import mask
from models.callbacks import TEXT_BOOKED, TEXT_MOVED, TEXT_UNREACHABLE, Callback
from models.texts import QUEUED, REFUSED, SENDING, SKIPPED, TextMessage
from queueing.estimate import WaitEstimate

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

def text_for(callback: Callback, kind: str, line: str, when: str,
             rules: policy.Policy | None = None, sp: Speech = ENGLISH) -> str:
    """The SMS body of one kind of callback message (`when`: "in about 12 minutes"), in
    the customer's language; the queue policy's own text, where set, with the reference
    and how to cancel."""
    ref, word = callback.reference, texting.cancel_word(sp)
    if kind == TEXT_BOOKED and rules is not None and rules.sms_booked:
        return f"{line}: {rules.sms_booked} " + sp.gettext(
            "Reference {reference}; we will call you {when}. Reply {word} if you no longer "
            "need the call.", reference=ref, when=when, word=word)
    if kind == TEXT_UNREACHABLE and rules is not None and rules.sms_unreachable:
        return f"{line}: {rules.sms_unreachable} " + sp.gettext("(reference {reference})",
                                                                 reference=ref)
    if kind == TEXT_BOOKED and callback.slot_start is not None:
        return f"{line}: " + sp.gettext(
            "your callback is booked, reference {reference}. We will call you {when}. "
            "Reply {word} if you no longer need the call.", reference=ref, when=when, word=word)
    if kind == TEXT_BOOKED:
        return f"{line}: " + sp.gettext(
            "your callback is booked, reference {reference}. We will call you {when}, keeping "
            "your place in line. Reply {word} if you no longer need the call.",
            reference=ref, when=when, word=word)
    if kind == TEXT_UNREACHABLE:
        return f"{line}: " + sp.ngettext(
            "we tried {count} time to call you back (reference {reference}) but could not "
            "reach you. Please call us again when it suits you.",
            "we tried {count} times to call you back (reference {reference}) but could not "
            "reach you. Please call us again when it suits you.", callback.attempts,
            reference=ref)
    if kind == TEXT_MOVED:
        return f"{line}: " + sp.gettext(
            "we cannot call you back at the time we said (reference {reference}), as it falls "
            "outside our opening hours or late in your day. We will call you {when}. Reply "
            "{word} if you no longer need the call.", reference=ref, when=when, word=word)
    raise ValueError(f"unknown callback message {kind!r}")


def send_sms(rt: Runtime, callback_id: int, kind: str, when: str = "", key: str = "") -> str:
    """Job: text the customer of a callback (booked or moved, saying `when`; or unreachable), at
    most once per `key` (default: once per callback and kind), never to a number that
    opted out or cannot receive texts. Returns the message sid, or why none was sent."""
    key = key or f"{kind}-{callback_id}"
    with rt.db.session() as s:
        callback = s.get(Callback, callback_id)
        if callback is None:
            return "no such callback"
        sp = language.for_callback(rt, callback)
        if not when and callback.expected_at is not None:
            left = max(0.0, (callback.expected_at - rt.clock.now()).total_seconds())
            when = wording.callback_wait_phrase(WaitEstimate(left, left, left), sp)
        rules = policy.for_queue(s, rt.settings, callback.queue_id)
        body = text_for(callback, kind, str(rt.settings.extra.get("line_name", "Holdless")),
                        when, rules, sp)
        number = callback.number
    text_id = _take_key(rt, key, callback_id, kind, number)
    if text_id is None:
        log.info("callback %s: %s SMS already handled (key taken)", callback_id, kind)
        return "already sent"
    return _send(rt, text_id, number, body, f"callback {callback_id}: {kind}")


def _take_key(rt: Runtime, key: str, callback_id: int | None, kind: str,
              number: str) -> int | None:
    """Record the text under `key` before anything is sent (SKIPPED at once when the
    number cannot be texted); None when the key was taken already."""
    now = rt.clock.now()
    try:
        with rt.db.session() as s:
            status = SENDING if texting.can_text(s, number) else SKIPPED
            row = TextMessage(key=key, callback_id=callback_id, kind=kind, number=number,
                              status=status, created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            return row.id
    except IntegrityError:
        return None


def _send(rt: Runtime, text_id: int, number: str, body: str, what: str) -> str:
    """Send the recorded text through Twilio and record its answer: the sid and `queued`,
    or Twilio's refusal (21610 also records the opt-out)."""
    with rt.db.session() as s:
        if s.get_one(TextMessage, text_id).status == SKIPPED:
            log.info("%s SMS not sent: %s opted out or cannot take texts", what, mask(number))
            return "not sent: cannot text this number"
    try:
        sid = rt.gateway.send_sms(number, body, rt.url(paths.SMS_STATUS))
    except TwilioRestException as exc:
        _refused(rt, text_id, number, exc)
        log.warning("%s SMS to %s refused by Twilio (%s)", what, mask(number), exc.code)
        if exc.code == SMS_OPTED_OUT_CODE or exc.code in SMS_NOT_MOBILE_CODES:
            return f"refused: {exc.code}"
        raise
    with rt.db.session() as s:  # a status callback may have come first and set both
        row = s.get_one(TextMessage, text_id)
        row.sid = sid
        if row.status == SENDING:
            row.status, row.updated_at = QUEUED, rt.clock.now()
    log.info("%s SMS sent to %s", what, mask(number))
    return sid


def _refused(rt: Runtime, text_id: int, number: str, exc: TwilioRestException) -> None:
    """Twilio answered the create with an error, so nothing was sent: a definite refusal is
    recorded (an opt-out for 21610); any other error frees the key so a retry may send."""
    now = rt.clock.now()
    definite = exc.code == SMS_OPTED_OUT_CODE or exc.code in SMS_NOT_MOBILE_CODES
    with rt.db.session() as s:
        row = s.get_one(TextMessage, text_id)
        if not definite:
            s.delete(row)
            return
        row.status, row.error_code, row.updated_at = REFUSED, exc.code, now
        if exc.code == SMS_OPTED_OUT_CODE:
            texting.record_opt(s, number, True, texting.SOURCE_TWILIO_REFUSAL, now)

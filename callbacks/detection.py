"""Asynchronous answering-machine detection of a callback's customer call.

Twilio runs the call's TwiML as soon as it is answered and posts AnsweredBy to the
AsyncAmdStatusCallback when detection ends (docs: /docs/voice/answering-machine-detection,
"AsyncAmd"). So the customer is greeted at once, then waits a moment; only once Twilio says
a person (human) or cannot tell (unknown) answered are they bridged to the agent (or put in
line, customer first). A machine or fax is never bridged: the call is ended and the attempt
counts as not reached, retried per the queue's callback policy.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from twilio.twiml.voice_response import VoiceResponse

from callbacks import customer_first, placing
from holdless import paths, tasks
from holdless.speech import N_
from ivr import language, twiml
from models.callbacks import ATTEMPT_CONNECTED, CallbackAttempt

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

# Every AnsweredBy value Twilio documents (Enable: the first four; DetectMessageEnd: the
# machine_end_* values in place of machine_start).
HUMAN, UNKNOWN, FAX = "human", "unknown", "fax"
MACHINE_VALUES = ("machine_start", "machine_end_beep", "machine_end_silence",
                  "machine_end_other")
ANSWERED_BY_VALUES = (HUMAN, UNKNOWN, FAX, *MACHINE_VALUES)
# While detection listens the customer waits in steps of this many seconds, for at most the
# limit: Twilio's MachineDetectionTimeout (30 s by default) ends detection with "unknown",
# so a result later than that is not coming and the customer is treated as a person.
DETECTION_WAIT_STEP_SECONDS = 1
DETECTION_WAIT_LIMIT_SECONDS = 35
STILL_THERE = N_("One moment, please.")


def greet(rt: Runtime, attempt_id: int) -> VoiceResponse:
    """Webhook (the call's Url, answered, detection still listening): greet the customer at
    once, then wait for detection's answer."""
    with rt.db.session() as s:
        attempt = s.get(CallbackAttempt, attempt_id)
        if attempt is None or attempt.outcome not in ("", ATTEMPT_CONNECTED) \
                or not attempt.callback.is_open:
            sp = language.for_callback(rt, attempt.callback) if attempt else language.ENGLISH
            return twiml.goodbye(sp.gettext(placing.CANNOT_CONNECT), sp=sp)
        sp = language.for_callback(rt, attempt.callback)
        text = f"{placing.callback_greeting(rt, attempt.callback, sp)} {sp.gettext(STILL_THERE)}"
    return twiml.pause_then_redirect(text, 0, _wait_url(rt, attempt_id, 0), sp=sp)


def wait_for_detection(rt: Runtime, attempt_id: int, call_sid: str,
                       waited: int) -> VoiceResponse:
    """Webhook: the greeted customer waits; once detection has answered, bridge a person
    (or let them hold in line, customer first) and hang up on a machine."""
    with rt.db.session() as s:
        attempt = s.get(CallbackAttempt, attempt_id)
        answered_by = attempt.answered_by if attempt is not None else UNKNOWN
    if not answered_by and waited < DETECTION_WAIT_LIMIT_SECONDS:
        step = DETECTION_WAIT_STEP_SECONDS
        return twiml.pause_then_redirect("", step, _wait_url(rt, attempt_id, waited + step))
    return customer_first.customer_picked_up(rt, attempt_id, answered_by or UNKNOWN,
                                             call_sid, greeted=True)


def detected(rt: Runtime, attempt_id: int, answered_by: str, call_sid: str) -> None:
    """Webhook (AsyncAmdStatusCallback): record who answered; a machine or fax is never
    bridged: the attempt is settled as not reached (retried per policy) and the call ended."""
    answered_by = answered_by or UNKNOWN
    with rt.db.session() as s:
        attempt = s.get(CallbackAttempt, attempt_id)
        if attempt is None:
            raise placing.UnknownAttempt(str(attempt_id))
        if attempt.answered_by:
            return  # a repeated report
        attempt.answered_by = answered_by
        call_sid = call_sid or attempt.call_sid or ""
    log.info("callback attempt %s: answered by %s", attempt_id, answered_by)
    if not placing.is_machine(answered_by):
        return
    placing.customer_failed(rt, attempt_id, f"answered by {answered_by}")
    if call_sid:
        rt.enqueue(tasks.END_CALLBACK_CALL, call_sid, job_id=f"cb-end-machine-{attempt_id}")


def detected_job(rt: Runtime, attempt_id: int, answered_by: str, call_sid: str) -> str:
    """Job: who answered, reported while the database was unreachable, recorded now
    (`detected`); an attempt the database does not know is nothing to do, not retried."""
    try:
        detected(rt, attempt_id, answered_by, call_sid)
    except placing.UnknownAttempt:
        return "unknown attempt: nothing to record"
    return "recorded"


def _wait_url(rt: Runtime, attempt_id: int, waited: int) -> str:
    return rt.url(paths.CALLBACK_CUSTOMER_WAIT, attempt=attempt_id, waited=waited)

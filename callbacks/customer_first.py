"""Placing a callback customer first (Queue.dial_mode "customer-first").

When routing hands a customer-first callback to an agent, the agent is released at once
(the pairing only says "it is this callback's turn"); the customer is rung with answering-
machine detection. Only a person who answers is put back in line, as a live caller at the
callback's original place ("please hold for the next agent"), and routing then pairs them
with an agent like any caller. A machine, busy, no answer or failure is a failed try,
retried per the queue's policy, with no agent ever waiting on the ringing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callbacks import placing
from holdless import paths
from ivr import booking, language, leaving, recording_notice, twiml
from ivr.interactions import CALLED_BACK
from models.callbacks import (
    ATTEMPT_CLOSED,
    ATTEMPT_CONNECTED,
    ATTEMPT_RELEASED,
    COMPLETED,
    DIALLING,
    Callback,
    CallbackAttempt,
)
from models.entities import WAITING, Assignment, Interaction
from models.privacy import POLICY_RECORD
from models.states import ENDED_CALL_STATUSES
from queueing import directory, dispatch, lines

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

CUSTOMER_FIRST = "customer-first"


def is_customer_first(rt: Runtime, assignment_id: int) -> bool:
    """Whether the callback of an assignment belongs to a customer-first queue."""
    with rt.db.session() as s:
        assignment = s.get(Assignment, assignment_id)
        callback = None if assignment is None else s.get(
            Callback, booking.callback_id_of(assignment.entry) or 0)
        return callback is not None and callback.queue.dial_mode == CUSTOMER_FIRST


def start(rt: Runtime, assignment_id: int) -> str:
    """Job body: record the attempt, release the paired agent, then ring the customer."""
    try:
        planned = _record_attempt(rt, assignment_id)
    except IntegrityError:
        return "already dialled"  # another run recorded this attempt first
    if isinstance(planned, str):
        return planned
    attempt_id, agent_id = planned
    placing.free(rt, agent_id)
    return placing.dial_customer(rt, attempt_id)


def _record_attempt(rt: Runtime, assignment_id: int) -> tuple[int, int] | str:
    key = placing.idempotency_key(assignment_id)
    with rt.db.session() as s:
        assignment = s.get(Assignment, assignment_id)
        if assignment is None or assignment.ended_at is not None:
            return "already ended"
        if s.scalar(select(CallbackAttempt.id).where(CallbackAttempt.idempotency_key == key)):
            return "already dialled"
        callback = s.get(Callback, booking.callback_id_of(assignment.entry) or 0)
        agent_id, now = assignment.agent_id, rt.clock.now()
        if callback is None or not callback.is_open:
            placing.end_assignment(assignment, ATTEMPT_CLOSED, rt)
            attempt_id = 0
        else:
            attempt = CallbackAttempt(
                callback_id=callback.id, number=callback.attempts + 1, idempotency_key=key,
                assignment_id=assignment_id, agent_id=None, started_at=now)
            callback.status, callback.updated_at = DIALLING, now
            placing.end_assignment(assignment, ATTEMPT_RELEASED, rt)
            s.add(attempt)
            s.flush()
            attempt_id = attempt.id
    if not attempt_id:
        placing.free(rt, agent_id)
        return ATTEMPT_CLOSED
    return attempt_id, agent_id


def answered(rt: Runtime, attempt_id: int, call_sid: str, greeted: bool = False
             ) -> VoiceResponse:
    """A person answered: the promise is kept; they wait in line as a live caller at the
    callback's original place until routing pairs them with an agent."""
    with rt.db.session() as s:
        attempt = s.get(CallbackAttempt, attempt_id)
        if attempt is None or attempt.outcome not in ("", ATTEMPT_CONNECTED):
            sp = language.for_callback(rt, attempt.callback) if attempt else language.ENGLISH
            return twiml.goodbye(sp.gettext(placing.CANNOT_CONNECT), sp=sp)
        callback, now = attempt.callback, rt.clock.now()
        sp = language.for_callback(rt, callback)
        attempt.customer_answered_at = attempt.customer_answered_at or now
        attempt.outcome = ATTEMPT_CONNECTED
        callback.status, callback.open_key, callback.updated_at = COMPLETED, None, now
        interaction = _interaction(s, rt, callback, call_sid)
        s.flush()
        entry = lines.Entry(lines.caller_entry_id(interaction.id), callback.queue.slug,
                            lines.CALLER, callback.place, call_sid, interaction.id)
        text = "" if greeted else placing.callback_greeting(rt, callback, sp) + " "
        if interaction.recording_policy == POLICY_RECORD:
            text += sp.gettext(recording_notice.NOTICE) + " "
        text += sp.gettext("Please hold for the next agent.")
        callback_entry = booking.entry_for(callback)
    lines.forget(rt.live, callback_entry)
    lines.join(rt.live, entry)
    dispatch.route_and_offer(rt, [entry.queue])
    language.remember(rt, call_sid, sp.tag)  # the rest of the call speaks it too
    return twiml.wait_in_line(text, entry.queue, rt.url(paths.HOLD), rt.url(paths.QUEUE_EXIT),
                              sp=sp)


def _interaction(s: Session, rt: Runtime, callback: Callback, call_sid: str) -> Interaction:
    found = s.scalar(select(Interaction).where(Interaction.call_sid == call_sid))
    if found is not None:
        return found
    interaction = Interaction(
        call_sid=call_sid, kind=CALLED_BACK, caller_number=callback.number,
        caller=directory.known_caller(s, callback.number), queue_id=callback.queue_id,
        queue=callback.queue, joined_at=callback.place, created_at=rt.clock.now(),
        ivr_choices={"callback": callback.reference}, status=WAITING,
        # the call back keeps the recording policy the customer's own call decided
        recording_policy=callback.interaction.recording_policy if callback.interaction else None)
    s.add(interaction)
    return interaction


def call_ended(rt: Runtime, call_sid: str) -> None:
    """The customer's call of a customer-first callback ended: if they were waiting or
    talking as a live caller, end that as for any caller."""
    with rt.db.session() as s:
        known = s.scalar(select(Interaction.id).where(Interaction.call_sid == call_sid,
                                                      Interaction.kind == CALLED_BACK))
    if known is not None:
        leaving.caller_left(rt, call_sid)


def customer_call_status(rt: Runtime, attempt_id: int, status: str, call_sid: str) -> None:
    """Twilio's report on the customer's call of a callback attempt (agent first or customer
    first): settle the attempt, and once the call has ended, end the caller it became."""
    placing.customer_status(rt, attempt_id, status)
    if status in ENDED_CALL_STATUSES:
        call_ended(rt, call_sid)


def customer_picked_up(rt: Runtime, attempt_id: int, answered_by: str,
                       call_sid: str = "", greeted: bool = False) -> VoiceResponse:
    """Who answered a callback's customer call is known: a person called customer first
    waits in line for the next agent; otherwise they join the agent already on the line (a
    machine counts as no answer either way). `greeted`: the greeting was already said."""
    person = not placing.is_machine(answered_by)
    with rt.db.session() as s:
        attempt = s.get(CallbackAttempt, attempt_id)
        no_agent = attempt is not None and attempt.agent_id is None
    if person and no_agent:
        return answered(rt, attempt_id, call_sid, greeted)
    return placing.customer_answered(rt, attempt_id, answered_by, call_sid, greeted)

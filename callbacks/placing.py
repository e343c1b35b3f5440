"""Placing a callback, agent first: ring the agent, whisper, then dial the customer in.

Each attempt is a CallbackAttempt row committed (with its unique idempotency key) before
anyone is dialled; the customer's call is claimed with a conditional update before it is
placed. So a job that runs twice, or two workers running one job, place one call.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callbacks import accepting, adoption, agent_legs, window
from callbacks import recording as conversations
from holdless import paths, tasks
from holdless.speech import ENGLISH, N_, Speech
from holdless.twilio_gateway import (
    AGENT_RING_TIMEOUT_SECONDS,
    DialRefused,
    TwilioRestException,
)
from ivr import booking, language, policy, recording_notice, twiml, wording
from ivr.numbers import mask
from models.callbacks import (
    ATTEMPT_AGENT_LEFT,
    ATTEMPT_AGENT_MISSED,
    ATTEMPT_CLOSED,
    ATTEMPT_CONNECTED,
    ATTEMPT_FINISHED,
    BOOKED,
    COMPLETED,
    DIALLING,
    TEXT_UNREACHABLE,
    UNREACHABLE,
    Callback,
    CallbackAttempt,
)
from models.entities import Agent, Assignment, Caller
from models.states import CALLBACK_AGENT, ENDED_CALL_STATUSES
from queueing import agents, dispatch, keys, lines, stats
from queueing.limits import CUSTOMER_RING_TIMEOUT_SECONDS
from queueing.presence import AVAILABLE, BUSY, StateRefused

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

DIALLING_NOW = N_("Dialling the customer now.")
THEIR_MESSAGE = N_("Their message:")
CANNOT_CONNECT = N_("Sorry, we cannot connect this call now. Goodbye.")
NO_LONGER_NEEDED = N_("This callback is no longer needed. Goodbye.")
ATTEMPT_AGENT_REFUSED = "agent refused"  # Twilio would not ring the agent


class UnknownAttempt(LookupError):
    """A webhook named a callback attempt Holdless has no record of."""


def idempotency_key(assignment_id: int) -> str:
    """The key of the attempt made for one routing assignment (deterministic, so reruns match)."""
    return f"callback-assignment-{assignment_id}"


def callback_conference(attempt_id: int) -> str:
    """The conference an attempt's agent and customer meet in."""
    return f"hl-cb-{attempt_id}"


def ring_agent(rt: Runtime, assignment_id: int) -> str:
    """Record the attempt, then ring the agent paired with a callback entry (agent first)."""
    try:
        planned = _record_attempt(rt, assignment_id)
    except IntegrityError:
        return "already dialled"  # another run recorded this attempt first
    if isinstance(planned, str):
        return planned
    attempt_id, contact, rung_since = planned
    if rung_since is not None and adoption.adopt_if_placed(rt, CALLBACK_AGENT, attempt_id,
                                                           contact, rung_since):
        return "already dialled"
    try:
        sid = rt.gateway.dial(contact, rt.url(paths.CALLBACK_AGENT, attempt=attempt_id),
                              rt.url(paths.CALLBACK_AGENT_STATUS, attempt=attempt_id),
                              timeout=AGENT_RING_TIMEOUT_SECONDS)
    except DialRefused as refused:
        return agent_refused(rt, attempt_id, refused.reason)
    except TwilioRestException:
        log.exception("callback attempt %s: the agent could not be rung", attempt_id)
        callback_agent_status(rt, attempt_id, "failed")
        return "agent unreachable"
    with rt.db.session() as s:
        _attempt(s, attempt_id).agent_call_sid = sid
    return "agent rung"


def _record_attempt(rt: Runtime, assignment_id: int
                    ) -> tuple[int, str, datetime | None] | str:
    """Record the assignment's attempt; returns its id, the agent's contact and, when the
    attempt was recorded by an earlier run that left no sign of ringing the agent (its
    worker died mid-job), when that run began; or why there is nothing to ring."""
    key, agent_id = idempotency_key(assignment_id), 0
    with rt.db.session() as s:
        assignment = s.get(Assignment, assignment_id)
        if assignment is None or assignment.ended_at is not None:
            return "already ended"
        earlier = s.scalar(select(CallbackAttempt).where(CallbackAttempt.idempotency_key == key))
        if earlier is not None:
            if (earlier.agent_call_sid or earlier.outcome or earlier.agent_answered_at
                    or earlier.customer_dialled_at):
                return "already dialled"
            agent = s.get(Agent, earlier.agent_id)
            return earlier.id, str(agent.contact if agent else ""), earlier.started_at
        callback = s.get(Callback, booking.callback_id_of(assignment.entry) or 0)
        agent_id = assignment.agent_id
        if callback is None or not callback.is_open:
            end_assignment(assignment, ATTEMPT_CLOSED, rt)
        else:
            attempt = CallbackAttempt(
                callback_id=callback.id, number=callback.attempts + 1, idempotency_key=key,
                assignment_id=assignment_id, agent_id=agent_id, started_at=rt.clock.now())
            callback.status, callback.updated_at = DIALLING, rt.clock.now()
            s.add(attempt)
            s.flush()
            agent = s.get(Agent, agent_id)
            return attempt.id, str(agent.contact if agent else ""), None
    free(rt, agent_id)
    return ATTEMPT_CLOSED


def callback_whisper(s: Session, callback: Callback, attempt: CallbackAttempt, now: float,
                     sp: Speech = ENGLISH, then: str = DIALLING_NOW) -> str:
    """What the agent hears: who, which queue, how long since they joined, which attempt,
    then what comes next (`then`, a msgid; "" for nothing)."""
    caller = s.scalar(select(Caller).where(Caller.number == callback.number))
    who = caller.name if caller is not None and caller.name else sp.gettext("a customer")
    waited = wording.minutes(max(0.0, now - callback.place))
    said = sp.ngettext("Callback to {who}, {queue}, waiting {count} minute, attempt {attempt} "
                       "of {attempts}.", "Callback to {who}, {queue}, waiting {count} minutes, "
                       "attempt {attempt} of {attempts}.", waited, who=who,
                       queue=callback.queue.name, attempt=attempt.number,
                       attempts=callback.max_attempts)
    return f"{said} {sp.gettext(then)}" if then else said


def callback_accept_url(rt: Runtime, attempt_id: int, tries: int) -> str:
    """Where an agent's accept key (or its absence) for a callback attempt is posted."""
    return rt.url(paths.CALLBACK_AGENT_ACCEPT, attempt=attempt_id, tries=tries)


def callback_agent_accept(rt: Runtime, attempt_id: int, digits: str,
                          tries: int) -> VoiceResponse:
    """Webhook: the agent's key after a callback's whisper: accept goes on to dial the
    customer, else ask again once, then end their call unanswered (a missed offer)."""
    if accepting.accepted(digits):
        return agent_took_callback(rt, attempt_id, accepted=True)
    with rt.db.session() as s:
        sp = language.for_queue(rt, _attempt(s, attempt_id).callback.queue)
    return accepting.not_accepted(tries, callback_accept_url(rt, attempt_id, tries + 1), sp)


def agent_took_callback(rt: Runtime, attempt_id: int, accepted: bool = False) -> VoiceResponse:
    """Webhook: the agent picked up. Whisper (and play the customer's message, if they left
    one, before dialling them), hold them in the conference, dial the customer. An agent on
    a phone number accepts with a key first (a voicemail answers too)."""
    text, recording = "", None
    with rt.db.session() as s:
        attempt = _attempt(s, attempt_id)
        callback = attempt.callback
        sp = language.for_queue(rt, callback.queue)
        agent = s.get(Agent, attempt.agent_id or 0)
        asking = (not accepted and agent is not None and not attempt.outcome
                  and callback.is_open and accepting.needs_accepting(agent.contact))
        if asking:
            text = sp.gettext("Callback waiting in {queue}, press {digit} to accept.",
                              queue=callback.queue.name, digit=accepting.ACCEPT_DIGIT)
            text += " " + callback_whisper(s, callback, attempt, rt.clock.time(), sp, "")
    if asking:
        return accepting.ask(text, callback_accept_url(rt, attempt_id, 1), sp)
    with rt.db.session() as s:
        attempt = _attempt(s, attempt_id)
        callback = attempt.callback
        if attempt.outcome or not callback.is_open:
            attempt.outcome = attempt.outcome or ATTEMPT_CLOSED
            assignment = s.get(Assignment, attempt.assignment_id or 0)
            if assignment is not None:
                end_assignment(assignment, ATTEMPT_CLOSED, rt)
        else:
            attempt.agent_answered_at = attempt.agent_answered_at or rt.clock.now()
            recording = callback.recording_url
            text = callback_whisper(s, callback, attempt, rt.clock.time(), sp,
                                    THEIR_MESSAGE if recording else DIALLING_NOW)
    if not text:
        return twiml.goodbye(sp.gettext(NO_LONGER_NEEDED), sp=sp)
    if recording:  # Twilio fetches <Play> media with a plain GET (twilio.com/docs/voice/
        # twiml/play): an account that requires basic auth on recording media would refuse
        # it Twilio's own link, so the app serves it, under a key for this attempt alone
        return twiml.play_then_redirect(
            text, rt.url(paths.CALLBACK_MESSAGE_MEDIA, attempt=attempt_id,
                         key=message_key(rt.settings.twilio_auth_token, attempt_id)),
            rt.url(paths.CALLBACK_AGENT_HEARD, attempt=attempt_id), sp=sp)
    rt.enqueue(tasks.DIAL_CUSTOMER, attempt_id, job_id=f"cb-dial-{attempt_id}")
    return twiml.join_conference(text, callback_conference(attempt_id), agent=True, sp=sp)


def message_key(secret: str, attempt_id: int) -> str:
    """The key in the URL Twilio plays a callback attempt's message from (an HMAC of the
    attempt with the account's auth token, which the web app and the worker share)."""
    mac = hmac.new(secret.encode(), f"callback-message:{attempt_id}".encode(), hashlib.sha256)
    return mac.hexdigest()


def message_for(rt: Runtime, attempt_id: int, key: str) -> str | None:
    """The RecordingUrl of the attempt's callback when `key` is its message key, else None."""
    expected = message_key(rt.settings.twilio_auth_token, attempt_id)
    if not rt.settings.twilio_auth_token or not hmac.compare_digest(expected, key):
        return None
    with rt.db.session() as s:
        attempt = s.get(CallbackAttempt, attempt_id)
        return attempt.callback.recording_url if attempt is not None else None


def agent_heard(rt: Runtime, attempt_id: int) -> VoiceResponse:
    """Webhook: the agent has heard the customer's message; now dial the customer."""
    with rt.db.session() as s:
        attempt = _attempt(s, attempt_id)
        still_on = attempt.outcome == "" and attempt.callback.is_open
        sp = language.for_queue(rt, attempt.callback.queue)
    if not still_on:
        return twiml.goodbye(sp.gettext(NO_LONGER_NEEDED), sp=sp)
    rt.enqueue(tasks.DIAL_CUSTOMER, attempt_id, job_id=f"cb-dial-{attempt_id}")
    return twiml.join_conference(sp.gettext(DIALLING_NOW), callback_conference(attempt_id),
                                 agent=True, sp=sp)


def dial_customer(rt: Runtime, attempt_id: int) -> str:
    """Job: claim the attempt's one customer call, then place it (answering machines detected)."""
    agent_sid: str | None = None
    with rt.db.session() as s:
        claimed = s.execute(
            update(CallbackAttempt)
            .where(CallbackAttempt.id == attempt_id, CallbackAttempt.customer_dialled_at.is_(None),
                   CallbackAttempt.outcome == "")
            .values(customer_dialled_at=rt.clock.now()))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return "already dialled"
        attempt = _attempt(s, attempt_id)
        callback = attempt.callback
        if not callback.is_open:  # cancelled while the agent was rung
            attempt.outcome, agent_sid = ATTEMPT_CLOSED, attempt.agent_call_sid
            assignment = s.get(Assignment, attempt.assignment_id or 0)
            if assignment is not None:
                end_assignment(assignment, ATTEMPT_CLOSED, rt)
        else:
            callback.attempts, callback.updated_at = attempt.number, rt.clock.now()
        number = callback.number
    if attempt.outcome == ATTEMPT_CLOSED:
        if agent_sid:  # the agent's status report then frees them
            rt.enqueue(tasks.END_CALLBACK_CALL, agent_sid, job_id=f"cb-release-{attempt_id}")
        return "callback closed"
    try:
        sid = rt.gateway.dial(number, rt.url(paths.CALLBACK_CUSTOMER, attempt=attempt_id),
                              rt.url(paths.CALLBACK_CUSTOMER_STATUS, attempt=attempt_id),
                              amd_callback=rt.url(paths.CALLBACK_CUSTOMER_AMD, attempt=attempt_id),
                              timeout=CUSTOMER_RING_TIMEOUT_SECONDS)
    except DialRefused as refused:
        # The customer's number refused: calling it again is refused again, give up now.
        # Our caller ID refused (TWILIO_CALLER_ID): their number is fine, retry per policy.
        log.log(logging.ERROR if refused.blames_caller_id else logging.WARNING,
                "callback attempt %s: %s", attempt_id, refused.reason)
        customer_failed(rt, attempt_id, f"refused {refused.code}",
                        give_up=not refused.blames_caller_id)
        return "customer refused"
    except TwilioRestException:
        log.exception("callback attempt %s: the customer could not be dialled", attempt_id)
        customer_failed(rt, attempt_id, "failed")
        return "dial failed"
    with rt.db.session() as s:
        _attempt(s, attempt_id).call_sid = sid
    log.info("callback attempt %s: dialling %s", attempt_id, mask(number))
    return "customer dialled"


def is_machine(answered_by: str) -> bool:
    """Whether Twilio's AnsweredBy names a machine (answering machine or fax), never bridged;
    human and unknown are treated as a person."""
    return answered_by.startswith("machine") or answered_by == "fax"


def callback_greeting(rt: Runtime, callback: Callback, sp: Speech = ENGLISH) -> str:
    """What the customer hears first: who calls, about which call, the reference."""
    line = str(rt.settings.extra.get("line_name", "Holdless"))
    return sp.gettext("Hello, this is {line} calling you back about your call to {queue}, as "
                      "you asked, reference {reference}.", line=line, queue=callback.queue.name,
                      reference=wording.spell(callback.reference))


def customer_answered(rt: Runtime, attempt_id: int, answered_by: str,
                      call_sid: str = "", greeted: bool = False) -> VoiceResponse:
    """Webhook: the customer's phone answered. A machine counts as no answer; a person is
    told who is calling back and why (unless `greeted` already), then joins the agent."""
    if is_machine(answered_by):
        customer_failed(rt, attempt_id, f"answered by {answered_by}")
        return twiml.hang_up()
    with rt.db.session() as s:
        attempt = _attempt(s, attempt_id)
        callback = attempt.callback
        sp = language.for_callback(rt, callback)
        if attempt.outcome not in ("", ATTEMPT_CONNECTED):
            return twiml.goodbye(sp.gettext(CANNOT_CONNECT), sp=sp)
        now = rt.clock.now()
        attempt.customer_answered_at = attempt.customer_answered_at or now
        attempt.outcome = ATTEMPT_CONNECTED
        callback.status, callback.open_key, callback.updated_at = COMPLETED, None, now
        agent = s.get(Agent, attempt.agent_id or 0)
        language.remember(rt, call_sid or attempt.call_sid or "", sp.tag)  # its survey too
        text = "" if greeted else callback_greeting(rt, callback, sp) + " "
        joined = conversations.joined_url(rt, callback.interaction, attempt_id)
        if joined:  # recorded as the call they made was: told again on this new call
            text += sp.gettext(recording_notice.NOTICE) + " "
        text += (sp.gettext("Connecting you to {agent} now.", agent=agent.name) if agent
                 else sp.gettext("Connecting you to an agent now."))
        entry = booking.entry_for(callback)
    lines.forget(rt.live, entry)
    return twiml.join_conference(text, callback_conference(attempt_id), agent=False, sp=sp,
                                 joined_url=joined)


def customer_status(rt: Runtime, attempt_id: int, status: str) -> None:
    """Webhook: Twilio's report on the customer's call; ending unanswered is a failed try."""
    if status not in ENDED_CALL_STATUSES:
        return
    with rt.db.session() as s:
        attempt = _attempt(s, attempt_id)
        answered = attempt.customer_answered_at is not None
        if answered and attempt.ended_at is None:
            attempt.ended_at = rt.clock.now()
    if not answered:
        customer_failed(rt, attempt_id, status)


def customer_failed(rt: Runtime, attempt_id: int, outcome: str, give_up: bool = False) -> None:
    """The customer was not reached: release the agent at once, then retry later or close
    the callback as unreachable (and text the customer); at once when `give_up` (Twilio
    refuses to call the number: the outcome says why)."""
    with rt.db.session() as s:
        attempt = _attempt(s, attempt_id)
        if attempt.outcome:
            return  # already settled (a second report of the same failure)
        attempt.outcome, attempt.ended_at = outcome, rt.clock.now()
        callback = attempt.callback
        assignment = s.get(Assignment, attempt.assignment_id or 0)
        if assignment is not None:
            end_assignment(assignment, f"customer {outcome}", rt)
        spacing = policy.for_queue(s, rt.settings, callback.queue_id).spacing_seconds
        final = _after_failure(callback, rt, spacing, give_up)
        agent_id, agent_sid = attempt.agent_id, attempt.agent_call_sid
        callback_id, tries, entry = callback.id, callback.attempts, booking.entry_for(callback)
        queue_id = callback.queue_id
    log.info("callback %s attempt %s: customer %s", callback_id, tries, outcome)
    if agent_sid:
        rt.enqueue(tasks.END_CALLBACK_CALL, agent_sid, job_id=f"cb-release-{attempt_id}")
    if agent_id is not None:
        free(rt, agent_id)
    if final:
        lines.forget(rt.live, entry)
        key = f"cb-sms-unreachable-{callback_id}"
        rt.enqueue(tasks.SEND_SMS, callback_id, TEXT_UNREACHABLE, "", key, job_id=key)
    else:  # a retry that would fall outside the callback's hours moves to the next allowed
        booking.schedule_due(rt, callback_id, rt.clock.now() + timedelta(seconds=spacing))
        window.hold(rt, queue_id)


def _after_failure(callback: Callback, rt: Runtime, spacing: float, give_up: bool) -> bool:
    now = rt.clock.now()
    callback.updated_at = now
    if not callback.is_open:
        return False
    if give_up or callback.attempts >= callback.max_attempts:
        callback.status, callback.open_key, callback.next_attempt_at = UNREACHABLE, None, None
        return True
    callback.status = BOOKED
    callback.next_attempt_at = now + timedelta(seconds=spacing)
    return False


def agent_refused(rt: Runtime, attempt_id: int, reason: str) -> str:
    """Twilio refused to ring a callback's agent: the attempt ends, the agent goes offline
    with the reason, and the callback goes back to its original place for the next agent."""
    with rt.db.session() as s:
        attempt = _attempt(s, attempt_id)
        if attempt.outcome:
            return "already settled"
        attempt.outcome, attempt.ended_at = ATTEMPT_AGENT_REFUSED, rt.clock.now()
        _back_in_line(s, attempt, rt)
        agent_id, callback_id = attempt.agent_id, attempt.callback_id
    if agent_id is not None:
        agents.take_offline(rt, agent_id, reason, (BUSY,))
    agent_legs.put_back_entry(rt, booking.entry_id(callback_id))
    return "agent refused"


def callback_agent_status(rt: Runtime, attempt_id: int, status: str) -> None:
    """Webhook: Twilio's report on the agent's leg. Unanswered: the callback goes back to
    its original place. After a conversation: wrap-up. After a failed try: nothing more."""
    if status not in ENDED_CALL_STATUSES:
        return
    with rt.db.session() as s:
        attempt = _attempt(s, attempt_id)
        outcome, answered = attempt.outcome, attempt.agent_answered_at is not None
        customer_on = attempt.customer_answered_at is not None and attempt.ended_at is None
        if outcome == ATTEMPT_CONNECTED:
            attempt.outcome = ATTEMPT_FINISHED
            _end_attempt_assignment(s, attempt, rt)
        elif outcome == "":
            attempt.outcome = ATTEMPT_AGENT_LEFT if answered else ATTEMPT_AGENT_MISSED
            attempt.ended_at = rt.clock.now()
            _back_in_line(s, attempt, rt)
        agent_id, callback_id = attempt.agent_id, attempt.callback_id
        customer_sid, queue = attempt.call_sid, attempt.callback.queue.slug
        talked = (rt.clock.now() - (attempt.agent_answered_at or rt.clock.now())).total_seconds()
    if agent_id is None:
        return
    if outcome == ATTEMPT_CONNECTED:
        if customer_on and customer_sid:  # the agent ended the conversation
            rt.enqueue(tasks.END_CALLBACK_CALL, customer_sid,
                       job_id=f"cb-end-customer-{attempt_id}")
        _wrap_up(rt, agent_id, queue, talked)
    elif outcome == "" and answered:
        if customer_sid:
            rt.enqueue(tasks.END_CALLBACK_CALL, customer_sid,
                       job_id=f"cb-end-customer-{attempt_id}")
        free(rt, agent_id, route=False)
        agent_legs.put_back_entry(rt, booking.entry_id(callback_id))
    elif outcome == "":
        agent_legs.missed_offer(rt, agent_id, [booking.entry_id(callback_id)],
                                agent_legs.MISSED_BECAUSE.get(status, status))
    elif outcome == ATTEMPT_CLOSED:
        free(rt, agent_id)


def _back_in_line(s: Session, attempt: CallbackAttempt, rt: Runtime) -> None:
    callback = attempt.callback
    if callback.status == DIALLING:
        callback.status, callback.updated_at = BOOKED, rt.clock.now()
    _end_attempt_assignment(s, attempt, rt)


def _end_attempt_assignment(s: Session, attempt: CallbackAttempt, rt: Runtime) -> None:
    """End the attempt's assignment, so the agent can be paired again."""
    assignment = s.get(Assignment, attempt.assignment_id or 0)
    if assignment is not None:
        end_assignment(assignment, attempt.outcome, rt)


def free(rt: Runtime, agent_id: int, route: bool = True) -> None:
    """Make an agent busy with a callback available again (unless they have moved on)."""
    try:
        dispatch.change_state(rt, agent_id, AVAILABLE, (BUSY,), route=route)
    except StateRefused as refused:
        log.info("agent %s not freed: already %s", agent_id, refused.current)


def _wrap_up(rt: Runtime, agent_id: int, queue: str, talked: float) -> None:
    stats.record_handle_time(rt.live, queue, talked + rt.settings.wrap_up_seconds)
    if not agent_legs.begin_wrap_up(rt, agent_id):
        return
    since = rt.live.hget(keys.agent(agent_id), "since")
    rt.enqueue(tasks.END_WRAP_UP, agent_id, str(since), delay=rt.settings.wrap_up_seconds)


def due(rt: Runtime, callback_id: int) -> str:
    """Job: a callback's retry is due; put it back in line at its original place."""
    with rt.db.session() as s:
        callback = s.get(Callback, callback_id)
        if callback is None or callback.status != BOOKED or callback.next_attempt_at is None:
            return "not waiting for a retry"
        left = (callback.next_attempt_at - rt.clock.now()).total_seconds()
        outside = left <= 0 and not window.may_ring_now(s, rt, callback)
        if left <= 0 and not outside:
            callback.next_attempt_at = callback.held_for = None
        entry, queue_id = booking.entry_for(callback), callback.queue_id
    if outside:  # the queue closed, or the customer's quiet hours began, meanwhile
        window.hold(rt, queue_id)
        return "held for its hours"
    if left > 0:
        booking.schedule_due(rt, callback_id, rt.clock.now() + timedelta(seconds=left))
        return "not yet due"
    _rejoin(rt, entry)
    return "back in line"




def _rejoin(rt: Runtime, entry: lines.Entry) -> None:
    lines.join(rt.live, entry)
    dispatch.route_and_offer(rt, [entry.queue])


def end_call(rt: Runtime, call_sid: str) -> str:
    """Job: hang up one leg of a callback (already over is not an error)."""
    return "hung up" if rt.gateway.end_call(call_sid) else "already over"


def end_assignment(assignment: Assignment, outcome: str, rt: Runtime) -> None:
    """Close a routing assignment (freeing its agent and entry in the database's eyes)."""
    if assignment.ended_at is None:
        assignment.ended_at, assignment.outcome = rt.clock.now(), outcome
        assignment.active_agent_id = assignment.active_entry = None


def _attempt(s: Session, attempt_id: int) -> CallbackAttempt:
    attempt = s.get(CallbackAttempt, attempt_id)
    if attempt is None:
        raise UnknownAttempt(str(attempt_id))
    return attempt

"""Conversation recordings: started through Twilio's REST API once the caller is bridged
with an agent (both channels of the caller's call), paused and resumed by the agent, and
their media's address kept when Twilio says the recording is complete.

The caller's <Conference> asks Twilio to report their joining (statusCallbackEvent
`join`, twilio.com/docs/voice/twiml/conference); that report, for an interaction whose
policy is to record, starts the one recording of the interaction (a later bridge, after a
transfer, finds it running and starts none). Twilio has no REST call that starts a
conference's recording (its Conference Recordings can only be listed, updated and
deleted), so the caller's own call is recorded, dual channel: the caller on one channel,
everything they hear, the agents, on the other.

The issue records only while the caller is bridged with an agent, so the <Conference> also
asks for `leave` (same page): a caller who leaves the bridge to wait in line again (sent back
to a queue, or their agent's leg gone) has the running recording paused (HELD) until they
join an agent's conference again, when it resumes. A pause the agent asked for (PAUSED) is
theirs: neither the leave nor the rejoin touches it. A caller who hangs up needs nothing:
Twilio completes the recording with the call.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from holdless import paths, tasks
from holdless.twilio_gateway import RECORDING_URL, TwilioRestException
from models.callbacks import CallbackAttempt
from models.entities import WAITING, Interaction
from models.privacy import (
    COMPLETED,
    DELETED,
    FAILED,
    HELD,
    IN_PROGRESS,
    LIVE_RECORDING,
    PAUSED,
    POLICY_RECORD,
    REQUESTED,
    ConversationRecording,
)

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

JOIN_EVENT, LEAVE_EVENT = "participant-join", "participant-leave"
# What an agent may do to a running recording, and the status Twilio is given for it.
ACTIONS = {"pause": PAUSED, "resume": IN_PROGRESS}
# Twilio knows one paused status: a held recording is paused there too.
AT_TWILIO = {HELD: PAUSED}


class NoRecording(LookupError):
    """The interaction has no running recording to pause or resume."""


def participant_joined(rt: Runtime, interaction_id: int, call_sid: str,
                       attempt_id: int | None = None) -> str:
    """Twilio reported a participant joining the interaction's conference: when it is the
    caller (or, for a callback's `attempt_id`, the customer called back) and the
    interaction's policy is to record, ask for its recording (one running at a time)."""
    with rt.db.session() as s:
        # the row lock makes two reports of one join (Twilio may post twice) ask once
        interaction = s.get(Interaction, interaction_id, with_for_update=True)
        if interaction is None or call_sid != _customer_call(s, interaction, attempt_id):
            return "not the caller"
        if interaction.recording_policy != POLICY_RECORD:
            return "not recorded"
        running = _running(s, interaction_id)
        if running is not None:
            return _resume_held(rt, running)
        row = ConversationRecording(interaction_id=interaction_id, call_sid=call_sid,
                                    status=REQUESTED, started_at=rt.clock.now())
        s.add(row)
        s.flush()
        recording_id = row.id
    rt.enqueue(tasks.START_RECORDING, recording_id, job_id=f"start-recording-{recording_id}")
    return "recording requested"


def participant_left(rt: Runtime, interaction_id: int, call_sid: str,
                     attempt_id: int | None = None) -> str:
    """Twilio reported a participant leaving the interaction's conference: when it is the
    caller (or the customer called back) and they are back waiting in line, the running
    recording is paused (held) until they are bridged again; an agent's pause stays theirs."""
    with rt.db.session() as s:
        interaction = s.get(Interaction, interaction_id, with_for_update=True)
        if interaction is None or call_sid != _customer_call(s, interaction, attempt_id):
            return "not the caller"
        if interaction.status != WAITING:
            return "not back in line"  # hung up, or ended: Twilio completes the recording
        row = _running(s, interaction_id)
        if row is None or row.status != IN_PROGRESS or row.sid is None:
            return "nothing recording"
        row.status, recording_id = HELD, row.id
    rt.enqueue(tasks.SET_RECORDING, recording_id, PAUSED)
    return "held"


def _running(s: Session, interaction_id: int) -> ConversationRecording | None:
    """The interaction's live recording (at most one), if any."""
    return s.scalar(select(ConversationRecording).where(
        ConversationRecording.interaction_id == interaction_id,
        ConversationRecording.status.in_(LIVE_RECORDING)).limit(1))


def _resume_held(rt: Runtime, row: ConversationRecording) -> str:
    """The caller is bridged again: a held recording runs again (any other is left as is)."""
    if row.status != HELD:
        return "already recording"
    row.status = IN_PROGRESS
    rt.enqueue(tasks.SET_RECORDING, row.id, IN_PROGRESS)
    return "resumed"


def _customer_call(s: Session, interaction: Interaction, attempt_id: int | None) -> str | None:
    """The call of the customer of this interaction: their own, or a callback attempt's."""
    if attempt_id is None:
        return interaction.call_sid
    attempt = s.get(CallbackAttempt, attempt_id)
    if attempt is None or attempt.callback.interaction_id != interaction.id:
        return None
    return attempt.call_sid


def joined_url(rt: Runtime, interaction: Interaction | None,
               attempt_id: int | None = None) -> str | None:
    """Where Twilio reports the customer joining their agent, when the interaction is to be
    recorded (None: not recorded, nothing to report)."""
    if interaction is None or interaction.recording_policy != POLICY_RECORD:
        return None
    extra = {} if attempt_id is None else {"attempt": attempt_id}
    return rt.url(paths.CONFERENCE_EVENTS, interaction=interaction.id, **extra)


def start(rt: Runtime, recording_id: int) -> str:
    """Job: start the requested recording at Twilio (once: a retried job finds its sid)."""
    with rt.db.session() as s:
        row = s.get(ConversationRecording, recording_id)
        if row is None or row.status != REQUESTED or row.sid:
            return "not requested"
        call_sid = row.call_sid
    callback = rt.url(paths.RECORDING_STATUS, recording=recording_id)
    try:
        sid = rt.gateway.start_recording(call_sid, callback)
    except TwilioRestException as exc:
        if exc.status != 400 and exc.status != 404:
            raise  # Twilio's fault: retried
        _set(rt, recording_id, FAILED)
        log.info("recording %s not started: Twilio said %s", recording_id, exc.code)
        return "refused"
    with rt.db.session() as s:
        row = s.get(ConversationRecording, recording_id)
        if row is not None:
            row.sid, row.status = sid, IN_PROGRESS if row.status == REQUESTED else row.status
    return "started"


def change(rt: Runtime, interaction_id: int, action: str) -> dict[str, object]:
    """The agent pauses or resumes the interaction's running recording: recorded at once,
    then sent to Twilio by a job. NoRecording when none is running."""
    status = ACTIONS[action]
    with rt.db.session() as s:
        row = s.scalar(select(ConversationRecording).where(
            ConversationRecording.interaction_id == interaction_id,
            ConversationRecording.status.in_((IN_PROGRESS, PAUSED)),
            ConversationRecording.sid.is_not(None)).order_by(ConversationRecording.id.desc()))
        if row is None:
            raise NoRecording(str(interaction_id))
        row.status = status
        recording_id = row.id
    rt.enqueue(tasks.SET_RECORDING, recording_id, status)
    return {"id": recording_id, "status": status}


def set_at_twilio(rt: Runtime, recording_id: int, status: str) -> str:
    """Job: tell Twilio to pause or resume the recording (its latest wish only)."""
    with rt.db.session() as s:
        row = s.get(ConversationRecording, recording_id)
        if row is None or row.sid is None or AT_TWILIO.get(row.status, row.status) != status:
            return "superseded"
        call_sid, sid = row.call_sid, row.sid
    try:
        rt.gateway.set_recording_status(call_sid, sid, status)
    except TwilioRestException as exc:
        if exc.status not in (400, 404):
            raise
        return "over already"
    return status


def status_reported(rt: Runtime, recording_id: int, status: str, url: str,
                    duration: str) -> str:
    """Twilio's RecordingStatusCallback: a completed recording keeps its media's address
    (only a recording of this account on Twilio's host) and length; absent means nothing
    was recorded."""
    with rt.db.session() as s:
        row = s.get(ConversationRecording, recording_id)
        if row is None or row.status == DELETED:
            return "unknown"
        if status == "completed" and RECORDING_URL.match(url):
            row.status, row.media_url, row.ended_at = COMPLETED, url, rt.clock.now()
            row.duration_seconds = int(duration) if duration.isdigit() else None
        elif status in ("absent", "failed"):
            row.status, row.ended_at = FAILED, rt.clock.now()
        return row.status


def _set(rt: Runtime, recording_id: int, status: str) -> None:
    with rt.db.session() as s:
        row = s.get(ConversationRecording, recording_id)
        if row is not None:
            row.status = status

"""Retention: each queue keeps recordings, voicemails, notes and callers' identity for as
many days as it says (`Queue.keep_*_days`; None keeps them until erased), and a periodic
worker job enforces it.

Twilio's copies of recordings are deleted through its REST API; a recording Twilio no
longer has (404) counts as deleted, so a run repeated after a crash deletes nothing twice,
and a run that could not reach Twilio leaves its rows for the job's retry or the next run.
Rows are anonymised in place, never removed: every count, wait, talk time and outcome of
the reports stays as it was, and each answered call keeps its first-contact outcome
(`Interaction.resolved_first`) before its number goes, so a day's report is the same
before and after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin import reports
from holdless import tasks
from holdless.twilio_gateway import RECORDING_URL, TwilioRestException
from models.callbacks import OPEN_STATUSES, Callback
from models.console import Note
from models.entities import Interaction, Queue
from models.privacy import COMPLETED, DELETED, FAILED, ConversationRecording
from models.states import FINAL
from models.texts import TextMessage

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

# How often the worker enforces retention (a day's expiry is applied within this).
RETENTION_INTERVAL_SECONDS = 3600
# What an anonymised number becomes in rows that must keep one (callbacks, texts).
ANONYMISED = ""


class TwilioUnreachable(RuntimeError):
    """Some recordings could not be deleted at Twilio this run (the job is retried)."""


@dataclass
class Tally:
    """What one run changed, per kind."""

    recordings: int = 0
    voicemails: int = 0
    notes: int = 0
    identities: int = 0
    failed: list[str] = field(default_factory=list)


def enforce_job(rt: Runtime) -> str:
    """Job: the next run is scheduled first (an outage does not end the schedule), then
    every queue's retention is applied; raises when Twilio refused some deletions."""
    schedule_next(rt)
    tally = enforce(rt)
    if tally.failed:
        raise TwilioUnreachable(f"{len(tally.failed)} recording(s) not deleted at Twilio yet")
    return (f"deleted {tally.recordings} recording(s), {tally.voicemails} voicemail(s); "
            f"anonymised {tally.notes} note(s), {tally.identities} caller(s)")


def schedule_next(rt: Runtime) -> None:
    """Enqueue the next periodic run (several workers share one job per slot)."""
    slot = int(rt.clock.time() // RETENTION_INTERVAL_SECONDS) + 1
    rt.enqueue(tasks.ENFORCE_RETENTION, job_id=f"retention-{slot}",
               delay=RETENTION_INTERVAL_SECONDS)


def enforce(rt: Runtime) -> Tally:
    """Apply every queue's retention now."""
    tally = Tally()
    with rt.db.session() as s:
        queues = [(q.id, q.keep_recordings_days, q.keep_voicemails_days, q.keep_notes_days,
                   q.keep_identity_days) for q in s.scalars(select(Queue))]
    now = rt.clock.now()
    for queue_id, recordings_days, voicemail_days, notes_days, identity_days in queues:
        if recordings_days is not None:
            _recordings(rt, queue_id, now - timedelta(days=recordings_days), tally)
        if voicemail_days is not None:
            _voicemails(rt, queue_id, now - timedelta(days=voicemail_days), tally)
        if notes_days is not None:
            _notes(rt, queue_id, now - timedelta(days=notes_days), tally)
        if identity_days is not None:
            _identities(rt, queue_id, now - timedelta(days=identity_days), tally)
    log.info("retention: %s recordings, %s voicemails, %s notes, %s callers; %s failed",
             tally.recordings, tally.voicemails, tally.notes, tally.identities,
             len(tally.failed))
    return tally


def delete_at_twilio(rt: Runtime, sid: str, tally: Tally) -> bool:
    """Delete one recording at Twilio (gone already counts); False when Twilio failed."""
    try:
        rt.gateway.delete_recording(sid)
    except (TwilioRestException, OSError) as exc:
        log.warning("recording %s not deleted at Twilio yet (%s)", sid, type(exc).__name__)
        tally.failed.append(sid)
        return False
    return True


def _recordings(rt: Runtime, queue_id: int, before: datetime, tally: Tally) -> None:
    with rt.db.session() as s:
        rows = [(r.id, r.sid) for r in s.scalars(
            select(ConversationRecording).join(Interaction).where(
                Interaction.queue_id == queue_id, ConversationRecording.started_at < before,
                ConversationRecording.status.in_((COMPLETED, FAILED))))]
    for recording_id, sid in rows:
        if sid is None or delete_at_twilio(rt, sid, tally):
            forget_recording(rt, recording_id)
            tally.recordings += 1


def forget_recording(rt: Runtime, recording_id: int) -> None:
    """Mark a recording deleted (its Twilio copy is gone): no media address is kept."""
    with rt.db.session() as s:
        row = s.get(ConversationRecording, recording_id)
        if row is not None:
            row.status, row.media_url, row.deleted_at = DELETED, None, rt.clock.now()


def voicemail_sid(url: str | None) -> str | None:
    """The recording sid of a voicemail's RecordingUrl (None: not a Twilio recording)."""
    found = RECORDING_URL.match(url or "")
    return found.group(2) if found else None


def _voicemails(rt: Runtime, queue_id: int, before: datetime, tally: Tally) -> None:
    with rt.db.session() as s:
        rows = [(c.id, c.recording_url) for c in s.scalars(select(Callback).where(
            Callback.queue_id == queue_id, Callback.created_at < before,
            Callback.recording_url.is_not(None), Callback.status.not_in(OPEN_STATUSES)))]
    for callback_id, url in rows:
        sid = voicemail_sid(url)
        if sid is None or delete_at_twilio(rt, sid, tally):
            with rt.db.session() as s:
                callback = s.get(Callback, callback_id)
                if callback is not None:
                    callback.recording_url = None
            tally.voicemails += 1


def _notes(rt: Runtime, queue_id: int, before: datetime, tally: Tally) -> None:
    with rt.db.session() as s:
        for note in s.scalars(select(Note).join(Interaction).where(
                Interaction.queue_id == queue_id, Note.created_at < before, Note.text != "")):
            note.text = ""
            tally.notes += 1


def _identities(rt: Runtime, queue_id: int, before: datetime, tally: Tally) -> None:
    with rt.db.session() as s:
        calls = list(s.scalars(select(Interaction).where(
            Interaction.queue_id == queue_id, Interaction.created_at < before,
            Interaction.anonymised_at.is_(None), Interaction.status.in_(FINAL))))
        for call in calls:
            anonymise(s, call, rt.clock.now())
            tally.identities += 1
        for callback in s.scalars(select(Callback).where(
                Callback.queue_id == queue_id, Callback.created_at < before,
                Callback.number != ANONYMISED, Callback.status.not_in(OPEN_STATUSES))):
            anonymise_callback(s, callback)


def anonymise(s: Session, call: Interaction, now: datetime) -> None:
    """Take the caller's identity off an interaction (number, directory link, keyed
    account number), first keeping the first-contact outcome of every call of the number
    whose 24 hours are over (this one's, and earlier ones this call was a repeat of)."""
    if call.caller_number:
        freeze_first_contact(s, call.caller_number, now)
    call.caller_number, call.caller_id = None, None
    call.ivr_choices = {k: v for k, v in (call.ivr_choices or {}).items() if k != "account"}
    call.anonymised_at = now


def freeze_first_contact(s: Session, number: str, now: datetime) -> None:
    """Keep on each answered call of `number` whose 24-hour window has closed whether it
    was resolved at first contact, before any of the number's calls loses it."""
    closed = now - reports.REPEAT_WINDOW
    for call in s.scalars(select(Interaction).where(
            Interaction.caller_number == number, Interaction.answered_at.is_not(None),
            Interaction.resolved_first.is_(None), Interaction.created_at <= closed)):
        call.resolved_first = reports.first_contact(s, call)


def anonymise_callback(s: Session, callback: Callback) -> None:
    """Take the number off a closed callback and the texts sent about it."""
    callback.number = ANONYMISED
    for text in s.scalars(select(TextMessage).where(TextMessage.callback_id == callback.id)):
        text.number = ANONYMISED

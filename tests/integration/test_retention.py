"""Retention per queue, enforced by the worker's job: Twilio's copies of expired recordings
and voicemails deleted once each (a second run, or a copy Twilio no longer has, asks
nothing twice), notes and callers' identity anonymised in place, and the day's report the
same, byte for byte, before and after."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from admin import reports, retention
from holdless import tasks
from models.callbacks import COMPLETED as CALLBACK_COMPLETED
from models.callbacks import Callback
from models.console import Note
from models.entities import Agent, Interaction, Queue
from models.privacy import COMPLETED, DELETED, ConversationRecording
from simulator.resources import new_sid
from tests.integration.test_admin_reports import A, B, D
from tests.integration.test_admin_reports import seeded as _seeded_day

seeded = _seeded_day  # the hand-seeded day's fixture, under its own name

DAY = date(2026, 11, 16)
LATER = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)  # 34 days on


def _report_bytes(rt) -> bytes:
    with rt.db.session() as s:
        days = [reports.day_report(s, DAY, q) for q in (None, "support", "sales")]
        return json.dumps([asdict(r) for r in days], default=str).encode() + b"".join(
            reports.to_csv(r).encode() for r in days)


def _recorded(rt, twilio_api, number: str, at_twilio: bool = True) -> str:
    """A completed conversation recording on the first support call of `number` (its media at
    Twilio unless `at_twilio` is false: Twilio lost it already)."""
    sid = new_sid("RE")
    account = rt.settings.twilio_account_sid
    url = twilio_api.add_recording(account, sid, b"ID3") if at_twilio else \
        f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{sid}"
    with rt.db.session() as s:
        call = s.scalars(select(Interaction).join(Queue).where(
            Interaction.caller_number == number, Queue.slug == "support")
            .order_by(Interaction.created_at)).first()
        s.add(ConversationRecording(interaction_id=call.id, call_sid=call.call_sid, sid=sid,
                                    status=COMPLETED, media_url=url, started_at=call.created_at))
    return sid


def _keep(rt, slug: str, days: int | None) -> None:
    with rt.db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.slug == slug))
        for name in ("keep_recordings_days", "keep_voicemails_days", "keep_notes_days",
                     "keep_identity_days"):
            setattr(queue, name, days)


def _voicemail_and_note(rt, twilio_api) -> str:
    sid = new_sid("RE")
    url = twilio_api.add_recording(rt.settings.twilio_account_sid, sid, b"ID3")
    with rt.db.session() as s:
        support = s.scalar(select(Queue).where(Queue.slug == "support"))
        call = s.scalar(select(Interaction).where(Interaction.caller_number == D))
        s.add(Callback(queue_id=support.id, number=D, interaction_id=call.id, reference="K7RM3A",
                       status=CALLBACK_COMPLETED, place=0.0, recording_url=url,
                       created_at=call.created_at, updated_at=call.created_at))
        agent = Agent(name="Alice", username="alice", contact="client:alice")
        s.add(agent)
        s.flush()
        first = s.scalars(select(Interaction).where(Interaction.caller_number == A)).first()
        s.add(Note(interaction_id=first.id, agent_id=agent.id, text="wants a refund",
                   draft=False, created_at=first.created_at, updated_at=first.created_at))
    return sid


def test_expired_data_goes_once_at_twilio_and_the_days_report_stays_byte_for_byte(
        seeded, twilio_api, frozen_clock):
    rt = seeded
    kept_sid, lost_sid = _recorded(rt, twilio_api, A), _recorded(rt, twilio_api, B, False)
    voicemail_sid = _voicemail_and_note(rt, twilio_api)
    _keep(rt, "support", 30)
    _keep(rt, "sales", 60)  # B's Berlin call stays: its first-contact figure depended on B
    before = _report_bytes(rt)

    frozen_clock.set(LATER)
    first, second = retention.enforce(rt), retention.enforce(rt)

    assert _report_bytes(rt) == before
    deletes = [r.path.rsplit("/", 1)[1] for r in twilio_api.requests("recording-delete")]
    assert sorted(deletes) == sorted(f"{sid}.json" for sid in (kept_sid, lost_sid,
                                                                voicemail_sid))
    assert kept_sid not in twilio_api.store.recordings
    assert voicemail_sid not in twilio_api.store.recordings
    assert (first.recordings, first.voicemails, first.notes, first.failed) == (2, 1, 1, [])
    assert (second.recordings, second.voicemails, second.notes, second.identities) == (0, 0, 0, 0)
    with rt.db.session() as s:
        support = s.scalar(select(Queue).where(Queue.slug == "support"))
        numbers = {(c.queue_id == support.id, c.caller_number)
                   for c in s.scalars(select(Interaction))}
        assert all(number is None for in_support, number in numbers if in_support)
        assert (False, B) in numbers  # the Berlin queue keeps its callers longer
        assert [r.status for r in s.scalars(select(ConversationRecording))] == [DELETED] * 2
        assert s.scalar(select(Note.text)) == ""
        callback = s.scalar(select(Callback))
        assert (callback.number, callback.recording_url) == ("", None)


def test_queue_keeping_data_until_erased_loses_nothing(seeded, twilio_api, frozen_clock):
    rt = seeded
    sid = _recorded(rt, twilio_api, A)
    _keep(rt, "support", None)
    _keep(rt, "sales", None)
    frozen_clock.set(LATER)
    tally = retention.enforce(rt)
    assert (tally.recordings, tally.identities) == (0, 0)
    assert twilio_api.requests("recording-delete") == []
    assert sid in twilio_api.store.recordings
    _keep(rt, "support", 40)  # 34 days old: not yet
    assert retention.enforce(rt).recordings == 0
    _keep(rt, "support", 33)
    assert retention.enforce(rt).recordings == 1


def test_retention_job_schedules_its_next_run_first(seeded, twilio_api, frozen_clock):
    frozen_clock.set(LATER)
    retention.enforce_job(seeded)
    slot = int(frozen_clock.time() // retention.RETENTION_INTERVAL_SECONDS) + 1
    scheduled = seeded.jobs.scheduled_job_registry.get_job_ids()
    assert f"retention-{slot}" in scheduled
    assert tasks.ENFORCE_RETENTION.path == "admin.retention.enforce_job"


def test_a_twilio_fault_keeps_the_row_and_fails_the_job_so_it_is_retried(
        seeded, twilio_api, frozen_clock):
    rt = seeded
    sid = _recorded(rt, twilio_api, A)
    _keep(rt, "support", 30)
    frozen_clock.set(LATER)
    twilio_api.fail_next("recording-delete")
    with pytest.raises(retention.TwilioUnreachable):
        retention.enforce_job(rt)
    with rt.db.session() as s:
        assert s.scalar(select(ConversationRecording.status)) == COMPLETED
    assert retention.enforce(rt).recordings == 1  # the retry
    assert [r.status for r in twilio_api.requests("recording-delete")] == [500, 204]
    assert sid not in twilio_api.store.recordings


@pytest.mark.parametrize(("setting", "removed"), [
    ("keep_recordings_days", "recordings"), ("keep_voicemails_days", "voicemails"),
    ("keep_notes_days", "notes"), ("keep_identity_days", "identities")])
def test_each_keep_setting_alone_removes_its_own_kind_of_data_and_nothing_else(
        seeded, twilio_api, frozen_clock, setting, removed):
    rt = seeded
    _recorded(rt, twilio_api, A)
    _voicemail_and_note(rt, twilio_api)
    with rt.db.session() as s:
        setattr(s.scalar(select(Queue).where(Queue.slug == "support")), setting, 30)
    frozen_clock.set(LATER)
    tally = retention.enforce(rt)
    found = {kind: getattr(tally, kind) for kind in ("recordings", "voicemails", "notes",
                                                    "identities")}
    assert found[removed] > 0 and all(n == 0 for kind, n in found.items() if kind != removed)
    deletes = len(twilio_api.requests("recording-delete"))
    assert deletes == (1 if removed in ("recordings", "voicemails") else 0)  # at Twilio

"""Everything held about one phone number: exported as JSON, or erased.

Erasure removes or anonymises every row that holds the number or belongs only to it
(notes are removed; interactions, callbacks and texts keep their figures but lose the
number; the directory entry and the opt-out go), deletes Twilio's copies of the number's
recordings and voicemails, cancels its open callbacks, and clears the live state in Redis
that carries it (keys, line members, jobs waiting or kept by RQ). It is refused, with the
reason, while the person is on a call, and is safe to repeat. Export and erasure are both
audited (`PrivacyRequest`: who, when, the number masked, and counts).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import phonenumbers
from redis import Redis
from rq.job import Job
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from admin import booked, retention
from admin.audit import Actor
from ivr.numbers import mask
from models.admin import ConfigAuditEntry
from models.callbacks import DIALLING, OPEN_STATUSES, Callback
from models.console import Note, Transfer, WrapUp
from models.entities import CONNECTED, IVR, OFFERED, WAITING, Caller, Interaction
from models.privacy import DELETED, ConversationRecording, PrivacyRequest
from models.survey import SurveyAnswer
from models.texts import TextMessage, TextOptOut

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

ON_A_CALL = (IVR, WAITING, OFFERED, CONNECTED)
RQ_JOB_PREFIX = "rq:job:"


class BadNumber(ValueError):
    """Not a phone number."""


class OnACall(RuntimeError):
    """The person is on a call (or being called back) now: erasure must wait for its end."""


def e164(raw: str, region: str) -> str:
    """The number in E.164 form (any number that could exist: a caller ID need not be a
    number in service); BadNumber otherwise."""
    try:
        parsed = phonenumbers.parse(str(raw).strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise BadNumber(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise BadNumber(f"{raw!r} is not a phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def forms(number: str) -> tuple[str, ...]:
    """The ways a number could be written down here: E.164, and its digits without `+`
    (with and without the country code)."""
    parsed = phonenumbers.parse(number)
    national = phonenumbers.national_significant_number(parsed)
    return (number, number.lstrip("+"), national)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# -- export ----------------------------------------------------------------------------------

def export(rt: Runtime, actor: Actor, number: str) -> dict[str, Any]:
    """Everything held about `number`, as JSON-ready data; the export is audited."""
    with rt.db.session() as s:
        caller = s.scalar(select(Caller).where(Caller.number == number))
        data = {
            "number": number, "exported_at": _iso(rt.clock.now()),
            "directory": _caller_json(caller),
            "interactions": [_interaction_json(s, i) for i in _interactions(s, number, caller)],
            "callbacks": [_callback_json(c) for c in _callbacks(s, number)],
            "texts": [_text_json(t) for t in _texts(s, number)],
            "opt_out": _opt_out_json(s.get(TextOptOut, number)),
            "directory_changes": [_audit_json(e) for e in _audit_entries(s, number, caller)],
        }
        _audit(s, rt, actor, "export", number, _counts(data))
    return data


def _counts(data: dict[str, Any]) -> str:
    kinds = ("interactions", "callbacks", "texts", "directory_changes")
    notes = sum(len(i["notes"]) for i in data.get("interactions", []))
    found = {k: len(data.get(k, [])) for k in kinds}
    return json.dumps({**found, "notes": notes, "directory": data.get("directory") is not None})


def _audit(s: Session, rt: Runtime, actor: Actor, action: str, number: str,
           outcome: str) -> None:
    s.add(PrivacyRequest(at=rt.clock.now(), actor=actor.name, action=action,
                         masked_number=mask(number), outcome=outcome))


def _interactions(s: Session, number: str, caller: Caller | None) -> list[Interaction]:
    same = [Interaction.caller_number == number]
    if caller is not None:
        same.append(Interaction.caller_id == caller.id)
    return list(s.scalars(select(Interaction).where(or_(*same)).order_by(Interaction.id)))


def _callbacks(s: Session, number: str) -> list[Callback]:
    return list(s.scalars(select(Callback).where(Callback.number == number)
                          .order_by(Callback.id)))


def _texts(s: Session, number: str) -> list[TextMessage]:
    return list(s.scalars(select(TextMessage).where(TextMessage.number == number)
                          .order_by(TextMessage.id)))


def _audit_entries(s: Session, number: str, caller: Caller | None) -> list[ConfigAuditEntry]:
    """Directory changes that hold the number (or concern its caller)."""
    rows = s.scalars(select(ConfigAuditEntry).where(ConfigAuditEntry.entity == "caller"))
    return [e for e in rows if (caller is not None and e.entity_id == str(caller.id))
            or number in json.dumps([e.entity_id, e.before, e.after])]


def _caller_json(caller: Caller | None) -> dict[str, Any] | None:
    if caller is None:
        return None
    return {"id": caller.id, "number": caller.number, "name": caller.name,
            "account_ref": caller.account_ref, "difficult": caller.difficult,
            "vip": caller.vip}


def _interaction_json(s: Session, i: Interaction) -> dict[str, Any]:
    notes = s.scalars(select(Note).where(Note.interaction_id == i.id).order_by(Note.id))
    recordings = s.scalars(select(ConversationRecording).where(
        ConversationRecording.interaction_id == i.id).order_by(ConversationRecording.id))
    transfers = s.scalars(select(Transfer).where(Transfer.interaction_id == i.id))
    wrap_ups = s.scalars(select(WrapUp).where(WrapUp.interaction_id == i.id))
    answers = s.scalars(select(SurveyAnswer).where(SurveyAnswer.interaction_id == i.id))
    return {
        "id": i.id, "call_sid": i.call_sid, "kind": i.kind, "number": i.caller_number,
        "queue": i.queue.slug if i.queue else None, "status": i.status, "outcome": i.outcome,
        "created_at": _iso(i.created_at), "answered_at": _iso(i.answered_at),
        "ended_at": _iso(i.ended_at), "wait_seconds": i.wait_seconds,
        "ivr_choices": i.ivr_choices or {}, "recording_policy": i.recording_policy,
        "legs": [{"agent": leg.agent.name if leg.agent else None, "kind": leg.kind,
                  "reason": leg.reason, "started_at": _iso(leg.started_at),
                  "ended_at": _iso(leg.ended_at)} for leg in i.legs],
        "notes": [{"id": n.id, "author": n.agent.name, "text": n.text, "draft": n.draft,
                   "created_at": _iso(n.created_at)} for n in notes],
        "transfers": [{"id": t.id, "mode": t.mode, "reason": t.reason, "to_queue": t.to_queue,
                       "at": _iso(t.created_at)} for t in transfers],
        "wrap_ups": [{"disposition": w.disposition, "at": _iso(w.created_at)} for w in wrap_ups],
        "survey_answers": [{"question": a.question, "answer": a.answer} for a in answers],
        "recordings": [{"id": r.id, "sid": r.sid, "status": r.status,
                        "duration_seconds": r.duration_seconds,
                        "started_at": _iso(r.started_at)} for r in recordings],
    }


def _callback_json(c: Callback) -> dict[str, Any]:
    return {"id": c.id, "reference": c.reference, "number": c.number, "queue": c.queue.slug,
            "status": c.status, "created_at": _iso(c.created_at),
            "expected_at": _iso(c.expected_at), "promised": c.promised_words,
            "voicemail": retention.voicemail_sid(c.recording_url),
            "attempts": [{"number": a.number, "outcome": a.outcome,
                          "started_at": _iso(a.started_at)} for a in c.tries]}


def _text_json(t: TextMessage) -> dict[str, Any]:
    return {"id": t.id, "kind": t.kind, "number": t.number, "status": t.status, "sid": t.sid,
            "error_code": t.error_code, "created_at": _iso(t.created_at)}


def _opt_out_json(row: TextOptOut | None) -> dict[str, Any] | None:
    return None if row is None else {"number": row.number, "opted_out": row.opted_out,
                                     "source": row.source, "at": _iso(row.updated_at)}


def _audit_json(e: ConfigAuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": _iso(e.at), "actor": e.actor, "action": e.action,
            "before": e.before, "after": e.after}


# -- erasure ---------------------------------------------------------------------------------

def erase(rt: Runtime, actor: Actor, number: str) -> dict[str, list[Any]]:
    """Remove or anonymise everything held about `number` (OnACall while they are on a
    call); returns what it changed, kind by kind (ids), and audits it."""
    _refuse_on_a_call(rt, number)
    for callback_id in _open_callbacks(rt, number):
        booked.cancel(rt, actor, callback_id)
    changed: dict[str, list[Any]] = {"recordings": [], "voicemails": []}
    _delete_recordings(rt, number, changed)
    with rt.db.session() as s:
        changed.update(_erase_rows(s, rt, number))
    changed["redis"] = forget_live(rt, number)
    with rt.db.session() as s:
        _audit(s, rt, actor, "erase", number,
               json.dumps({k: len(v) for k, v in changed.items()}))
    return changed


def _refuse_on_a_call(rt: Runtime, number: str) -> None:
    with rt.db.session() as s:
        live = s.scalar(select(Interaction).where(Interaction.caller_number == number,
                                                  Interaction.status.in_(ON_A_CALL)))
        dialling = s.scalar(select(Callback.id).where(Callback.number == number,
                                                      Callback.status == DIALLING))
        if live is not None:
            where = live.queue.name if live.queue else "the menu"
            raise OnACall(f"the caller is on a call now ({live.status}, {where}); "
                          "erase once it has ended")
        if dialling is not None:
            raise OnACall("a callback to this number is being placed now; "
                          "erase once it has ended")


def _open_callbacks(rt: Runtime, number: str) -> list[int]:
    with rt.db.session() as s:
        return list(s.scalars(select(Callback.id).where(Callback.number == number,
                                                        Callback.status.in_(OPEN_STATUSES))))


def _delete_recordings(rt: Runtime, number: str, changed: dict[str, list[Any]]) -> None:
    """Twilio's copies first (a failure raises: nothing is marked gone that is not)."""
    with rt.db.session() as s:
        caller = s.scalar(select(Caller).where(Caller.number == number))
        ids = [i.id for i in _interactions(s, number, caller)]
        recordings = [(r.id, r.sid) for r in s.scalars(select(ConversationRecording).where(
            ConversationRecording.interaction_id.in_(ids),
            ConversationRecording.status != DELETED))]
        voicemails = [(c.id, retention.voicemail_sid(c.recording_url))
                      for c in _callbacks(s, number) if c.recording_url]
    for recording_id, sid in recordings:
        if sid is not None:
            rt.gateway.delete_recording(sid)
        retention.forget_recording(rt, recording_id)
        changed["recordings"].append(recording_id)
    for callback_id, sid in voicemails:
        if sid is not None:
            rt.gateway.delete_recording(sid)
        with rt.db.session() as s:
            callback = s.get(Callback, callback_id)
            if callback is not None:
                callback.recording_url = None
        changed["voicemails"].append(callback_id)


def _erase_rows(s: Session, rt: Runtime, number: str) -> dict[str, list[Any]]:
    caller = s.scalar(select(Caller).where(Caller.number == number))
    calls = _interactions(s, number, caller)
    notes = list(s.scalars(select(Note).where(Note.interaction_id.in_([c.id for c in calls]))))
    callbacks, texts = _callbacks(s, number), _texts(s, number)
    audits = _audit_entries(s, number, caller)
    opt_out = s.get(TextOptOut, number)
    for call in calls:
        retention.anonymise(s, call, rt.clock.now())
    for note in notes:
        s.delete(note)
    for callback in callbacks:
        retention.anonymise_callback(s, callback)
    for text in texts:
        text.number = retention.ANONYMISED
    for entry in audits:
        _scrub(entry, number, caller)
    if opt_out is not None:
        s.delete(opt_out)
    s.flush()
    if caller is not None:
        s.delete(caller)
    return {"interactions": [c.id for c in calls], "notes": [n.id for n in notes],
            "callbacks": [c.id for c in callbacks], "texts": [t.id for t in texts],
            "directory_changes": [e.id for e in audits],
            "opt_outs": [number] if opt_out is not None else [],
            "directory": [caller.id] if caller is not None else []}


def _scrub(entry: ConfigAuditEntry, number: str, caller: Caller | None) -> None:
    """A directory change keeps who and when, not the number nor the name."""
    masked = mask(number)

    def clean(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        kept = {k: v for k, v in value.items() if k not in ("name", "account_ref")}
        return json.loads(json.dumps(kept).replace(number, masked))

    entry.before, entry.after = clean(entry.before), clean(entry.after)
    if entry.entity_id == number:
        entry.entity_id = masked
    del caller


# -- live state ------------------------------------------------------------------------------

def holding_keys(r: Redis, number: str) -> Iterator[tuple[str, str]]:
    """Every Redis key (and its type) whose name or value holds `number` in any of its
    forms; RQ's jobs are read through their compressed payload too."""
    written = [f.encode() for f in forms(number)]
    for raw in r.scan_iter(count=500):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        kind = _type(r, key)
        values = [key.encode(), *_values(r, key, kind)]
        if any(_holds(v, written) for v in values):
            yield key, kind


def _type(r: Redis, key: str) -> str:
    kind = r.type(key)
    return kind.decode() if isinstance(kind, bytes) else str(kind)


def _values(r: Redis, key: str, kind: str) -> list[bytes]:
    raw: list[Any]
    if kind == "string":
        raw = [r.get(key)]
    elif kind == "hash":
        raw = [x for pair in r.hgetall(key).items() for x in pair]
    elif kind == "list":
        raw = list(r.lrange(key, 0, -1))
    elif kind == "set":
        raw = list(r.smembers(key))
    elif kind == "zset":
        raw = list(r.zrange(key, 0, -1))
    elif kind == "stream":  # RQ keeps job results in streams
        entries = r.execute_command("XRANGE", key, "-", "+") or []
        raw = [x for _, fields in entries for x in fields]
    else:
        raw = []
    return [v if isinstance(v, bytes) else str(v).encode() for v in raw if v is not None]


def _holds(value: bytes, written: list[bytes]) -> bool:
    if any(w in value for w in written):
        return True
    try:
        unpacked = zlib.decompress(value)  # RQ keeps a job's call compressed
    except zlib.error:
        return False
    return any(w in unpacked for w in written)


def forget_live(rt: Runtime, number: str) -> list[str]:
    """Clear what Redis holds of `number`: jobs carrying it are cancelled and deleted,
    keys holding it deleted (members of lines and sets removed, the rest kept)."""
    gone, client = [], rt.jobs_redis  # the live state's server, read as bytes
    for key, kind in list(holding_keys(client, number)):
        if key.startswith(RQ_JOB_PREFIX):
            _drop_job(client, key.removeprefix(RQ_JOB_PREFIX))
        elif kind in ("set", "zset", "list"):
            _drop_members(client, key, kind, number)
        else:
            client.delete(key)
        gone.append(key)
    return gone


def _drop_job(r: Redis, job_id: str) -> None:
    try:
        job = Job.fetch(job_id, connection=r)
    except Exception:  # noqa: BLE001 - a job RQ cannot read is deleted by its key
        r.delete(RQ_JOB_PREFIX + job_id)
        return
    job.delete(remove_from_queue=True, delete_dependents=False)


def _drop_members(r: Redis, key: str, kind: str, number: str) -> None:
    written = [f.encode() for f in forms(number)]
    for member in _values(r, key, kind):
        if _holds(member, written):
            if kind == "set":
                r.srem(key, member)
            elif kind == "zset":
                r.zrem(key, member)
            else:
                r.execute_command("LREM", key, 0, member)

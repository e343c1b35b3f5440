"""Export and erasure of everything held about one number, through the admin API: after
erasure no row of any table (every text column, found through SQLAlchemy's metadata) and
no Redis key, value or job holds the number in any form it is written in; the export held
every row erasure changed; Twilio's copies of the recordings are deleted; erasure is
refused while the person is on a call, safe to repeat, and audited."""

from __future__ import annotations

import contextlib
import json
import zlib
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import JSON, String, Text, select

from entrypoints.privacy_cli import privacy_group
from holdless import tasks
from ivr import booking
from models import Base
from models.callbacks import BOOKED, CANCELLED, Callback
from models.callbacks import COMPLETED as CALLBACK_DONE
from models.entities import WAITING, Interaction, Queue
from models.privacy import RECORDING_ANNOUNCE, ConversationRecording, PrivacyRequest
from models.texts import TextMessage
from queueing import keys, lines
from simulator.resources import CallResource
from tests.console_helpers import Desk, route_call_to, seed_people_and_admin
from tests.helpers import call_form

NUMBER, OTHER = "+12125550123", "+12125550177"
WRITTEN = (NUMBER, NUMBER.lstrip("+"), "2125550123")  # E.164, digits, national digits


def _recorded_call(rt, twilio, twilio_api, worker, agent_id: int, number: str) -> Interaction:
    """A call answered by the agent, recorded at Twilio (join report, recording completed),
    then ended by the caller."""
    form, interaction, _leg = route_call_to(rt, twilio, worker, agent_id, from_=number)
    twilio_api.store.add_call(CallResource(form["CallSid"], rt.settings.twilio_account_sid,
                                           "+12125550000", number, "inbound", "in-progress"))
    twilio.post(f"/voice/conference/events?interaction={interaction.id}", {
        "CallSid": form["CallSid"], "ConferenceSid": "CF" + "1" * 32,
        "StatusCallbackEvent": "participant-join", "AccountSid": form["AccountSid"]})
    worker()
    with rt.db.session() as s:
        row = s.scalar(select(ConversationRecording).where(
            ConversationRecording.interaction_id == interaction.id))
        assert row is not None and row.sid, "the recording was not started"
    for url, fields in twilio_api.end_recordings(form["CallSid"]):
        assert twilio.post(url.removeprefix(rt.settings.public_base_url), fields).status_code == 204
    twilio.post("/voice/status", {**form, "CallStatus": "completed", "CallDuration": "60"})
    worker()
    return interaction


def _held_elsewhere(rt, twilio_api, queue_id: int, interaction_id: int) -> str:
    """A closed callback with a voicemail at Twilio and its text; an open one in the line;
    a callback capture in Redis and a scheduled job carrying the number."""
    now = rt.clock.now()
    voicemail = twilio_api.add_recording(rt.settings.twilio_account_sid, "RE" + "a" * 32, b"x")
    with rt.db.session() as s:
        done = Callback(queue_id=queue_id, number=NUMBER, interaction_id=interaction_id,
                        reference="AAA111", status=CALLBACK_DONE, place=1.0,
                        recording_url=voicemail, created_at=now, updated_at=now)
        s.add(done)
        s.flush()
        s.add(TextMessage(key="t-1", callback_id=done.id, kind="booked", number=NUMBER,
                          sid="SM" + "b" * 32, status="delivered", created_at=now,
                          updated_at=now))
        waiting = Callback(queue_id=queue_id, number=NUMBER, reference="BBB222", status=BOOKED,
                           place=2.0, open_key=f"{queue_id}:{NUMBER}", created_at=now,
                           updated_at=now, expected_at=now + timedelta(minutes=10))
        s.add(waiting)
        s.flush()
        lines.join(rt.live, booking.entry_for(waiting))
    rt.live.hset(keys.capture("CA" + "c" * 32), mapping={"number": NUMBER, "wanted": "1"})
    rt.enqueue(tasks.SEND_SMS, 0, "booked", NUMBER, "k", delay=3600)
    return voicemail


@pytest.fixture
def held(rt, app, twilio, twilio_api, worker):
    """Everything the app holds about NUMBER (and a call of OTHER, to be left alone)."""
    people = seed_people_and_admin(rt)
    with rt.db.session() as s:
        s.scalar(select(Queue).where(Queue.slug == "support")).recording_mode = \
            RECORDING_ANNOUNCE
    call = _recorded_call(rt, twilio, twilio_api, worker, people["alice"], NUMBER)
    ada, alice = Desk(app, "ada"), Desk(app, "alice")
    assert alice.send("POST", f"/api/interactions/{call.id}/notes",
                      {"text": "wants a refund"}).status_code == 201
    assert alice.send("POST", f"/api/interactions/{call.id}/flag-difficult",
                      {"difficult": True}).status_code in (200, 204)
    assert ada.send("PUT", f"/api/callers/{NUMBER}",
                    {"name": "Grace Hopper", "account_ref": "4411"}).status_code in (200, 201)
    twilio.post("/sms/incoming", {"From": NUMBER, "To": "+12125550000", "Body": "STOP",
                                  "MessageSid": "SM" + "d" * 32, "AccountSid": "AC" + "0" * 32})
    route_call_to(rt, twilio, worker, people["alice"], from_=OTHER)  # alice is busy then
    voicemail = _held_elsewhere(rt, twilio_api, call.queue_id, call.id)
    return {"ada": ada, "call": call, "voicemail": voicemail, "people": people, "app": app}


def text_values_holding(rt, written: tuple[str, ...]) -> list[tuple[str, str]]:
    """(table, column) of every stored text value holding one of `written`: every String,
    Text and JSON column of every table the app defines."""
    found = []
    with rt.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))
                       or isinstance(getattr(c.type, "impl", None), (String, Text))]
            for column in columns:
                for value in conn.execute(select(column)).scalars():
                    text = value if isinstance(value, str) else json.dumps(value)
                    if any(w in (text or "") for w in written):
                        found.append((table.name, column.name))
    return found


def redis_keys_holding(rt, written: tuple[str, ...]) -> list[str]:
    """Every Redis key whose name or any value (RQ's compressed job payloads opened) holds
    one of `written`, found with SCAN over the whole database."""
    r, wanted = rt.jobs_redis, [w.encode() for w in written]

    def holds(value: Any) -> bool:
        raw = value if isinstance(value, bytes) else str(value).encode()
        with contextlib.suppress(zlib.error):
            raw += zlib.decompress(raw)
        return any(w in raw for w in wanted)

    found = []
    for key in r.scan_iter(count=1000):
        kind = r.type(key).decode()
        values: list[Any] = [key]
        if kind == "string":
            values.append(r.get(key))
        elif kind == "hash":
            values += [x for pair in r.hgetall(key).items() for x in pair]
        elif kind == "list":
            values += r.lrange(key, 0, -1)
        elif kind == "set":
            values += list(r.smembers(key))
        elif kind == "zset":
            values += r.zrange(key, 0, -1)
        elif kind == "stream":
            values += [x for _, fields in r.xrange(key) for pair in fields.items() for x in pair]
        if any(holds(v) for v in values if v is not None):
            found.append(key.decode())
    return found


def test_erasure_leaves_no_row_key_or_job_holding_the_number_and_the_export_held_it_all(
        rt, twilio_api, held):
    assert text_values_holding(rt, WRITTEN) and redis_keys_holding(rt, WRITTEN)  # there was
    ada = held["ada"]
    export = ada.get(f"/api/admin/privacy/numbers/{NUMBER}/export").json
    erased = ada.send("POST", "/api/admin/privacy/numbers/(212) 555-0123/erase")
    assert erased.status_code == 200, erased.json
    changed = erased.json["erased"]

    assert text_values_holding(rt, WRITTEN) == []
    assert redis_keys_holding(rt, WRITTEN) == []
    exported = {"interactions": {i["id"] for i in export["interactions"]},
                "notes": {n["id"] for i in export["interactions"] for n in i["notes"]},
                "recordings": {r["id"] for i in export["interactions"] for r in i["recordings"]},
                "callbacks": {c["id"] for c in export["callbacks"]},
                "voicemails": {c["id"] for c in export["callbacks"] if c["voicemail"]},
                "texts": {t["id"] for t in export["texts"]},
                "directory_changes": {e["id"] for e in export["directory_changes"]},
                "directory": {export["directory"]["id"]},
                "opt_outs": {export["opt_out"]["number"]}}
    for kind, ids in exported.items():
        assert set(changed[kind]) <= ids and changed[kind], kind
    assert export["directory"]["name"] == "Grace Hopper" and export["directory"]["difficult"]
    assert [n["text"] for i in export["interactions"] for n in i["notes"]] == ["wants a refund"]
    deleted = {r.path.rsplit("/", 1)[1] for r in twilio_api.requests("recording-delete")}
    sids = {r["sid"] for i in export["interactions"] for r in i["recordings"]}
    assert deleted == {f"{sid}.json" for sid in sids | {"RE" + "a" * 32}}
    with rt.db.session() as s:
        assert s.scalar(select(Callback.status).where(Callback.reference == "BBB222")) == CANCELLED
        other = s.scalar(select(Interaction).where(Interaction.caller_number == OTHER))
        assert other is not None  # another caller's data is left alone
        assert lines.length(rt.live, "support") == 0 or other.status == WAITING


def test_erasure_is_safe_to_repeat_and_every_export_and_erasure_is_audited(rt, held):
    ada = held["ada"]
    assert ada.get(f"/api/admin/privacy/numbers/{NUMBER}/export").status_code == 200
    first = ada.send("POST", f"/api/admin/privacy/numbers/{NUMBER}/erase")
    again = ada.send("POST", f"/api/admin/privacy/numbers/{NUMBER}/erase")
    assert (first.status_code, again.status_code) == (200, 200)
    assert all(ids == [] for ids in again.json["erased"].values())
    log = ada.get("/api/admin/privacy/requests").json["requests"]
    assert [(r["action"], r["actor"], r["number"]) for r in log] == [
        ("erase", "ada", "…0123"), ("erase", "ada", "…0123"), ("export", "ada", "…0123")]
    with rt.db.session() as s:
        assert s.scalar(select(PrivacyRequest.masked_number).limit(1)) == "…0123"


def test_erasure_is_refused_with_the_reason_while_the_person_is_on_a_call(
        rt, app, twilio, worker):
    people = seed_people_and_admin(rt)
    twilio.post("/voice/incoming", call_form(from_=NUMBER))
    worker()
    ada = Desk(app, "ada")
    refused = ada.send("POST", f"/api/admin/privacy/numbers/{NUMBER}/erase")
    assert refused.status_code == 409
    assert "on a call now" in refused.json["detail"]
    assert text_values_holding(rt, (NUMBER,))  # nothing erased
    assert people and ada.send("POST", "/api/admin/privacy/numbers/not-a-number/erase"
                               ).status_code == 400


def test_cli_exports_to_a_file_then_erases_as_the_operator(rt, held, monkeypatch, tmp_path,
                                                           twilio_api):
    monkeypatch.setenv("DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("REDIS_URL", rt.redis_url)
    monkeypatch.setenv("TWILIO_API_BASE_URL", twilio_api.base_url)
    monkeypatch.setenv("USER", "ops")
    runner, out = CliRunner(), tmp_path / "caller.json"
    exported = runner.invoke(privacy_group, ["export", NUMBER, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text())["directory"]["name"] == "Grace Hopper"
    erased = runner.invoke(privacy_group, ["erase", "(212) 555-0123"])
    assert erased.exit_code == 0, erased.output
    assert erased.output.startswith("erased …0123: ")
    assert text_values_holding(rt, WRITTEN) == []
    assert runner.invoke(privacy_group, ["erase", "nonsense"]).exit_code == 2
    with rt.db.session() as s:
        actors = [r.actor for r in s.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id))]
    assert actors == ["cli:ops", "cli:ops"]

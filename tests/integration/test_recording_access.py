"""Who may hear conversation recordings and see full numbers is a role setting an admin
changes (audited), observed through the agent's own requests; every listen and reveal is
audited; pause and resume through the agent API reach Twilio."""

from __future__ import annotations

from sqlalchemy import select

from ivr import recording_notice
from models.admin import ConfigAuditEntry
from models.callbacks import Callback
from models.console import AuditEntry
from models.entities import Interaction, Queue
from models.privacy import POLICY_RECORD, RECORDING_ANNOUNCE, ConversationRecording
from simulator.resources import CallResource
from tests.callback_steps import agent_answers, attempt_row, book_callback, customer_form, local
from tests.console_helpers import Desk, route_call_to, seed_people_and_admin
from tests.helpers import make_available, seed_agent, seed_queues, spoken, twiml
from tests.integration.test_erasure import NUMBER, _recorded_call
from tests.integration.test_erasure import held as _held_number

held = _held_number  # everything held about NUMBER, under its own name


def _recorded(rt, app, twilio, twilio_api, worker):
    people = seed_people_and_admin(rt)
    with rt.db.session() as s:
        s.scalar(select(Queue).where(Queue.slug == "support")).recording_mode = \
            RECORDING_ANNOUNCE
    call = _recorded_call(rt, twilio, twilio_api, worker, people["alice"], NUMBER)
    with rt.db.session() as s:
        recording_id = s.scalar(select(ConversationRecording.id))
    return call, recording_id, Desk(app, "alice"), Desk(app, "ada")


def _audited(rt, action: str) -> int:
    with rt.db.session() as s:
        return len(list(s.scalars(select(AuditEntry).where(AuditEntry.action == action))))


def test_an_agent_hears_a_recording_through_the_app_until_an_admin_takes_the_right_away(
        rt, app, twilio, twilio_api, worker):
    call, recording_id, alice, ada = _recorded(rt, app, twilio, twilio_api, worker)
    listed = alice.get(f"/api/interactions/{call.id}").json["recordings"]
    assert [r["media"] for r in listed] == [f"/api/recordings/{recording_id}/media"]
    heard = alice.get(f"/api/recordings/{recording_id}/media")
    assert (heard.status_code, heard.mimetype) == (200, "audio/mpeg")
    assert heard.data.startswith(b"ID3") and "twilio.com" not in str(listed)
    assert _audited(rt, "listen-recording") == 1

    changed = ada.send("PATCH", "/api/admin/privacy/roles/agent", {"hear_recordings": False})
    assert changed.json == {"hear_recordings": False, "see_numbers": True}
    refused = alice.get(f"/api/recordings/{recording_id}/media")
    assert refused.status_code == 403 and "hear recordings" in refused.json["detail"]
    assert alice.get(f"/api/interactions/{call.id}").json["recordings"] == []
    assert _audited(rt, "listen-recording") == 1  # a refused listen is not a listen
    with rt.db.session() as s:
        entry = s.scalar(select(ConfigAuditEntry).where(ConfigAuditEntry.entity == "role-access"))
        assert (entry.actor, entry.after["hear_recordings"]) == ("ada", False)


def test_an_agent_reveals_full_numbers_only_while_their_role_may(
        rt, app, twilio, twilio_api, worker):
    call, _recording_id, alice, ada = _recorded(rt, app, twilio, twilio_api, worker)
    shown = alice.get(f"/api/interactions/{call.id}?reveal=1").json["caller"]["number"]
    assert shown == NUMBER and _audited(rt, "reveal-number") == 1
    ada.send("PATCH", "/api/admin/privacy/roles/agent", {"see_numbers": False})
    refused = alice.get(f"/api/interactions/{call.id}?reveal=1")
    assert refused.status_code == 403 and "see full numbers" in refused.json["detail"]
    assert alice.get(f"/api/interactions/{call.id}").json["caller"]["number"] == "…0123"
    assert _audited(rt, "reveal-number") == 1
    bad = ada.send("PATCH", "/api/admin/privacy/roles/agent", {"see_numbers": "perhaps"})
    assert bad.status_code == 400 and bad.json["field"] == "see_numbers"
    assert ada.get("/api/admin/privacy/roles").json["roles"]["agent"]["see_numbers"] is False


def test_pause_and_resume_through_the_agent_api_reach_twilio_and_need_a_running_recording(
        rt, app, twilio, twilio_api, worker):
    people = seed_people_and_admin(rt)
    with rt.db.session() as s:
        s.scalar(select(Queue).where(Queue.slug == "support")).recording_mode = \
            RECORDING_ANNOUNCE
    from simulator.resources import CallResource
    from tests.console_helpers import route_call_to
    form, call, _leg = route_call_to(rt, twilio, worker, people["alice"], from_=NUMBER)
    alice = Desk(app, "alice")
    assert alice.send("POST", f"/api/interactions/{call.id}/recording",
                      {"action": "pause"}).status_code == 409  # nothing recorded yet
    twilio_api.store.add_call(CallResource(form["CallSid"], rt.settings.twilio_account_sid,
                                           "+12125550000", NUMBER, "inbound", "in-progress"))
    twilio.post(f"/voice/conference/events?interaction={call.id}", {
        "CallSid": form["CallSid"], "StatusCallbackEvent": "participant-join",
        "ConferenceSid": "CF" + "1" * 32, "AccountSid": form["AccountSid"]})
    worker()
    for action, status in (("pause", "paused"), ("resume", "in-progress")):
        reply = alice.send("POST", f"/api/interactions/{call.id}/recording", {"action": action})
        assert reply.json["status"] == status
        worker()
    sent = [r.field("Status") for r in twilio_api.requests("call-recording-update")]
    assert sent == ["paused", "in-progress"]
    assert alice.send("POST", f"/api/interactions/{call.id}/recording",
                      {"action": "stop"}).status_code == 400
    bob = Desk(app, "bob")
    assert bob.send("POST", f"/api/interactions/{call.id}/recording",
                    {"action": "pause"}).status_code == 403



def _joined(twilio, form, interaction_id: int) -> None:
    twilio.post(f"/voice/conference/events?interaction={interaction_id}", {
        "CallSid": form["CallSid"], "StatusCallbackEvent": "participant-join",
        "ConferenceSid": "CF" + "3" * 32, "AccountSid": form["AccountSid"]})


def test_one_policy_and_one_recording_per_interaction_whatever_transfers_follow(
        rt, app, twilio, twilio_api, worker):
    people = seed_people_and_admin(rt)
    with rt.db.session() as s:
        s.scalar(select(Queue).where(Queue.slug == "support")).recording_mode = \
            RECORDING_ANNOUNCE
        s.scalar(select(Queue).where(Queue.slug == "sales")).recording_mode = "consent"
    form, call, _leg = route_call_to(rt, twilio, worker, people["alice"], from_=NUMBER)
    twilio_api.store.add_call(CallResource(form["CallSid"], rt.settings.twilio_account_sid,
                                           "+12125550000", NUMBER, "inbound", "in-progress"))
    _joined(twilio, form, call.id)
    worker()
    moved = Desk(app, "alice").send("POST", f"/api/interactions/{call.id}/transfer",
                                    {"mode": "cold", "to_queue": "sales", "reason": "billing"})
    assert moved.status_code in (200, 201, 202), moved.json
    worker()
    _joined(twilio, form, call.id)  # bridged again, with a sales agent
    worker()
    with rt.db.session() as s:
        row = s.get(Interaction, call.id)
        sales = s.scalar(select(Queue).where(Queue.slug == "sales"))
        assert not recording_notice.undecided(row, sales)  # never asked again in sales
        assert row.recording_policy == POLICY_RECORD
        assert len(list(s.scalars(select(ConversationRecording)))) == 1
    assert len(twilio_api.requests("call-recording-create")) == 1


def test_a_callback_to_a_recorded_caller_is_told_again_and_recorded_once_bridged(
        rt, twilio, worker, twilio_api, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        s.scalar(select(Queue).where(Queue.slug == "support")).recording_mode = \
            RECORDING_ANNOUNCE
    alice = seed_agent(rt, "alice", ["support"])
    book_callback(twilio, NUMBER)
    make_available(rt, alice)
    worker()
    attempt, _whisper, _agent_form = agent_answers(twilio, rt)
    worker()
    customer_call = twilio_api.calls_created()[-1]
    root = twiml(twilio.post(local(customer_call.field("Url")),
                             customer_form(rt, attempt.id, AnsweredBy="human")))
    assert recording_notice.NOTICE in spoken(root)
    conference = root.find("Dial/Conference")
    assert conference.get("statusCallbackEvent") == "join leave"
    call_sid = attempt_row(rt, attempt.id).call_sid
    twilio_api.store.update_call(call_sid, status="in-progress")
    twilio.post(local(conference.get("statusCallback")), {
        **customer_form(rt, attempt.id), "StatusCallbackEvent": "participant-join",
        "ConferenceSid": "CF" + "4" * 32})
    worker()
    created = twilio_api.requests("call-recording-create")
    assert len(created) == 1 and f"/Calls/{call_sid}/" in created[0].path
    with rt.db.session() as s:
        row = s.scalar(select(ConversationRecording))
        callback = s.get(Callback, attempt.callback_id)
        assert row.interaction_id == callback.interaction_id and row.call_sid == call_sid


def test_a_customer_first_call_back_keeps_the_callers_policy_and_is_told_again(
        rt, twilio, worker, twilio_api):
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.slug == "support"))
        queue.recording_mode, queue.dial_mode = RECORDING_ANNOUNCE, "customer-first"
    alice = seed_agent(rt, "alice", ["support"])
    book_callback(twilio, NUMBER)
    make_available(rt, alice)
    worker()
    attempt = attempt_row(rt)
    form = customer_form(rt, attempt.id, AnsweredBy="human")
    answer = twiml(twilio.post(f"/voice/callback/customer?attempt={attempt.id}", form))
    assert recording_notice.NOTICE in spoken(answer)
    with rt.db.session() as s:
        called_back = s.scalar(select(Interaction).where(Interaction.call_sid == form["CallSid"]))
        assert called_back.recording_policy == POLICY_RECORD


def test_a_voicemail_is_neither_linked_nor_played_for_a_role_that_may_not_hear(rt, held):
    call, ada = held["call"], held["ada"]
    alice = Desk(held["app"], "alice")
    with rt.db.session() as s:
        voicemail = s.scalar(select(Callback).where(Callback.reference == "AAA111"))
    played = alice.get(f"/api/callbacks/{voicemail.id}/recording?via={call.id}")
    assert played.status_code == 200
    shown = alice.get(f"/api/interactions/{call.id}").json
    assert any(c["recording_url"] for c in shown["callback_history"])
    ada.send("PATCH", "/api/admin/privacy/roles/agent", {"hear_recordings": False})
    refused = alice.get(f"/api/callbacks/{voicemail.id}/recording?via={call.id}")
    assert refused.status_code == 403
    shown = alice.get(f"/api/interactions/{call.id}").json
    assert not any(c["recording_url"] for c in shown["callback_history"])
    assert _audited(rt, "play-recording") == 1


def test_a_join_reported_twice_asks_twilio_for_one_recording(rt, app, twilio, twilio_api,
                                                              worker):
    people = seed_people_and_admin(rt)
    with rt.db.session() as s:
        s.scalar(select(Queue).where(Queue.slug == "support")).recording_mode = \
            RECORDING_ANNOUNCE
    form, call, _leg = route_call_to(rt, twilio, worker, people["alice"], from_=NUMBER)
    twilio_api.store.add_call(CallResource(form["CallSid"], rt.settings.twilio_account_sid,
                                           "+12125550000", NUMBER, "inbound", "in-progress"))
    _joined(twilio, form, call.id)
    _joined(twilio, form, call.id)
    worker()
    assert len(twilio_api.requests("call-recording-create")) == 1

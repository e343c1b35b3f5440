"""The agent API: sign-in, CSRF, who may see what, context, notes, wrap-up, transfers."""

from __future__ import annotations

import logging
import re

import schemathesis
from sqlalchemy import select

from admin import directory
from models.console import AuditEntry, Note, Transfer, WrapUp
from models.entities import CONNECTED, WAITING, Caller, Interaction, Leg
from queueing import lines
from simulator.resources import ParticipantResource
from tests.console_helpers import PASSWORD, Desk, route_call_to, seed_people
from tests.helpers import call_form, make_available, spoken, twiml
from webhooks.openapi import document as openapi_document


def test_api_needs_sign_in_401_and_console_page_redirects_to_sign_in(rt, client):
    seed_people(rt)
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me/current").status_code == 401
    page = client.get("/console")
    assert page.status_code == 302 and "/sign-in" in page.headers["Location"]


def test_wrong_password_is_refused_and_session_cookie_is_hardened(rt, app):
    seed_people(rt)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for username, password in (("alice", "nope"), ("nobody", PASSWORD)):
        refused = client.post("/sign-in", data={"username": username, "password": password,
                                                "csrf_token": token})
        assert refused.status_code == 401
        assert "Unknown username or wrong password." in refused.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401
    alice = Desk(app, "alice")
    cookie = alice.client.get_cookie("session")
    assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    assert alice.get("/api/me").json["username"] == "alice"


def test_state_change_without_csrf_token_is_400_and_changes_nothing(rt, app):
    people = seed_people(rt)
    alice = Desk(app, "alice")
    reply = alice.client.post("/api/me/state", json={"state": "available"})
    assert reply.status_code == 400 and "CSRF" in reply.json["detail"]
    assert rt.presence.state(people["alice"]) == "offline"
    assert alice.send("POST", "/api/me/state", {"state": "available"}).json["state"] == "available"


def test_signed_twilio_webhooks_need_no_csrf_token(rt, twilio):
    seed_people(rt)
    assert twilio.post("/voice/incoming", call_form()).status_code == 200


def test_going_offline_while_on_a_call_is_409(rt, app, twilio, worker):
    people = seed_people(rt)
    route_call_to(rt, twilio, worker, people["alice"])
    reply = Desk(app, "alice").send("POST", "/api/me/state", {"state": "offline"})
    assert reply.status_code == 409 and reply.json["detail"] == "you are busy"


def test_bad_state_is_400_naming_the_field(rt, app):
    seed_people(rt)
    reply = Desk(app, "alice").send("POST", "/api/me/state", {"state": "asleep"})
    assert reply.status_code == 400 and reply.json["detail"].startswith("state:")


def test_current_interaction_shows_caller_context_with_number_masked(rt, app, twilio, worker):
    people = seed_people(rt)
    with rt.db.session() as s:
        s.add(Caller(number="+12125550123", name="Grace Hopper", account_ref="ACC-42"))
    route_call_to(rt, twilio, worker, people["alice"])
    body = Desk(app, "alice").get("/api/me/current").json
    assert body["state"] == "busy"
    context = body["interaction"]
    assert context["phase"] == "connected"
    assert context["caller"] == {"name": "Grace Hopper", "number": "…0123",
                                 "number_hidden": False, "revealed": False,
                                 "account_ref": "ACC-42", "difficult": False,
                                 "language": {"tag": "en-US", "name": "English"}}
    assert context["queue"] == {"slug": "support", "name": "Support",
                                "time_zone": "America/New_York"}
    assert context["time_zone"] == "America/New_York"  # its times are shown in its queue's zone
    assert [(leg["agent"], leg["kind"]) for leg in context["legs"]] == [("Alice Agent", "answer")]


def test_reveal_shows_full_number_and_is_audited(rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    body = Desk(app, "alice").get(f"/api/interactions/{interaction.id}?reveal=1").json
    assert body["caller"]["number"] == "+12125550123"
    with rt.db.session() as s:
        audit = s.scalars(select(AuditEntry)).all()
    assert [(a.agent_id, a.action, a.interaction_id) for a in audit] == [
        (people["alice"], "reveal-number", interaction.id)]


def test_previous_interactions_of_the_caller_appear_with_outcomes(rt, app, twilio, worker):
    people = seed_people(rt)
    earlier = call_form()
    twilio.post("/voice/incoming", earlier)
    twilio.post("/voice/status", {**earlier, "CallStatus": "completed"})
    route_call_to(rt, twilio, worker, people["alice"])
    history = Desk(app, "alice").get("/api/me/current").json["interaction"]["history"]
    assert [(h["status"], h["outcome"]) for h in history] == [("abandoned", "abandoned")]


def test_another_agents_interaction_is_refused_403(rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    bob = Desk(app, "bob")
    base = f"/api/interactions/{interaction.id}"
    assert bob.get(base).status_code == 403
    assert bob.send("PUT", f"{base}/notes/draft", {"text": "x"}).status_code == 403
    assert bob.send("POST", f"{base}/notes", {"text": "x"}).status_code == 403
    assert bob.send("POST", f"{base}/wrap-up", {"disposition": "resolved"}).status_code == 403
    assert bob.send("POST", f"{base}/transfer", {"to_queue": "sales", "mode": "cold",
                                                  "reason": "x"}).status_code == 403
    assert bob.get("/api/interactions/999999").status_code == 404
    huge = "/api/interactions/9223372036854775808/notes/draft"
    assert bob.send("PUT", huge, {"text": "x"}).status_code == 404
    with rt.db.session() as s:
        assert s.scalars(select(Note)).all() == []


def test_draft_note_is_one_per_agent_upserted_and_survives_a_reload(rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    alice = Desk(app, "alice")
    path = f"/api/interactions/{interaction.id}/notes/draft"
    for text in ("Wants a ref", "Wants a refund for order 7"):
        assert alice.send("PUT", path, {"text": text}).status_code == 200
    again = Desk(app, "alice")  # a new page, a new session
    assert again.get("/api/me/current").json["interaction"]["my_draft"] == (
        "Wants a refund for order 7")
    with rt.db.session() as s:
        assert [(n.text, n.draft) for n in s.scalars(select(Note))] == [
            ("Wants a refund for order 7", True)]


def test_final_note_takes_over_the_draft_and_logs_never_hold_its_text(
        rt, app, twilio, worker, caplog):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    alice = Desk(app, "alice")
    base = f"/api/interactions/{interaction.id}"
    caplog.set_level(logging.DEBUG)
    alice.send("PUT", f"{base}/notes/draft", {"text": "secret plan"})
    assert alice.send("POST", f"{base}/notes", {"text": "secret plan, final"}).status_code == 201
    notes = alice.get(base).json["notes"]
    assert [(n["author"], n["text"], n["draft"]) for n in notes] == [
        ("Alice Agent", "secret plan, final", False)]
    assert "secret plan" not in caplog.text
    assert "2125550123" not in caplog.text  # the caller's number appears only masked


def test_input_is_validated_with_400_naming_the_field(rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    alice = Desk(app, "alice")
    base = f"/api/interactions/{interaction.id}"
    cases = [
        ("PUT", "notes/draft", {"text": 5}, "text:"),
        ("PUT", "notes/draft", {"text": "x" * 5001}, "text:"),
        ("POST", "notes", {"text": "  "}, "text:"),
        ("POST", "wrap-up", {"disposition": "happy"}, "disposition:"),
        ("POST", "transfer", {"mode": "hot", "reason": "x", "to_queue": "sales"}, "mode:"),
        ("POST", "transfer", {"mode": "cold", "reason": "", "to_queue": "sales"}, "reason:"),
        ("POST", "transfer", {"mode": "cold", "reason": "x"}, "to_agent_id:"),
        ("POST", "transfer", {"mode": "cold", "reason": "x", "to_agent_id": "2"}, "to_agent_id:"),
        ("POST", "transfer", {"mode": "cold", "reason": "x", "to_agent_id": 2**31},
         "to_agent_id:"),
        ("POST", "transfer", {"mode": "cold", "reason": "x", "to_agent_id": 0}, "to_agent_id:"),
        ("POST", "transfer", {"mode": "warm", "reason": "x", "to_queue": "sales"}, "mode:"),
        ("POST", "flag-difficult", {"difficult": "yes"}, "difficult:"),
    ]
    for method, path, body, field in cases:
        reply = alice.send(method, f"{base}/{path}", body)
        assert reply.status_code == 400, (path, body)
        assert reply.json["detail"].startswith(field), (path, reply.json)
    assert alice.get("/api/me/current?reveal=yes").status_code == 400


def test_flag_difficult_marks_the_caller_for_later_calls(rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    alice = Desk(app, "alice")
    reply = alice.send("POST", f"/api/interactions/{interaction.id}/flag-difficult")
    assert reply.json == {"difficult": True}
    assert alice.get("/api/me/current").json["interaction"]["caller"]["difficult"] is True
    with rt.db.session() as s:
        assert s.scalar(select(Caller)).difficult is True


def test_wrap_up_records_disposition_and_closing_note_then_agent_is_available(
        rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, leg = route_call_to(rt, twilio, worker, people["alice"])
    alice = Desk(app, "alice")
    base = f"/api/interactions/{interaction.id}"
    early = alice.send("POST", f"{base}/wrap-up", {"disposition": "resolved"})
    assert early.status_code == 409
    twilio.post(f"/voice/status/agent?leg={leg.id}",
                call_form(sid=leg.call_sid, CallStatus="completed"))
    current = alice.get("/api/me/current").json
    assert current["state"] == "wrap-up" and current["interaction"]["phase"] == "wrap-up"
    assert current["wrap_up_seconds_left"] == rt.settings.wrap_up_seconds  # the clock is frozen
    reply = alice.send("POST", f"{base}/wrap-up", {"disposition": "resolved", "note": "Done."})
    assert reply.json == {"state": "available"}
    after = alice.get("/api/me/current").json
    assert (after["state"], after["interaction"], after["offline_reason"]) == (
        "available", None, "")
    assert after["wrap_up_seconds_left"] is None
    assert after["supervisors"] == []
    assert after["escalation"] is None
    with rt.db.session() as s:
        assert [w.disposition for w in s.scalars(select(WrapUp))] == ["resolved"]
        assert [n.text for n in s.scalars(select(Note))] == ["Done."]
    assert alice.send("POST", f"{base}/wrap-up", {"disposition": "resolved"}).status_code == 409


def _legs(rt, interaction_id):
    with rt.db.session() as s:
        return s.scalars(select(Leg).where(Leg.interaction_id == interaction_id)
                         .order_by(Leg.id)).all()


def test_warm_transfer_holds_caller_dials_bob_into_same_conference_with_context(
        rt, app, twilio, worker, twilio_api):
    people = seed_people(rt)
    form, interaction, first = route_call_to(rt, twilio, worker, people["alice"])
    make_available(rt, people["bob"])
    alice, bob = Desk(app, "alice"), Desk(app, "bob")
    base = f"/api/interactions/{interaction.id}"
    alice.send("PUT", f"{base}/notes/draft", {"text": "Refund for order 7"})
    reply = alice.send("POST", f"{base}/transfer", {"to_agent_id": people["bob"], "mode": "warm",
                                                    "reason": "billing question"})
    assert reply.status_code == 202
    assert rt.presence.state(people["bob"]) == "busy"
    room = twilio_api.store.ensure_conference("AC" + "0" * 32, f"hl-{interaction.id}")
    twilio_api.store.put_participant(
        ParticipantResource(form["CallSid"], room.sid, room.account_sid))
    worker()
    dial = twilio_api.calls_created()[-1]
    assert dial.field("To") == "client:bob"
    hold = twilio_api.requests("participant-update")[-1]
    assert hold.path.endswith(f"/Participants/{form['CallSid']}.json")
    assert hold.field("Hold") == "true" and hold.field("HoldUrl").endswith("/voice/transfer/hold")
    held = twiml(twilio.post("/voice/transfer/hold", form))
    assert "Please hold while I transfer you." in spoken(held)
    bob_leg = _legs(rt, interaction.id)[-1]
    assert (bob_leg.kind, bob_leg.reason, bob_leg.agent_id) == (
        "warm_transfer", "billing question", people["bob"])
    whisper = twiml(twilio.post(f"/voice/agent/whisper?leg={bob_leg.id}",
                                call_form(sid=bob_leg.call_sid)))
    assert "Transfer from Alice Agent. Reason: billing question." in spoken(whisper)
    assert whisper.find("Dial/Conference").text == f"hl-{interaction.id}"
    worker()
    assert twilio_api.requests("participant-update")[-1].field("Hold") == "true"  # consulted
    context = bob.get("/api/me/current").json["interaction"]
    assert context["id"] == interaction.id and context["phase"] == "connected"
    assert [(n["author"], n["text"], n["draft"]) for n in context["notes"]] == [
        ("Alice Agent", "Refund for order 7", False)]
    assert [(t["from"], t["to_agent"], t["mode"]) for t in context["transfers"]] == [
        ("Alice Agent", "Bob Agent", "warm")]
    hangups_before = len([r for r in twilio_api.requests("call-update")
                          if r.field("Status") == "completed"])
    twilio.post(f"/voice/status/agent?leg={first.id}",
                call_form(sid=first.call_sid, CallStatus="completed"))
    worker()
    hangups = [r for r in twilio_api.requests("call-update") if r.field("Status") == "completed"]
    assert len(hangups) == hangups_before  # alice dropped; the caller stays with bob
    unhold = twilio_api.requests("participant-update")[-1]  # alice leaving completes it
    assert unhold.path.endswith(f"/Participants/{form['CallSid']}.json")
    assert unhold.field("Hold") == "false"
    assert rt.presence.state(people["alice"]) == "wrap-up"
    with rt.db.session() as s:
        assert s.get(Interaction, interaction.id).status == CONNECTED


def _consulting_bob(rt, app, twilio, worker, twilio_api, answered=True):
    """Alice warm-transfers her caller to Bob; Bob answers (when `answered`): the caller is
    held while Alice and Bob talk. Returns (caller form, interaction, alice's leg, bob's
    leg, alice's desk)."""
    people = seed_people(rt)
    form, interaction, first = route_call_to(rt, twilio, worker, people["alice"])
    make_available(rt, people["bob"])
    alice = Desk(app, "alice")
    reply = alice.send("POST", f"/api/interactions/{interaction.id}/transfer",
                       {"to_agent_id": people["bob"], "mode": "warm", "reason": "billing"})
    assert reply.status_code == 202
    room = twilio_api.store.ensure_conference("AC" + "0" * 32, f"hl-{interaction.id}")
    for sid in (form["CallSid"], first.call_sid):
        twilio_api.store.put_participant(ParticipantResource(sid, room.sid, room.account_sid))
    worker()
    bob_leg = _legs(rt, interaction.id)[-1]
    if answered:
        twilio.post(f"/voice/agent/whisper?leg={bob_leg.id}", call_form(sid=bob_leg.call_sid))
        twilio_api.store.put_participant(
            ParticipantResource(bob_leg.call_sid, room.sid, room.account_sid))
        worker()
    assert twilio_api.requests("participant-update")[-1].field("Hold") == "true"
    return form, interaction, first, bob_leg, alice


def _warm(desk, interaction_id, action):
    return desk.send("POST", f"/api/interactions/{interaction_id}/transfer/warm",
                     {"action": action})


def _audited(rt, interaction_id):
    with rt.db.session() as s:
        return [a.action for a in s.scalars(select(AuditEntry).where(
            AuditEntry.interaction_id == interaction_id).order_by(AuditEntry.id))]


def test_warm_transfer_cancel_removes_bob_participant_and_unholds_caller_for_alice(
        rt, app, twilio, worker, twilio_api):
    form, interaction, _first, bob_leg, alice = _consulting_bob(
        rt, app, twilio, worker, twilio_api)
    reply = _warm(alice, interaction.id, "cancel")
    assert reply.status_code == 202 and reply.json["action"] == "cancel"
    worker()
    removed = twilio_api.requests("participant-delete")
    assert [r.path.rsplit("/", 1)[-1] for r in removed] == [f"{bob_leg.call_sid}.json"]
    unhold = twilio_api.requests("participant-update")[-1]
    assert unhold.path.endswith(f"/Participants/{form['CallSid']}.json")
    assert unhold.field("Hold") == "false"
    assert _audited(rt, interaction.id) == ["warm-transfer-cancel"]
    again = _warm(alice, interaction.id, "cancel")
    assert again.status_code == 409 and "no warm transfer" in again.json["detail"]


def test_warm_transfer_cancel_while_bob_rings_ends_his_call_and_unholds_caller(
        rt, app, twilio, worker, twilio_api):
    form, interaction, _first, bob_leg, alice = _consulting_bob(
        rt, app, twilio, worker, twilio_api, answered=False)
    assert _warm(alice, interaction.id, "complete").status_code == 409
    assert _warm(alice, interaction.id, "cancel").status_code == 202
    worker()
    ended = [r for r in twilio_api.requests("call-update")
             if r.path.endswith(f"/Calls/{bob_leg.call_sid}.json")]
    assert ended and ended[-1].field("Status") == "completed"
    assert twilio_api.requests("participant-update")[-1].field("Hold") == "false"


def test_warm_transfer_complete_removes_alice_and_unholds_caller_for_bob(
        rt, app, twilio, worker, twilio_api):
    form, interaction, first, _bob_leg, alice = _consulting_bob(
        rt, app, twilio, worker, twilio_api)
    assert _warm(alice, interaction.id, "complete").status_code == 202
    worker()
    removed = twilio_api.requests("participant-delete")
    assert [r.path.rsplit("/", 1)[-1] for r in removed] == [f"{first.call_sid}.json"]
    unhold = twilio_api.requests("participant-update")[-1]
    assert unhold.path.endswith(f"/Participants/{form['CallSid']}.json")
    assert unhold.field("Hold") == "false"
    assert _audited(rt, interaction.id) == ["warm-transfer-complete"]


def test_warm_transfer_three_way_unholds_caller_removes_nobody_and_alice_may_leave(
        rt, app, twilio, worker, twilio_api):
    form, interaction, first, _bob_leg, alice = _consulting_bob(
        rt, app, twilio, worker, twilio_api)
    assert _warm(alice, interaction.id, "three-way").status_code == 202
    worker()
    assert twilio_api.requests("participant-delete") == []
    assert twilio_api.requests("participant-update")[-1].field("Hold") == "false"
    assert _audited(rt, interaction.id) == ["warm-transfer-three-way"]
    assert _warm(alice, interaction.id, "complete").status_code == 409  # already three-way
    updates = len(twilio_api.requests("participant-update"))
    twilio.post(f"/voice/status/agent?leg={first.id}",
                call_form(sid=first.call_sid, CallStatus="completed"))
    worker()
    assert len(twilio_api.requests("participant-update")) == updates  # nobody re-held
    with rt.db.session() as s:
        assert s.get(Interaction, interaction.id).status == CONNECTED


def _warm_shown(desk):
    """What my current-call answer says of my warm transfer (None when none)."""
    reply = desk.get("/api/me/current")
    assert reply.status_code == 200
    return reply.json["warm_transfer"]


def test_current_call_says_my_warm_transfer_is_in_progress_until_i_complete_it(
        rt, app, twilio, worker, twilio_api):
    form, interaction, _first, bob_leg, alice = _consulting_bob(
        rt, app, twilio, worker, twilio_api, answered=False)
    with rt.db.session() as s:
        record = s.scalar(select(Transfer).where(Transfer.interaction_id == interaction.id))
        since, bob_id = record.created_at.isoformat(), record.to_agent_id
    current = alice.get("/api/me/current")
    assert current.json["warm_transfer"] == {
        "transfer_id": record.id, "to_agent_id": bob_id, "to": "Bob Agent", "since": since,
        "answered": False}
    documented = schemathesis.openapi.from_dict(openapi_document())["/api/me/current"]["GET"]
    documented.validate_response(current)  # the answer is as the OpenAPI document says
    twilio.post(f"/voice/agent/whisper?leg={bob_leg.id}", call_form(sid=bob_leg.call_sid))
    assert _warm_shown(alice)["answered"] is True
    assert _warm_shown(Desk(app, "bob")) is None  # only the sender may settle it
    assert _warm(alice, interaction.id, "complete").status_code == 202
    assert _warm_shown(alice) is None


def test_current_call_stops_saying_warm_transfer_once_cancelled(
        rt, app, twilio, worker, twilio_api):
    _form, interaction, _first, _bob_leg, alice = _consulting_bob(
        rt, app, twilio, worker, twilio_api)
    assert _warm_shown(alice)["answered"] is True
    assert _warm(alice, interaction.id, "cancel").status_code == 202
    worker()
    assert _warm_shown(alice) is None
    assert alice.get("/api/me/current").json["interaction"]["phase"] == "connected"


def test_current_call_stops_saying_warm_transfer_when_the_colleague_hangs_up(
        rt, app, twilio, worker, twilio_api):
    _form, _interaction, _first, bob_leg, alice = _consulting_bob(
        rt, app, twilio, worker, twilio_api)
    assert _warm_shown(alice) is not None
    twilio.post(f"/voice/status/agent?leg={bob_leg.id}",
                call_form(sid=bob_leg.call_sid, CallStatus="completed"))
    worker()
    assert _warm_shown(alice) is None


def test_ending_a_warm_transfer_when_none_is_in_progress_is_409_in_plain_words(
        rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    alice = Desk(app, "alice")
    reply = _warm(alice, interaction.id, "three-way")
    assert reply.status_code == 409
    assert reply.json["detail"] == "no warm transfer of yours is in progress on this call"
    wrong = _warm(alice, interaction.id, "finish")
    assert wrong.status_code == 400 and wrong.json["detail"].startswith("action:")
    assert _audited(rt, interaction.id) == []


def test_cold_transfer_to_a_queue_never_routes_back_to_the_sender_but_to_another_agent(
        rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, first = route_call_to(rt, twilio, worker, people["alice"])
    reply = Desk(app, "alice").send("POST", f"/api/interactions/{interaction.id}/transfer",
                                    {"to_queue": "support", "mode": "cold", "reason": "x"})
    assert reply.status_code == 202
    twilio.post(f"/voice/status/agent?leg={first.id}",
                call_form(sid=first.call_sid, CallStatus="completed"))
    worker()
    make_available(rt, people["alice"])  # the only agent free: she sent it, so it waits
    worker()
    assert rt.presence.state(people["alice"]) == "available"
    assert [e.interaction_id for e in lines.waiting(rt.live, "support")] == [interaction.id]
    with rt.db.session() as s:
        carol = directory.create_agent(s, "Carol Agent", "carol", "client:carol", ["support"],
                                       "agent", PASSWORD).id
    make_available(rt, carol)
    worker()
    assert lines.waiting(rt.live, "support") == []
    assert rt.presence.state(carol) == "busy"
    assert rt.presence.state(people["alice"]) == "available"
    assert [leg.agent_id for leg in _legs(rt, interaction.id) if leg.agent_id] == [
        people["alice"], carol]


def test_transfer_to_a_busy_agent_is_409_and_records_nothing(rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    reply = Desk(app, "alice").send("POST", f"/api/interactions/{interaction.id}/transfer",
                                    {"to_agent_id": people["bob"], "mode": "warm", "reason": "x"})
    assert reply.status_code == 409 and "offline" in reply.json["detail"]
    with rt.db.session() as s:
        assert s.scalars(select(Transfer)).all() == []
    assert len(_legs(rt, interaction.id)) == 1


def test_cold_transfer_to_queue_keeps_original_place_and_caller_hears_estimate(
        rt, app, twilio, worker, twilio_api, frozen_clock):
    people = seed_people(rt)
    form, interaction, first = route_call_to(rt, twilio, worker, people["alice"])
    frozen_clock.advance(60)
    later = call_form(from_="+12125550777")
    twilio.post("/voice/incoming", later)  # waits: alice is busy
    alice = Desk(app, "alice")
    reply = alice.send("POST", f"/api/interactions/{interaction.id}/transfer",
                       {"to_queue": "support", "mode": "cold", "reason": "wrong team"})
    assert reply.status_code == 202
    assert [e.call_sid for e in lines.waiting(rt.live, "support")] == [
        form["CallSid"], later["CallSid"]]
    worker()
    redirect = [r for r in twilio_api.requests("call-update") if r.field("Url")][-1]
    assert redirect.path.endswith(f"/Calls/{form['CallSid']}.json")
    assert redirect.field("Url").endswith("/voice/rejoin")
    back = twiml(twilio.post("/voice/rejoin", form))
    assert "You are next in line." in spoken(back)
    assert back.find("Enqueue").text == "support"
    twilio.post(f"/voice/status/agent?leg={first.id}",
                call_form(sid=first.call_sid, CallStatus="completed"))
    worker()
    with rt.db.session() as s:
        row = s.get(Interaction, interaction.id)
        assert row.status == WAITING and row.joined_at == interaction.joined_at
    assert [leg.kind for leg in _legs(rt, interaction.id)] == ["answer", "queue_transfer"]
    hangups = [r for r in twilio_api.requests("call-update")
               if r.field("Status") == "completed" and form["CallSid"] in r.path]
    assert hangups == []


def test_escalation_rings_an_available_supervisor_at_once(rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    alice = Desk(app, "alice")
    path = f"/api/interactions/{interaction.id}/escalate"
    make_available(rt, people["sam"])
    reply = alice.send("POST", path, {"reason": "angry"})
    assert reply.status_code == 202 and reply.json["waiting"] is False
    leg = _legs(rt, interaction.id)[-1]
    assert (leg.kind, leg.agent_id, leg.reason) == ("escalation", people["sam"], "angry")


def test_openapi_document_describes_every_api_route(rt, app, client):
    document = client.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.")
    described = {(path, method.upper()) for path, ops in document["paths"].items()
                 for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == served


def test_voice_token_is_503_until_configured_then_carries_client_identity(rt, app):
    seed_people(rt)
    alice = Desk(app, "alice")
    assert alice.get("/api/voice-token").status_code == 503
    rt.settings = rt.settings.with_overrides({
        "twilio_api_key_sid": "SK" + "1" * 32, "twilio_api_key_secret": "s" * 32,
        "twilio_twiml_app_sid": "AP" + "2" * 32})
    body = alice.get("/api/voice-token").json
    assert body["identity"] == "alice" and body["token"].count(".") == 2


def test_cold_transfer_to_an_agent_drops_the_first_agent_and_dials_the_second(
        rt, app, twilio, worker, twilio_api):
    people = seed_people(rt)
    _form, interaction, first = route_call_to(rt, twilio, worker, people["alice"])
    make_available(rt, people["bob"])
    reply = Desk(app, "alice").send("POST", f"/api/interactions/{interaction.id}/transfer",
                                    {"to_agent_id": people["bob"], "mode": "cold",
                                     "reason": "wrong team"})
    assert reply.status_code == 202
    worker()
    assert twilio_api.calls_created()[-1].field("To") == "client:bob"
    dropped = [r for r in twilio_api.requests("call-update") if r.field("Status") == "completed"]
    assert [r.path.rsplit("/", 1)[-1] for r in dropped] == [f"{first.call_sid}.json"]
    twilio.post(f"/voice/status/agent?leg={first.id}",
                call_form(sid=first.call_sid, CallStatus="completed"))
    worker()
    assert rt.presence.state(people["alice"]) == "wrap-up"
    with rt.db.session() as s:
        assert s.get(Interaction, interaction.id).status == CONNECTED


def test_unanswered_cold_transfer_puts_the_caller_back_in_line_at_the_original_place(
        rt, app, twilio, worker, twilio_api, frozen_clock):
    people = seed_people(rt)
    form, interaction, first = route_call_to(rt, twilio, worker, people["alice"])
    make_available(rt, people["bob"])
    frozen_clock.advance(30)
    later = call_form(from_="+12125550777")
    twilio.post("/voice/incoming", later)
    Desk(app, "alice").send("POST", f"/api/interactions/{interaction.id}/transfer",
                            {"to_agent_id": people["bob"], "mode": "cold", "reason": "x"})
    worker()
    twilio.post(f"/voice/status/agent?leg={first.id}",
                call_form(sid=first.call_sid, CallStatus="completed"))
    bob_leg = _legs(rt, interaction.id)[-1]
    twilio.post(f"/voice/status/agent?leg={bob_leg.id}",
                call_form(sid=bob_leg.call_sid, CallStatus="no-answer"))
    assert [e.call_sid for e in lines.waiting(rt.live, "support")] == [
        form["CallSid"], later["CallSid"]]
    worker()
    redirect = [r for r in twilio_api.requests("call-update") if r.field("Url")][-1]
    assert redirect.path.endswith(f"/Calls/{form['CallSid']}.json")
    assert redirect.field("Url").endswith("/voice/rejoin")
    assert rt.presence.state(people["bob"]) == "available"


def test_sign_out_ends_the_session(rt, app):
    seed_people(rt)
    alice = Desk(app, "alice")
    reply = alice.client.post("/sign-out", data={"csrf_token": alice.token})
    assert reply.status_code == 302
    assert alice.get("/api/me").status_code == 401


def test_role_required_lets_only_that_role_in(rt, app):
    from webhooks.auth import role_required

    @app.get("/api/admin-only-probe")
    @role_required("admin")
    def probe():
        return {"ok": True}

    seed_people(rt)
    with rt.db.session() as s:
        from admin import directory
        directory.create_agent(s, "Ada Admin", "ada", "client:ada", [], "admin", PASSWORD)
    assert app.test_client().get("/api/admin-only-probe").status_code == 401
    assert Desk(app, "alice").get("/api/admin-only-probe").status_code == 403
    assert Desk(app, "ada").get("/api/admin-only-probe").json == {"ok": True}


def test_repeated_failed_sign_ins_lock_the_username_for_a_while(rt, app):
    seed_people(rt)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    codes = [client.post("/sign-in", data={"username": "alice", "password": f"guess{n}",
                                           "csrf_token": token}).status_code for n in range(6)]
    assert codes == [401] * 5 + [429]
    right = client.post("/sign-in", data={"username": "alice", "password": PASSWORD,
                                          "csrf_token": token})
    assert right.status_code == 429
    assert Desk(app, "bob").get("/api/me").status_code == 200


def test_one_address_trying_many_usernames_is_locked_out_but_other_addresses_are_not(rt, app):
    from webhooks.auth import MAX_FAILED_SIGN_INS, MAX_FAILED_SIGN_INS_PER_ADDRESS
    seed_people(rt)
    sprayer = app.test_client()
    sprayer.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    page = sprayer.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    names = [f"user{n}" for n in range(MAX_FAILED_SIGN_INS_PER_ADDRESS)]
    assert len(names) > MAX_FAILED_SIGN_INS  # no single username reaches its own limit
    codes = [sprayer.post("/sign-in", data={"username": name, "password": "Winter2026",
                                             "csrf_token": token}).status_code
             for name in names]
    assert codes == [401] * MAX_FAILED_SIGN_INS_PER_ADDRESS
    right = sprayer.post("/sign-in", data={"username": "alice", "password": PASSWORD,
                                           "csrf_token": token})
    assert right.status_code == 429
    assert Desk(app, "alice").get("/api/me").status_code == 200  # from another address


def test_sign_in_never_redirects_off_site(rt, app):
    seed_people(rt)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    reply = client.post("/sign-in?next=//evil.example/x", data={
        "username": "alice", "password": PASSWORD, "csrf_token": token})
    assert reply.headers["Location"] == "/console"

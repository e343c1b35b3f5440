"""Twilio refuses some calls outright: POST /Calls answers HTTP 400 with its error body
(21215 geo permissions, 21210/21212 caller ID, 21216 blocked, 21217/13224 invalid number).
Each place Holdless dials survives it: the refused agent goes offline with the reason, the
caller keeps their place and goes to the next agent, a refused transfer gives the caller
back, a refused customer number closes the callback as unreachable at once, and a refusal of
our own caller ID never counts against the customer's number."""

from __future__ import annotations

from sqlalchemy import select

from holdless.settings import Settings
from models.callbacks import BOOKED, UNREACHABLE
from models.entities import CONNECTED, OFFERED, WAITING, Agent, Assignment, Interaction, Leg
from queueing import lines
from tests.callback_steps import agent_answers, attempt_row, book_callback, only_callback
from tests.console_helpers import Desk, route_call_to, seed_people, seed_people_and_admin
from tests.helpers import call_form, make_available, seed_agent, seed_queues

ABROAD = "+33612345678"  # an agent's mobile in a country the account may not call
BAD_NUMBER = "+12125550199"


def _give_contact(rt, agent_id: int, contact: str) -> None:
    with rt.db.session() as s:
        s.get(Agent, agent_id).contact = contact


def _reason(rt, agent_id: int) -> str:
    with rt.db.session() as s:
        return s.get(Agent, agent_id).offline_reason


def _status(rt, call_sid: str) -> str:
    with rt.db.session() as s:
        return s.scalar(select(Interaction.status).where(Interaction.call_sid == call_sid))


def test_agent_refused_by_twilio_21215_goes_offline_with_the_reason_and_the_caller_keeps_their_place(  # noqa: E501
        rt, app, twilio, worker, twilio_api, frozen_clock):
    people = seed_people_and_admin(rt)
    alice = people["alice"]
    _give_contact(rt, alice, ABROAD)
    twilio_api.refuse(ABROAD, 21215)
    make_available(rt, alice)
    first = call_form(from_="+12125550101")
    twilio.post("/voice/incoming", first)
    frozen_clock.advance(20)
    later = call_form(from_="+12125550102")
    twilio.post("/voice/incoming", later)
    worker()
    refused = twilio_api.requests("call-create")[-1]
    assert (refused.status, refused.field("To")) == (400, ABROAD)
    assert rt.presence.state(alice) == "offline"
    assert "21215" in _reason(rt, alice) and "geographic permissions" in _reason(rt, alice)
    assert [e.call_sid for e in lines.waiting(rt.live, "support")] == [
        first["CallSid"], later["CallSid"]]
    assert _status(rt, first["CallSid"]) == WAITING
    with rt.db.session() as s:
        [offer] = s.scalars(select(Assignment)).all()
        [leg] = s.scalars(select(Leg)).all()
        assert (offer.outcome, offer.active_agent_id) == ("refused", None)
        assert offer.ended_at is not None and leg.status == "refused"
    shown = Desk(app, "alice").get("/api/me").json
    assert shown["state"] == "offline" and "21215" in shown["offline_reason"]
    assert "21215" in Desk(app, "alice").get("/api/me/current").json["offline_reason"]
    admin = {a["username"]: a for a in Desk(app, "ada").get("/api/admin/agents").json["agents"]}
    assert "21215" in admin["alice"]["offline_reason"]
    page = Desk(app, "ada").get("/admin/agents").get_data(as_text=True)
    assert "Twilio refused the call (21215)" in page
    Desk(app, "alice").send("POST", "/api/me/state", {"state": "available"})
    assert _reason(rt, alice) == ""


def test_agent_refused_by_twilio_21217_the_caller_is_rung_through_to_the_next_free_agent(
        rt, twilio, worker, twilio_api, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"], contact=BAD_NUMBER)
    bob = seed_agent(rt, "bob", ["support"])
    twilio_api.refuse(BAD_NUMBER, 21217)
    make_available(rt, alice)  # idle longest: offered first
    frozen_clock.advance(30)
    make_available(rt, bob)
    form = call_form()
    twilio.post("/voice/incoming", form)
    worker()
    assert [c.field("To") for c in twilio_api.calls_created()] == [BAD_NUMBER, "client:bob"]
    assert rt.presence.state(alice) == "offline" and rt.presence.state(bob) == "busy"
    assert _status(rt, form["CallSid"]) == OFFERED
    assert lines.waiting(rt.live, "support") == []
    with rt.db.session() as s:
        offers = s.scalars(select(Assignment).order_by(Assignment.id)).all()
        assert [(o.agent_id, o.outcome, o.ended_at is None) for o in offers] == [
            (alice, "refused", False), (bob, "", True)]


def test_transfer_target_refused_by_twilio_21216_gives_the_caller_back_to_the_agent_handing_over(
        rt, app, twilio, worker, twilio_api):
    people = seed_people(rt)
    form, interaction, first = route_call_to(rt, twilio, worker, people["alice"])
    _give_contact(rt, people["bob"], BAD_NUMBER)
    twilio_api.refuse(BAD_NUMBER, 21216)
    make_available(rt, people["bob"])
    reply = Desk(app, "alice").send("POST", f"/api/interactions/{interaction.id}/transfer",
                                    {"to_agent_id": people["bob"], "mode": "warm",
                                     "reason": "billing"})
    assert reply.status_code == 202
    worker()
    assert twilio_api.requests("call-create")[-1].status == 400
    assert rt.presence.state(people["bob"]) == "offline"
    assert "21216" in _reason(rt, people["bob"])
    assert rt.presence.state(people["alice"]) == "busy"
    with rt.db.session() as s:
        assert s.get(Interaction, interaction.id).status == CONNECTED
        bob_leg = s.scalars(select(Leg).order_by(Leg.id.desc())).first()
        assert (bob_leg.agent_id, bob_leg.status) == (people["bob"], "refused")
    assert lines.waiting(rt.live, "support") == []
    assert first.call_sid and form["CallSid"]


def test_cold_transfer_refused_by_twilio_after_the_agent_left_puts_the_caller_back_at_their_place(
        rt, app, twilio, worker, twilio_api, frozen_clock):
    people = seed_people(rt)
    form, interaction, first = route_call_to(rt, twilio, worker, people["alice"])
    frozen_clock.advance(30)
    later = call_form(from_="+12125550777")
    twilio.post("/voice/incoming", later)
    _give_contact(rt, people["bob"], BAD_NUMBER)
    twilio_api.refuse(BAD_NUMBER, 13224)
    make_available(rt, people["bob"])
    Desk(app, "alice").send("POST", f"/api/interactions/{interaction.id}/transfer",
                            {"to_agent_id": people["bob"], "mode": "cold", "reason": "x"})
    twilio.post(f"/voice/status/agent?leg={first.id}",
                call_form(sid=first.call_sid, CallStatus="completed"))
    worker()
    assert "13224" in _reason(rt, people["bob"])
    assert [e.call_sid for e in lines.waiting(rt.live, "support")] == [
        form["CallSid"], later["CallSid"]]
    redirect = [r for r in twilio_api.requests("call-update") if r.field("Url")][-1]
    assert redirect.path.endswith(f"/Calls/{form['CallSid']}.json")
    assert redirect.field("Url").endswith("/voice/rejoin")


def test_callback_customer_number_refused_by_twilio_21217_is_unreachable_at_once_not_retried(
        rt, twilio, worker, twilio_api, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"])
    twilio_api.refuse("+12125550123", 21217)
    book_callback(twilio)
    worker()
    make_available(rt, alice)
    worker()
    attempt, _whisper, _form = agent_answers(twilio, rt)
    worker()
    callback = only_callback(rt)
    assert callback.status == UNREACHABLE and callback.attempts == 1
    assert attempt_row(rt, attempt.id).outcome == "refused 21217"
    due = [j for j in rt.jobs.scheduled_job_registry.get_job_ids() if j.startswith("cb-due-")]
    assert due == []
    assert lines.load(rt.live, f"cb:{callback.id}") is None
    assert rt.presence.state(alice) == "available"


def test_callback_customer_dial_refused_for_our_caller_id_21210_is_retried_not_given_up(
        rt, twilio, worker, twilio_api, frozen_clock):
    # 21210 and 21212 are about the call's From (www.twilio.com/docs/api/errors/21210):
    # our caller ID, not the customer's number, so their callback is not given up.
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"])
    book_callback(twilio)
    worker()
    make_available(rt, alice)
    worker()
    attempt, _whisper, _form = agent_answers(twilio, rt)
    twilio_api.refuse(Settings().twilio_caller_id, 21210)
    worker()
    callback = only_callback(rt)
    assert attempt_row(rt, attempt.id).outcome == "refused 21210"
    assert callback.status == BOOKED and callback.attempts == 1  # tried again per policy
    due = [j for j in rt.jobs.scheduled_job_registry.get_job_ids() if j.startswith("cb-due-")]
    assert len(due) == 1
    assert rt.presence.state(alice) == "available"


def test_callback_agent_refused_by_twilio_21215_goes_offline_and_the_callback_keeps_its_place(
        rt, twilio, worker, twilio_api):
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"], contact=ABROAD)
    twilio_api.refuse(ABROAD, 21215)
    book_callback(twilio)
    worker()
    make_available(rt, alice)
    worker()
    callback = only_callback(rt)
    assert rt.presence.state(alice) == "offline" and "21215" in _reason(rt, alice)
    assert attempt_row(rt).outcome == "agent refused"
    assert [e.id for e in lines.waiting(rt.live, "support")] == [f"cb:{callback.id}"]
    with rt.db.session() as s:
        assert s.scalars(select(Assignment.outcome)).all() == ["agent refused"]

"""Escalation that waits: with no supervisor free the caller is told and held for the next
one (committed first), the first supervisor to free up is rung into the call, and when none
does in time the caller goes back to the agent, whose console says so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from models.entities import Leg
from models.supervision import EscalationWait
from simulator.resources import ParticipantResource
from tests.callback_steps import run_scheduled
from tests.console_helpers import Desk, route_call_to, seed_people
from tests.helpers import make_available, spoken, twiml

WAIT_NOTICE = ("Our supervisors are all on calls. Please hold for the next free supervisor; "
               "if none is free soon, I will be right back with you.")


def escalated_with_nobody_free(rt: Any, app: Any, twilio: Any, worker: Any,
                               twilio_api: Any) -> tuple[dict, Any, Any, Any]:
    """Alice, on a live call in its conference, escalates while sam (supervisor) is offline."""
    people = seed_people(rt)
    form, interaction, leg = route_call_to(rt, twilio, worker, people["alice"])
    room = twilio_api.store.ensure_conference("AC" + "0" * 32, f"hl-{interaction.id}")
    for sid in (form["CallSid"], leg.call_sid):
        twilio_api.store.put_participant(ParticipantResource(sid, room.sid, room.account_sid,
                                                             {}, "connected"))
    alice = Desk(app, "alice")
    reply = alice.send("POST", f"/api/interactions/{interaction.id}/escalate",
                       {"reason": "asks for a manager"})
    assert reply.status_code == 202, reply.json
    worker()
    return people, interaction, alice, reply.json


def the_wait(rt: Any) -> EscalationWait:
    with rt.db.session() as s:
        row = s.scalar(select(EscalationWait))
        s.expunge(row)
        return row


def test_with_no_supervisor_free_the_caller_is_told_and_held_for_the_next_one(
        rt, app, twilio, worker, twilio_api, frozen_clock):
    people, interaction, alice, answer = escalated_with_nobody_free(rt, app, twilio, worker,
                                                                    twilio_api)
    assert answer["waiting"] is True and answer["transfer_id"] is None
    assert answer["deadline"] == (frozen_clock.now() + timedelta(seconds=120)).isoformat()
    hold = twilio_api.requests("participant-update")[-1]
    assert hold.field("Hold") == "true"
    assert hold.field("HoldUrl").endswith("/voice/transfer/hold?escalation=wait")
    held = twiml(twilio.post("/voice/transfer/hold?escalation=wait",
                             {"CallSid": interaction.call_sid}))
    assert spoken(held) == WAIT_NOTICE
    assert alice.get("/api/me/current").json["escalation"]["status"] == "waiting"
    assert twilio_api.requests("call-create")[-1].field("To") == "client:alice"  # nobody rung

    make_available(rt, people["sam"])  # the first supervisor frees up
    worker()
    ring = twilio_api.requests("call-create")[-1]
    assert ring.field("To") == "client:sam"
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == people["sam"]))
        assert (leg.kind, leg.reason) == ("escalation", "asks for a manager")
    wait = the_wait(rt)
    assert (wait.outcome, wait.open_interaction_id) == ("reached", None)
    assert wait.transfer_id is not None
    assert alice.get("/api/me/current").json["escalation"]["status"] == "reached"


def test_with_no_supervisor_in_time_the_caller_goes_back_to_the_agent(
        rt, app, twilio, worker, twilio_api, frozen_clock):
    people, interaction, alice, _answer = escalated_with_nobody_free(rt, app, twilio, worker,
                                                                     twilio_api)
    frozen_clock.advance(121)
    run_scheduled(rt, worker)
    back = twilio_api.requests("participant-update")[-1]
    assert back.field("Hold") == "false"
    assert back.path.endswith(f"/Participants/{interaction.call_sid}.json")
    assert the_wait(rt).outcome == "timed-out"
    assert alice.get("/api/me/current").json["escalation"]["status"] == "timed-out"
    dialled = len(twilio_api.requests("call-create"))
    make_available(rt, people["sam"])  # too late: nobody waits any more
    worker()
    assert len(twilio_api.requests("call-create")) == dialled


def test_a_call_waits_for_a_supervisor_once(rt, app, twilio, worker, twilio_api):
    _people, interaction, alice, _answer = escalated_with_nobody_free(rt, app, twilio, worker,
                                                                      twilio_api)
    again = alice.send("POST", f"/api/interactions/{interaction.id}/escalate", {"reason": "x"})
    assert again.status_code == 409
    assert again.json["detail"] == "this call already waits for a supervisor"


def test_the_escalation_wait_setting_sets_the_deadline_of_a_call(
        rt, settings, twilio_api, worker, frozen_clock):
    from tests.conftest import SignedTwilioClient, app_for
    rt.settings = rt.settings.with_overrides({"escalation_wait_seconds": 45})
    app = app_for(rt, settings)
    twilio = SignedTwilioClient(app.test_client())
    _people, interaction, _alice, answer = escalated_with_nobody_free(rt, app, twilio, worker,
                                                                      twilio_api)
    assert answer["deadline"] == (frozen_clock.now() + timedelta(seconds=45)).isoformat()
    frozen_clock.advance(46)
    run_scheduled(rt, worker)
    assert the_wait(rt).outcome == "timed-out"


def test_an_escalation_waiting_when_redis_loses_its_data_waits_on_with_its_deadline(
        rt, app, twilio, worker, twilio_api, frozen_clock):
    from callbacks.restore import restore
    from queueing import keys
    people, _interaction, _alice, _answer = escalated_with_nobody_free(rt, app, twilio, worker,
                                                                       twilio_api)
    rt.live.flushall()  # Redis lost everything: the line of waits and the deadline's job
    restore(rt, lost=True)
    assert rt.live.zrange(keys.escalations(), 0, -1) == [str(the_wait(rt).id)]
    assert len(rt.jobs.scheduled_job_registry.get_job_ids()) == 1
    make_available(rt, people["sam"])
    worker()
    assert twilio_api.requests("call-create")[-1].field("To") == "client:sam"
    assert the_wait(rt).outcome == "reached"

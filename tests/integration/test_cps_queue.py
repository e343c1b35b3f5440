"""A call the account created beyond its calls per second waits in Twilio's queue as
`queued`; ended there it is `canceled` and Twilio sends no status callback at all (call
resource docs). An agent whose leg was still queued when the caller hung up is free at
once, not when the sweeper next asks Twilio."""

from __future__ import annotations

from sqlalchemy import select

from models.entities import Leg
from tests.helpers import call_form, make_available, seed_agent, seed_queues


def test_agent_leg_cancelled_while_queued_at_twilio_frees_the_agent_without_a_status_callback(
        rt, twilio, worker, twilio_api):
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"])
    make_available(rt, alice)
    form = call_form()
    twilio.post("/voice/incoming", form)
    worker()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg))
    assert twilio_api.store.get_call(leg.call_sid).status == "queued"
    assert rt.presence.state(alice) == "busy"
    twilio.post("/voice/status", {**form, "CallStatus": "completed"})  # the caller hangs up
    worker()
    assert twilio_api.store.get_call(leg.call_sid).status == "canceled"
    assert rt.presence.state(alice) == "available"
    with rt.db.session() as s:
        assert s.get(Leg, leg.id).ended_at is not None

"""Who answers a phone, through the real stack and the stand-in: an agent's phone answered
by voicemail (a call to a phone number completes when a voicemail picks up)."""

from __future__ import annotations

from simulator import Answer
from tests.helpers import make_available, seed_agent, seed_queues
from tests.system import test_e2e_sim as e2e
from tests.system.test_e2e_sim import CALLER, OUR_NUMBER, agent_endpoint

live = e2e.live  # the running stack and the phone network (a fixture)


def test_agent_voicemail_answering_is_never_bridged_and_the_caller_goes_to_the_next_agent(
        live):
    seed_queues(live.rt, ("support", "Support", None))
    phone = "+12125550999"
    alice = seed_agent(live.rt, "alice", ["support"], phone)
    live.network.register_endpoint(phone, Answer.machine(after=1), handle_time=120)
    make_available(live.rt, alice)
    caller = live.network.place_call(CALLER, OUR_NUMBER, talk_time=20)
    voicemail = live.network.wait_for_call(lambda c: c.to == phone, timeout=20)
    voicemail.wait_ended(timeout=20)
    assert "press 1 to accept" in voicemail.said()
    assert not voicemail.events("dial-conference")  # never bridged to the caller
    bob = seed_agent(live.rt, "bob", ["support"])
    agent_endpoint(live, "bob")
    make_available(live.rt, bob)
    bob_call = live.network.wait_for_call(lambda c: c.to == "client:bob", timeout=20)
    bob_call.wait_until(lambda c: c.joined_conference is not None, timeout=20)
    caller.wait_until(lambda c: c.joined_conference == bob_call.joined_conference, timeout=20)

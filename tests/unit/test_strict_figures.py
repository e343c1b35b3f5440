"""The strict day's count of legs a machine answered that were bridged to someone, read
from the stand-in's transcripts: a voicemail in a conference at the same time as another
leg is bridged; one alone in it, or there before or after the other, is not."""

from __future__ import annotations

import threading

from simulator.call import VirtualCall
from simulator.clock import VirtualClock
from simulator.endpoints import Keypad
from simulator.strict import bridged

COND = threading.Condition(threading.RLock())
CLOCK = VirtualClock()


def _leg(sid: str, spans: list[tuple[str, float, float]], parent: str | None = None,
         answered_as: str = "human") -> VirtualCall:
    call = VirtualCall(sid, "AC1", "+1", "+2", "outbound-api", COND, CLOCK, Keypad(),
                       parent_sid=parent)
    call.answered_as = answered_as
    for name, joined, left in spans:
        call.transcript += [(joined, ("dial-conference", name)),
                            (left, ("leave-conference", name))]
    call.state.ended_at = max((left for _, _, left in spans), default=1.0)
    return call


def test_a_voicemail_in_a_conference_at_the_same_time_as_an_agent_is_bridged():
    machine = _leg("CA1", [("cb-7", 10.0, 20.0)], answered_as="machine")
    agent = _leg("CA2", [("cb-7", 5.0, 15.0)])
    assert bridged(machine, [machine, agent])


def test_a_voicemail_alone_or_before_or_after_the_agent_or_elsewhere_is_not_bridged():
    machine = _leg("CA1", [("cb-7", 10.0, 20.0)], answered_as="machine")
    before = _leg("CA2", [("cb-7", 1.0, 10.0)])
    after = _leg("CA3", [("cb-7", 20.0, 30.0)])
    elsewhere = _leg("CA4", [("cb-8", 10.0, 20.0)])
    assert not bridged(machine, [machine])
    assert not bridged(machine, [machine, before, after, elsewhere])


def test_a_voicemail_dialled_by_a_caller_and_bridged_to_them_is_bridged():
    caller = _leg("CA9", [])
    caller.transcript.append((3.0, ("bridged", "+33612345678")))
    machine = _leg("CA1", [], parent="CA9", answered_as="machine")
    assert bridged(machine, [caller, machine])

"""A pairing the database refuses does not strand the caller: routing runs again and the next
free agent takes the call, in a bounded number of passes."""

from __future__ import annotations

from sqlalchemy import select

from models.entities import Assignment, Interaction
from queueing import lines
from queueing.limits import REROUTES_AFTER_REFUSAL
from tests.callback_steps import call_in
from tests.helpers import make_available, seed_agent, seed_queues


def _stale_assignment(rt, agent_id: int) -> None:
    """An assignment the database still holds open for the agent (Redis says available)."""
    with rt.db.session() as s:
        s.add(Assignment(agent_id=agent_id, entry="i:stale", queue_slug="support",
                         joined_at=0.0, created_at=rt.clock.now(),
                         active_agent_id=agent_id, active_entry="i:stale"))


def _open_assignments(rt, call_sid: str) -> list[int]:
    with rt.db.session() as s:
        return list(s.scalars(select(Assignment.agent_id).join(
            Interaction, Assignment.interaction_id == Interaction.id).where(
            Interaction.call_sid == call_sid, Assignment.ended_at.is_(None))))


def test_caller_refused_with_one_agent_is_offered_to_the_next_free_agent(
        rt, twilio, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"])
    bob = seed_agent(rt, "bob", ["support"])
    make_available(rt, alice)  # alice has been idle longest: routing tries her first
    frozen_clock.advance(30)
    make_available(rt, bob)
    frozen_clock.advance(10)  # the refused alice goes back as idle since now: after bob
    _stale_assignment(rt, alice)
    form = call_in(twilio)
    assert _open_assignments(rt, form["CallSid"]) == [bob]
    assert rt.presence.state(alice) == "available"
    assert rt.presence.state(bob) == "busy"


def test_an_agent_refused_every_time_ends_rerouting_and_the_caller_keeps_their_place(
        rt, twilio, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"])
    make_available(rt, alice)
    _stale_assignment(rt, alice)
    form = call_in(twilio)
    assert REROUTES_AFTER_REFUSAL >= 1
    assert _open_assignments(rt, form["CallSid"]) == []
    assert [e.call_sid for e in lines.waiting(rt.live, "support")] == [form["CallSid"]]
    assert rt.presence.state(alice) == "available"

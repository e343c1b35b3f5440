"""Supervisors on live calls, through the whole stack: the app over HTTP, the worker pump, and
the phone network (the stand-in plays Twilio's conference participants as its documentation
says: a muted participant is heard by nobody, a coach only by the call it coaches).

A supervisor listens, switches to coach, barges, and leaves, and the caller hears them only
when they barge; an escalation with no supervisor free holds the caller until one frees up,
or gives them back to the agent at the deadline."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from models.entities import CONNECTED, Agent, Leg
from models.supervision import EscalationWait, MonitoringSession
from queueing import escalations, monitoring
from simulator import Answer
from tests.helpers import make_available, seed_agent, seed_queues
from tests.system import test_e2e_sim
from tests.system.test_e2e_sim import CALLER, OUR_NUMBER, Live, agent_endpoint, eventually

live = test_e2e_sim.live  # the whole stack's fixture


def on_a_call(live: Live) -> tuple[int, int, Any, Any, Any]:
    """Alice talks with a caller; sam (supervisor) has a phone that answers and stays."""
    seed_queues(live.rt, ("support", "Support", None))
    alice = seed_agent(live.rt, "alice", ["support"])
    sam = seed_agent(live.rt, "sam", [])
    with live.rt.db.session() as s:
        s.get(Agent, sam).role = "supervisor"
    agent_endpoint(live, "alice", handle=None)
    live.network.register_endpoint("client:sam", Answer.human(after=1), handle_time=None)
    make_available(live.rt, alice)
    caller = live.network.place_call(CALLER, OUR_NUMBER)
    agent_call = live.network.wait_for_call(lambda c: c.to == "client:alice")
    caller.wait_until(lambda c: any(e[0] == "conference-connected" for e in c.events()))
    interaction = live.interaction(caller)
    eventually(lambda: live.interaction(caller).status == CONNECTED, timeout=30)
    eventually(lambda: _answered(live, interaction.id), timeout=30)
    return alice, sam, interaction, caller, agent_call


def _answered(live: Live, interaction_id: int) -> bool:
    with live.rt.db.session() as s:
        return s.scalar(select(Leg.id).where(Leg.interaction_id == interaction_id,
                                             Leg.answered_at.is_not(None))) is not None


def hears(live: Live, conference: str, listener: Any, speaker: Any) -> bool:
    """Whether `listener` hears `speaker` in the live conference now."""
    with live.network.cond:
        return live.network.conferences[conference].hears(listener.sid, speaker.sid)


def test_a_supervisor_listens_coaches_barges_and_leaves_and_only_a_barge_reaches_the_caller(
        live):
    _alice, sam, interaction, caller, agent = on_a_call(live)
    room = interaction.conference
    monitoring.monitor(live.rt, sam, interaction.id, "listen")
    boss = live.network.wait_for_call(lambda c: c.to == "client:sam")
    boss.wait_until(lambda c: c.joined_conference == room, timeout=30)
    eventually(lambda: hears(live, room, boss, caller) and hears(live, room, boss, agent), 30)
    assert not hears(live, room, caller, boss) and not hears(live, room, agent, boss)

    monitoring.monitor(live.rt, sam, interaction.id, "coach")
    eventually(lambda: hears(live, room, agent, boss), timeout=30)
    assert not hears(live, room, caller, boss)  # the caller never hears the coach

    monitoring.monitor(live.rt, sam, interaction.id, "barge")
    eventually(lambda: hears(live, room, caller, boss), timeout=30)
    assert hears(live, room, agent, boss)

    monitoring.leave(live.rt, sam)
    boss.wait_ended(timeout=30)
    time.sleep(0.2)
    assert caller.status == "in-progress" and agent.status == "in-progress"  # the call goes on
    with live.rt.db.session() as s:
        rows = s.scalars(select(MonitoringSession).order_by(MonitoringSession.id)).all()
        assert [(r.mode, r.end_reason) for r in rows] == [
            ("listen", "switched to coach"), ("coach", "switched to barge"), ("barge", "left")]
        assert {r.call_sid for r in rows} == {boss.sid}
        assert all(r.supervisor_id == sam and r.interaction_id == interaction.id for r in rows)
    agent.hangup()
    caller.wait_ended(timeout=30)


def test_an_escalation_waits_for_the_supervisor_who_frees_up_and_reaches_them(live,
                                                                              twilio_api):
    alice, sam, interaction, caller, _agent = on_a_call(live)
    answer = escalations.escalate(live.rt, interaction.id, alice, "asks for a manager")
    assert answer["waiting"] is True
    caller.wait_until(lambda c: ("participant-update", "Hold", "true") in c.events(), 30)
    held = [r for r in twilio_api.requests("participant-update") if r.field("Hold") == "true"]
    assert held[-1].field("HoldUrl").endswith("/voice/transfer/hold?escalation=wait")

    make_available(live.rt, sam)  # sam frees up
    boss = live.network.wait_for_call(lambda c: c.to == "client:sam")
    boss.wait_until(lambda c: c.joined_conference == interaction.conference, timeout=30)
    caller.wait_until(lambda c: ("participant-update", "Hold", "false") in c.events(), 30)
    assert "Escalation" in boss.said() or "asks for a manager" in boss.said()
    with live.rt.db.session() as s:
        wait = s.scalar(select(EscalationWait))
        assert (wait.outcome, wait.transfer_id is not None) == ("reached", True)


def test_an_escalation_nobody_takes_in_time_gives_the_caller_back_to_the_agent(live):
    live.rt.settings = live.rt.settings.with_overrides({"escalation_wait_seconds": 2})
    alice, _sam, interaction, caller, _agent = on_a_call(live)
    escalations.escalate(live.rt, interaction.id, alice, "asks for a manager")
    caller.wait_until(lambda c: ("participant-update", "Hold", "true") in c.events(), 30)
    caller.wait_until(lambda c: ("participant-update", "Hold", "false") in c.events(), 30)
    with live.rt.db.session() as s:
        assert s.scalar(select(EscalationWait.outcome)) == "timed-out"
    assert [c for c in live.network.calls.values() if c.to == "client:sam"] == []
    assert caller.status == "in-progress"  # back with Alice

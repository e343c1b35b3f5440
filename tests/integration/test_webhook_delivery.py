"""Twilio delivering webhooks twice, out of order, or late: one interaction, one assignment,
one dial, the right final state.

Each Hypothesis example answers one call end to end on an emptied database and Redis:
the caller's greeting (sometimes twice), the worker dialling the agent, then the agent's
whisper fetch, the agent leg's status callbacks, the caller's status callback and the
caller's conference fetch, each delivered once or twice in a drawn order, with the worker
run at drawn moments. Status callbacks are asynchronous at Twilio, so any order is possible;
the only causal rule kept is that an answered leg's TwiML (the whisper) is fetched before
that leg's `completed` callback is generated.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models.entities import (
    ABANDONED,
    COMPLETED,
    CONNECTED,
    IVR,
    OFFERED,
    WAITING,
    Agent,
    Assignment,
    Interaction,
    Leg,
)
from models.states import FINAL, ORDER, advance
from tests.faults import drain
from tests.helpers import call_form, make_available, reset_stores, seed_agent, seed_queues, twiml

EXAMPLES = 12
SOAK_EXAMPLES = 300
CALLER = "+12125550177"
AGENT_STATUSES = ("initiated", "ringing", "in-progress", "completed")
ASYNC_EVENTS = ("whisper", "caller:completed", "caller:conference",
                *(f"agent:{s}" for s in AGENT_STATUSES))
FIXTURES_OK = settings(max_examples=EXAMPLES, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture,
                                              HealthCheck.too_slow])
SOAK = settings(FIXTURES_OK, max_examples=SOAK_EXAMPLES)


class OneCall:
    """One caller, one agent, and the webhooks Twilio would send for them."""

    def __init__(self, rt, twilio, twilio_api) -> None:
        reset_stores(rt)
        seed_queues(rt, ("support", "Support", None))
        self.agent_id = seed_agent(rt, "alice", ["support"])
        make_available(rt, self.agent_id)
        self.rt, self.twilio, self.api = rt, twilio, twilio_api
        self.worker = lambda: drain(rt)
        self.dials_before = len(twilio_api.calls_created())
        self.updates_before = len(twilio_api.requests("call-update"))
        self.form = call_form(from_=CALLER)
        self.leg: Leg | None = None
        self.whispered_before_hang_up: bool | None = None

    def greet(self, times: int) -> None:
        """The inbound call's webhook, delivered `times` times; then the worker dials."""
        for _ in range(times):
            twiml(self.twilio.post("/voice/incoming", self.form))
        self.worker()
        with self.rt.db.session() as s:
            self.leg = s.scalar(select(Leg))
        assert self.leg is not None and self.leg.call_sid

    def deliver(self, event: str) -> int:
        """POST one webhook (or run the worker); returns the HTTP status."""
        assert self.leg is not None
        agent_form = call_form(sid=self.leg.call_sid, from_="+12125550000",
                               Direction="outbound-api")
        if event == "worker":
            self.worker()
            return 200
        if event == "whisper":
            if self.whispered_before_hang_up is None:
                self.whispered_before_hang_up = True
            return self.twilio.post(f"/voice/agent/whisper?leg={self.leg.id}",
                                    agent_form).status_code
        if event == "caller:completed":
            if self.whispered_before_hang_up is None:
                self.whispered_before_hang_up = False
            return self.twilio.post("/voice/status",
                                    {**self.form, "CallStatus": "completed"}).status_code
        if event == "caller:conference":
            return self.twilio.post("/voice/conference/caller", self.form).status_code
        status = event.removeprefix("agent:")
        return self.twilio.post(f"/voice/status/agent?leg={self.leg.id}",
                                {**agent_form, "CallStatus": status}).status_code

    def end_other_legs(self) -> None:
        """Twilio's final callback for every other agent leg placed (each call ends)."""
        with self.rt.db.session() as s:
            others = s.scalars(select(Leg).where(Leg.id != self.leg.id)).all()
        for leg in others:
            form = call_form(sid=leg.call_sid, from_="+12125550000", CallStatus="no-answer")
            assert self.twilio.post(f"/voice/status/agent?leg={leg.id}", form).status_code == 204
        self.worker()

    def counts(self) -> dict[str, int]:
        """How many interactions, assignments and legs the database holds."""
        with self.rt.db.session() as s:
            return {"interactions": s.scalar(select(func.count(Interaction.id))),
                    "assignments": s.scalar(select(func.count(Assignment.id))),
                    "legs": s.scalar(select(func.count(Leg.id)))}

    def redirects_of_caller(self) -> int:
        """How many times the caller's call was sent new TwiML (the bridge into the room)."""
        return sum(1 for r in self.api.requests("call-update")[self.updates_before:]
                   if r.field("Url") and self.form["CallSid"] in r.path)

    def assert_nothing_left_live(self) -> None:
        """The caller is in no line and no Redis key remembers their call."""
        live = self.rt.live
        assert not [k for k in live.scan_iter("hl:line:*") if live.zcard(k)]
        assert not list(live.scan_iter("hl:entry:*"))
        assert not list(live.scan_iter("hl:call:*"))


def _order(draw: st.DrawFn, causal: bool) -> list[str]:
    events = [e for e in ASYNC_EVENTS for _ in range(draw(st.integers(1, 2)))]
    events += ["worker"] * draw(st.integers(0, 3))
    order = draw(st.permutations(events))
    if causal:  # an answered leg's whisper is fetched before its `completed` is generated
        first_whisper = order.index("whisper")
        done = [i for i, e in enumerate(order) if e == "agent:completed"]
        if done[0] < first_whisper:
            order[done[0]], order[first_whisper] = order[first_whisper], order[done[0]]
    return [*order, "worker"]


@st.composite
def causal_orders(draw: st.DrawFn) -> list[str]:
    """Every callback once or twice, in any order Twilio can produce."""
    return _order(draw, causal=True)


@st.composite
def any_orders(draw: st.DrawFn) -> list[str]:
    """Every callback once or twice, in any order at all (some impossible at Twilio)."""
    return _order(draw, causal=False)


@FIXTURES_OK
@given(greetings=st.integers(1, 3), order=causal_orders())
def test_duplicated_and_reordered_webhooks_give_one_interaction_one_assignment_one_dial(
        rt, twilio, twilio_api, greetings, order):
    _one_of_each(rt, twilio, twilio_api, greetings, order)


@pytest.mark.soak
@SOAK
@given(greetings=st.integers(1, 3), order=causal_orders())
def test_soak_reordered_webhooks_many_more_orders(rt, twilio, twilio_api, greetings, order):
    _one_of_each(rt, twilio, twilio_api, greetings, order)


def _one_of_each(rt, twilio, twilio_api, greetings: int, order: list[str]) -> None:
    call = OneCall(rt, twilio, twilio_api)
    call.greet(greetings)
    note(f"greetings={greetings} order={order}")
    for event in order:
        assert call.deliver(event) in (200, 204), event
    assert call.counts() == {"interactions": 1, "assignments": 1, "legs": 1}
    assert len(twilio_api.calls_created()) - call.dials_before == 1
    answered = call.whispered_before_hang_up
    with rt.db.session() as s:
        interaction, assignment = s.scalar(select(Interaction)), s.scalar(select(Assignment))
        leg, agent = s.scalar(select(Leg)), s.get(Agent, call.agent_id)
        assert interaction.status == (COMPLETED if answered else ABANDONED)
        assert assignment.outcome == ("answered" if answered else "missed")
        assert assignment.ended_at is not None and assignment.active_agent_id is None
        assert leg.ended_at is not None and leg.status == ("completed" if answered else "missed")
        expected_agent = "wrap-up" if answered else "available"
        assert agent.state == expected_agent == rt.presence.state(call.agent_id)
        assert agent.missed_offers == 0  # a caller who hung up is not the agent's miss
    assert call.redirects_of_caller() == (1 if answered else 0)
    call.assert_nothing_left_live()


@FIXTURES_OK
@given(order=any_orders(), late_greeting=st.booleans())
def test_webhooks_in_any_order_never_5xx_and_leave_no_one_in_line_or_busy(
        rt, twilio, twilio_api, order, late_greeting):
    _any_order(rt, twilio, twilio_api, order, late_greeting)


@pytest.mark.soak
@SOAK
@given(order=any_orders(), late_greeting=st.booleans())
def test_soak_webhooks_in_many_more_orders(rt, twilio, twilio_api, order, late_greeting):
    _any_order(rt, twilio, twilio_api, order, late_greeting)


def _any_order(rt, twilio, twilio_api, order: list[str], late_greeting: bool) -> None:
    call = OneCall(rt, twilio, twilio_api)
    call.greet(1)
    note(f"order={order} late_greeting={late_greeting}")
    for event in order:
        assert call.deliver(event) in (200, 204), event
    call.end_other_legs()
    if late_greeting:  # Twilio retrying the first webhook after the call is over
        root = twiml(twilio.post("/voice/incoming", call.form))
        assert root.find("Enqueue") is None and root.find("Hangup") is not None
        call.worker()
    counts = call.counts()
    assert counts["interactions"] == 1
    assert counts["legs"] == len(twilio_api.calls_created()) - call.dials_before
    with rt.db.session() as s:
        assert s.scalar(select(Interaction)).status in (COMPLETED, ABANDONED)
        assert s.scalar(select(func.count(Assignment.id))
                        .where(Assignment.active_agent_id.is_not(None))) == 0
        legs_per_assignment = s.execute(select(Leg.assignment_id, func.count(Leg.id))
                                        .group_by(Leg.assignment_id)).all()
        assert all(n == 1 for _a, n in legs_per_assignment)
        assert s.get(Agent, call.agent_id).state == rt.presence.state(call.agent_id)
    assert rt.presence.state(call.agent_id) != "busy"
    assert call.redirects_of_caller() <= 1
    call.assert_nothing_left_live()


@pytest.mark.parametrize("status", ["completed", "busy", "no-answer", "canceled", "failed"])
def test_menu_action_arriving_after_the_call_ended_joins_no_line(rt, twilio, status):
    seed_queues(rt, ("sales", "Sales", "1"), ("support", "Support", "2"))
    form = call_form(from_=CALLER)
    twiml(twilio.post("/voice/incoming", form))
    assert twilio.post("/voice/status", {**form, "CallStatus": status}).status_code == 204
    late = twiml(twilio.post("/voice/menu?attempt=1", {**form, "Digits": "2"}))
    last_try = twiml(twilio.post("/voice/menu?attempt=3", form))
    again = twiml(twilio.post("/voice/incoming", form))
    for root in (late, last_try, again):
        assert root.find("Enqueue") is None and root.find("Hangup") is not None
    with rt.db.session() as s:
        assert [i.status for i in s.scalars(select(Interaction))] == [ABANDONED]
    assert not [k for k in rt.live.scan_iter("hl:line:*") if rt.live.zcard(k)]
    assert not list(rt.live.scan_iter("hl:entry:*"))


def test_rejoin_after_the_call_ended_puts_no_one_back_in_line(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    form = call_form(from_=CALLER)
    twiml(twilio.post("/voice/incoming", form))
    twilio.post("/voice/status", {**form, "CallStatus": "completed"})
    root = twiml(twilio.post("/voice/rejoin", form))
    assert root.find("Enqueue") is None
    assert not list(rt.live.scan_iter("hl:entry:*"))


def test_whisper_fetched_twice_pulls_the_caller_into_the_room_once(rt, twilio, twilio_api):
    call = OneCall(rt, twilio, twilio_api)
    call.greet(1)
    first, second = call.deliver("whisper"), call.deliver("whisper")
    call.worker()
    assert (first, second) == (200, 200)
    assert call.redirects_of_caller() == 1


def test_caller_conference_fetch_while_offered_does_not_put_them_back_in_line(
        rt, twilio, twilio_api):
    call = OneCall(rt, twilio, twilio_api)
    call.greet(1)
    root = twiml(twilio.post("/voice/conference/caller", call.form))
    assert root.find("Enqueue") is not None
    assert not [k for k in rt.live.scan_iter("hl:line:*") if rt.live.zcard(k)]


@given(st.lists(st.sampled_from(sorted(ORDER)), max_size=30))
def test_interaction_status_only_moves_forward_but_back_to_the_line_whatever_order(statuses):
    # The only way back is to the line: put back after a missed offer (OFFERED → WAITING)
    # or transferred back to a queue by an agent (CONNECTED → WAITING).
    interaction = Interaction(status=IVR)
    for status in statuses:
        before = interaction.status
        moved = advance(interaction, status)
        after = interaction.status
        assert moved == (after != before)
        if before in FINAL:
            assert after == before
        elif moved:
            assert ORDER[after] > ORDER[before] or (
                before in (OFFERED, CONNECTED) and after == WAITING)

"""Whole calls through the real stack: the app on a real port, a real RQ worker, the phone
network placing signed calls and the REST stand-in answering the app's Twilio calls.

The app runs on the real clock; the network runs `SPEED` times faster, so a caller's
minute on hold or an agent's handle time takes a fraction of a real second.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import time as clock_time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from entrypoints import runtime
from entrypoints.runtime import Runtime
from holdless import clock
from holdless.settings import Settings
from models import Base
from models.callbacks import COMPLETED as CALLBACK_COMPLETED
from models.callbacks import Callback
from models.console import WARM
from models.entities import (
    ABANDONED,
    COMPLETED,
    CONNECTED,
    IVR,
    Interaction,
    Leg,
    OpeningHours,
    Queue,
)
from models.survey import SurveyAnswer
from queueing import directory, lines
from queueing.presence import AVAILABLE, WRAP_UP
from queueing.transfers import CANCEL, COMPLETE, THREE_WAY, TransferRequest, end_warm, transfer
from simulator import Answer, PhoneNetwork, TwilioRestStandIn, VirtualCall, answer_when, phrases
from simulator.stack import JobPump, LiveServer
from tests.conftest import AUTH_TOKEN
from tests.daytime import daytime_clock, daytime_clock_spec
from tests.helpers import make_available, seed_agent, seed_queues

SPEED = 20.0
WRAP_UP_SECONDS = 1
HANDLE_SECONDS = 20.0  # virtual: one real second at SPEED
CALLER = "+12125550123"
OTHER_CALLER = "+12125550177"
OUR_NUMBER = "+12125550000"


@dataclass
class Live:
    """The running stack and the phone network attached to it."""

    rt: Runtime
    network: PhoneNetwork
    base_url: str

    def interaction(self, call: VirtualCall) -> Interaction:
        """The interaction recorded for a virtual call (detached snapshot)."""
        with self.rt.db.session() as s:
            row = s.scalar(select(Interaction).where(Interaction.call_sid == call.sid))
            assert row is not None, "no interaction recorded for the call"
            s.expunge(row)
            return row


def _empty(rt: Runtime) -> None:
    rt.live.flushdb()
    with rt.db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def live(settings: Settings, twilio_api: TwilioRestStandIn) -> Iterator[Live]:
    """The app served over HTTP at its own public URL, a job pump, and the phone network."""
    from entrypoints.web import create_app
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    previous_clock, previous_rt = clock.use(daytime_clock()), runtime.use(None)
    server = LiveServer()
    config = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)
              if f.name != "extra"}
    config.update(public_base_url=server.base_url, wrap_up_seconds=WRAP_UP_SECONDS,
                  clock=daytime_clock_spec())
    app = create_app(config)
    rt: Runtime = app.extensions["holdless"]
    _empty(rt)
    server.start(app)
    pump = JobPump(rt).start()
    network = PhoneNetwork(server.base_url, AUTH_TOKEN, twilio_api, speed=SPEED,
                           play_seconds=20, hold_music_seconds=20)
    try:
        yield Live(rt, network, server.base_url)
        assert_nothing_went_wrong(rt, network)
    finally:
        network.close()
        pump.stop()
        server.stop()
        rt.close()
        clock.use(previous_clock)
        runtime.use(previous_rt)


def assert_nothing_went_wrong(rt: Runtime, network: PhoneNetwork) -> None:
    """No call hit an app error (HTTP 4xx/5xx, bad TwiML) and no job failed."""
    errors = [(c.sid, e.detail) for c in network.calls.values() for e in c.errors]
    assert errors == []
    assert FailedJobRegistry(queue=rt.jobs).get_job_ids() == []


def eventually(check: Callable[[], bool], timeout: float = 4.0) -> None:
    """Wait (real seconds) until `check()` holds; fail the test otherwise."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.02)


def agent_endpoint(live: Live, username: str, handle: float | None = HANDLE_SECONDS) -> None:
    """A virtual agent at client:<username>: answers after a second, stays `handle` seconds."""
    live.network.register_endpoint(f"client:{username}", Answer.human(after=1),
                                   handle_time=handle)


def test_caller_is_answered_by_longest_idle_agent_then_agent_wraps_up_and_frees_up(live):
    seed_queues(live.rt, ("support", "Support", None))
    alice, bob = seed_agent(live.rt, "alice", ["support"]), seed_agent(live.rt, "bob", ["support"])
    agent_endpoint(live, "alice")
    agent_endpoint(live, "bob")
    make_available(live.rt, alice)
    time.sleep(0.01)
    make_available(live.rt, bob)

    caller = live.network.place_call(CALLER, OUR_NUMBER)
    agent_call = live.network.wait_for_call(lambda c: c.to == "client:alice")
    caller.wait_until(lambda c: any(e[0] == "conference-connected" for e in c.events()))
    conference = live.interaction(caller).conference
    assert conference and caller.joined_conference == conference
    assert agent_call.joined_conference == conference
    assert "A caller, Support." in agent_call.said()
    assert live.network.calls_to("client:bob") == []

    agent_call.wait_ended(timeout=4)
    eventually(lambda: live.rt.presence.state(alice) == WRAP_UP, timeout=1)
    caller.wait_ended(timeout=3)
    eventually(lambda: live.rt.presence.state(alice) == AVAILABLE, timeout=4)
    row = live.interaction(caller)
    assert row.status == COMPLETED and row.agent_id == alice
    assert row.wait_seconds is not None and row.wait_seconds < 5
    assert live.rt.presence.state(bob) == AVAILABLE


def test_caller_out_of_patience_abandons_and_the_line_is_empty(live):
    seed_queues(live.rt, ("support", "Support", None))
    # patience past the first offer (spoken inside its Gather before Enqueue, with 3 s to
    # answer): 30 virtual seconds (1.5 real) ran out before the caller reached the line
    # whenever the machine was loaded
    caller = live.network.place_call(CALLER, OUR_NUMBER, patience=120)
    caller.wait_until(lambda c: ("enqueue", "support") in c.events())
    assert lines.length(live.rt.live, "support") == 1
    caller.wait_ended(timeout=10)
    eventually(lambda: live.interaction(caller).status == ABANDONED)
    assert live.interaction(caller).outcome == "abandoned"
    assert lines.length(live.rt.live, "support") == 0
    assert live.rt.live.get(f"hl:call:{caller.sid}") is None


def test_after_hours_caller_hears_the_next_opening_and_the_call_ends(live):
    seed_queues(live.rt, ("support", "Support", None))
    tz = ZoneInfo("America/New_York")
    tomorrow = (clock.now().astimezone(tz) + timedelta(days=1)).weekday()
    with live.rt.db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.slug == "support"))
        s.add(OpeningHours(queue_id=queue.id, weekday=tomorrow, opens=clock_time(9),
                           closes=clock_time(17)))
    caller = live.network.place_call(CALLER, OUR_NUMBER)
    caller.wait_ended(timeout=4)
    said = caller.said()
    assert "We are closed right now. We open again tomorrow at 9 AM." in said
    assert said.endswith("Thank you for calling. Goodbye.")
    assert ("hangup", "hangup-verb") in caller.events() or caller.status == "completed"
    eventually(lambda: live.interaction(caller).status != IVR)
    assert live.interaction(caller).outcome == "closed"
    assert lines.length(live.rt.live, "support") == 0


def test_two_callers_one_agent_are_answered_first_come_first_served(live):
    seed_queues(live.rt, ("support", "Support", None))
    alice = seed_agent(live.rt, "alice", ["support"])
    agent_endpoint(live, "alice", handle=10)
    first = live.network.place_call(CALLER, OUR_NUMBER)
    first.wait_until(lambda c: ("enqueue", "support") in c.events())
    second = live.network.place_call(OTHER_CALLER, OUR_NUMBER)
    second.wait_until(lambda c: ("enqueue", "support") in c.events())
    assert "You are second in line." in second.said()
    make_available(live.rt, alice)

    first.wait_ended(timeout=4)
    second.wait_ended(timeout=4)
    a, b = live.interaction(first), live.interaction(second)
    assert a.status == b.status == COMPLETED and a.agent_id == b.agent_id == alice
    assert a.answered_at is not None and b.answered_at is not None
    assert a.answered_at < b.answered_at
    with live.rt.db.session() as s:
        legs = s.scalars(select(Leg).order_by(Leg.id)).all()
        assert [leg.interaction_id for leg in legs] == [a.id, b.id]
    agent_calls = live.network.calls_to("client:alice")
    assert [c.events("dial-conference") for c in agent_calls] == [
        [("dial-conference", a.conference)], [("dial-conference", b.conference)]]


def test_caller_hanging_up_before_being_bridged_does_not_leave_the_agent_alone_in_the_room(
    live, twilio_api
):
    seed_queues(live.rt, ("support", "Support", None))
    alice = seed_agent(live.rt, "alice", ["support"])
    agent_endpoint(live, "alice", handle=None)  # stays until the call is ended for them
    make_available(live.rt, alice)
    bridge = twilio_api.on_call_update
    callers: list[VirtualCall] = []

    def hang_up_instead_of_bridging(resource, form):  # the caller gives up at that moment
        if callers and resource.sid == callers[0].sid and form.get("Url"):
            callers[0].hangup()
            return
        bridge(resource, form)

    twilio_api.on_call_update = hang_up_instead_of_bridging
    callers.append(live.network.place_call(CALLER, OUR_NUMBER))
    agent_call = live.network.wait_for_call(lambda c: c.to == "client:alice")
    callers[0].wait_ended(timeout=3)
    agent_call.wait_ended(timeout=3)
    assert ("conference-connected", live.interaction(callers[0]).conference) not in \
        agent_call.events()
    eventually(lambda: live.rt.presence.state(alice) == AVAILABLE, timeout=4)
    assert live.interaction(callers[0]).status == COMPLETED


def _callbacks_offered_at_once(live_) -> None:
    with live_.rt.db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.slug == "support"))
        queue.callback_threshold_seconds = 0


def _callback(live_) -> Callback:
    with live_.rt.db.session() as s:
        found = s.scalars(select(Callback)).all()
        assert len(found) == 1
        s.expunge(found[0])
        return found[0]


def test_caller_books_a_callback_on_hold_and_is_called_back_into_the_agents_conference(live):
    seed_queues(live.rt, ("support", "Support", None))
    _callbacks_offered_at_once(live)
    alice = seed_agent(live.rt, "alice", ["support"])
    agent_endpoint(live, "alice")
    live.network.register_endpoint(CALLER, Answer.human(after=1), handle_time=20)
    keys = answer_when({"Press 1 to be called back": "1", "Press 1 to confirm": "1"})

    caller = live.network.place_call(CALLER, OUR_NUMBER, keypresses=keys)
    caller.wait_ended(timeout=4)
    assert "You're booked. We will call you back" in caller.said()
    booked = _callback(live)
    assert lines.length(live.rt.live, "support") == 1  # the callback keeps the place
    assert live.network.calls_to("client:alice") == []

    make_available(live.rt, alice)
    agent_call = live.network.wait_for_call(lambda c: c.to == "client:alice")
    back = live.network.wait_for_call(lambda c: c.to == CALLER and c.sid != caller.sid)
    back.wait_until(lambda c: c.joined_conference is not None)
    agent_call.wait_until(lambda c: c.joined_conference is not None)
    assert back.joined_conference == agent_call.joined_conference
    assert "Callback to a customer, Support" in agent_call.said()
    assert "Dialling the customer now." in agent_call.said()
    back.wait_ended(timeout=4)
    agent_call.wait_ended(timeout=4)
    eventually(lambda: _callback(live).status == CALLBACK_COMPLETED)
    assert _callback(live).id == booked.id
    assert lines.length(live.rt.live, "support") == 0
    eventually(lambda: live.rt.presence.state(alice) == AVAILABLE)


def test_warm_transfer_brings_agent_b_into_the_same_conference_and_a_can_drop(live):
    seed_queues(live.rt, ("support", "Support", None))
    alice, bob = seed_agent(live.rt, "alice", ["support"]), seed_agent(live.rt, "bob", ["support"])
    agent_endpoint(live, "alice", handle=None)
    live.network.register_endpoint("client:bob", Answer.human(after=1), handle_time=20)
    make_available(live.rt, alice)

    caller = live.network.place_call(CALLER, OUR_NUMBER)
    a_call = live.network.wait_for_call(lambda c: c.to == "client:alice")
    caller.wait_until(lambda c: any(e[0] == "conference-connected" for e in c.events()))
    interaction = live.interaction(caller)
    eventually(lambda: live.interaction(caller).status == CONNECTED)
    eventually(lambda: _answered_legs(live, interaction.id) == 1)
    make_available(live.rt, bob)
    transfer(live.rt, TransferRequest(interaction.id, alice, WARM, "billing question",
                                      to_agent_id=bob))

    b_call = live.network.wait_for_call(lambda c: c.to == "client:bob")
    b_call.wait_until(lambda c: c.joined_conference is not None)
    assert b_call.joined_conference == caller.joined_conference == interaction.conference
    assert "Transfer from Alice." in b_call.said()
    a_call.hangup()
    a_call.wait_ended(timeout=3)
    time.sleep(0.2)  # four virtual seconds after Alice left
    assert caller.status == "in-progress" and b_call.status == "in-progress"  # with Bob
    b_call.wait_ended(timeout=4)
    caller.wait_ended(timeout=4)
    with live.rt.db.session() as s:
        legs = s.scalars(select(Leg).where(Leg.interaction_id == interaction.id)
                         .order_by(Leg.id)).all()
        assert [leg.agent_id for leg in legs] == [alice, bob]
        assert all(leg.answered_at is not None and leg.ended_at is not None for leg in legs)
    assert ("participant-update", "Hold", "false") in caller.events()  # off hold for Bob
    eventually(lambda: live.interaction(caller).status == COMPLETED)
    eventually(lambda: live.rt.presence.state(alice) == live.rt.presence.state(bob) == AVAILABLE)


def _consulting(live_):
    """Alice warm-transfers her caller to Bob, who answers: the caller is held while Alice
    and Bob talk. Returns (caller, Alice's call, Bob's call, interaction, Alice's id)."""
    seed_queues(live_.rt, ("support", "Support", None))
    alice = seed_agent(live_.rt, "alice", ["support"])
    bob = seed_agent(live_.rt, "bob", ["support"])
    agent_endpoint(live_, "alice", handle=None)
    live_.network.register_endpoint("client:bob", Answer.human(after=1), handle_time=None)
    make_available(live_.rt, alice)
    caller = live_.network.place_call(CALLER, OUR_NUMBER)
    a_call = live_.network.wait_for_call(lambda c: c.to == "client:alice")
    caller.wait_until(lambda c: any(e[0] == "conference-connected" for e in c.events()))
    interaction = live_.interaction(caller)
    eventually(lambda: _answered_legs(live_, interaction.id) == 1)
    make_available(live_.rt, bob)
    transfer(live_.rt, TransferRequest(interaction.id, alice, WARM, "billing", to_agent_id=bob))
    b_call = live_.network.wait_for_call(lambda c: c.to == "client:bob")
    b_call.wait_until(lambda c: c.joined_conference is not None)
    eventually(lambda: _answered_legs(live_, interaction.id) == 2)
    assert _holds(caller) == ["true"]  # held while Alice and Bob talk
    return caller, a_call, b_call, interaction, alice


def _holds(call: VirtualCall) -> list[str]:
    return [e[2] for e in call.events("participant-update") if e[1] == "Hold"]


def test_warm_transfer_cancel_drops_bob_and_gives_the_caller_back_to_alice(live):
    caller, a_call, b_call, interaction, alice = _consulting(live)
    end_warm(live.rt, interaction.id, alice, CANCEL)
    b_call.wait_ended(timeout=5)
    caller.wait_until(lambda c: _holds(c) == ["true", "false"])
    assert caller.status == a_call.status == "in-progress"
    assert a_call.joined_conference == caller.joined_conference


def test_warm_transfer_complete_drops_alice_and_gives_the_caller_to_bob(live):
    caller, a_call, b_call, interaction, alice = _consulting(live)
    end_warm(live.rt, interaction.id, alice, COMPLETE)
    a_call.wait_ended(timeout=5)
    caller.wait_until(lambda c: _holds(c) == ["true", "false"])
    assert caller.status == b_call.status == "in-progress"
    eventually(lambda: live.rt.presence.state(alice) == WRAP_UP)


def test_warm_transfer_three_way_lets_all_three_talk_and_alice_leave(live):
    caller, a_call, b_call, interaction, alice = _consulting(live)
    end_warm(live.rt, interaction.id, alice, THREE_WAY)
    caller.wait_until(lambda c: _holds(c) == ["true", "false"])
    assert caller.status == a_call.status == b_call.status == "in-progress"
    a_call.hangup()
    a_call.wait_ended(timeout=3)
    time.sleep(0.2)
    assert caller.status == b_call.status == "in-progress" and _holds(caller) == ["true", "false"]


def _answered_legs(live_, interaction_id: int) -> int:
    with live_.rt.db.session() as s:
        return len(s.scalars(select(Leg).where(Leg.interaction_id == interaction_id,
                                               Leg.answered_at.is_not(None))).all())


# What each language's caller hears, checked along the journey (Estonian has no Twilio
# voice: its line plays recorded prompts, and nothing is said at all).
JOURNEY_WORDS = {
    "en-US": ("For Support, press 1.", "You're booked.", "calling you back about your call"),
    "de-DE": ("Für Support drücken Sie die 1.", "Ihr Rückruf ist gebucht.",
              "Wir rufen Sie wie gewünscht"),
    "da-DK": ("For Support, tryk 1.", "Så er det bestilt.", "Vi ringer dig op som aftalt"),
    "et-EE": (),
}


@pytest.mark.parametrize("tag", sorted(JOURNEY_WORDS))
def test_menu_wait_callback_call_back_and_survey_pass_in_each_language(live, tag):
    seed_queues(live.rt, ("support", "Support", "1"), ("sales", "Sales", "2"))
    with live.rt.db.session() as s:
        for queue in s.scalars(select(Queue)):
            queue.language, queue.callback_threshold_seconds = tag, 0
            queue.survey_enabled = queue.slug == "support"
            queue.dial_mode = "customer-first"  # called back into the line: then surveyed
    directory.changed(live.rt.live)
    alice = seed_agent(live.rt, "alice", ["support"])
    agent_endpoint(live, "alice")
    keys = phrases.callback_taker(tag, digit="1")
    live.network.register_endpoint(CALLER, Answer.human(after=1), keypresses=keys)

    caller = live.network.place_call(CALLER, OUR_NUMBER, keypresses=keys)
    caller.wait_ended(timeout=30)  # a recorded line plays a clip a sentence: longer
    booked = _callback(live)
    assert booked.language == tag
    make_available(live.rt, alice)
    back = live.network.wait_for_call(lambda c: c.to == CALLER and c.sid != caller.sid)
    back.wait_ended(timeout=30)
    eventually(lambda: _callback(live).status == CALLBACK_COMPLETED)
    with live.rt.db.session() as s:
        answers = {a.question: a.answer for a in s.scalars(
            select(SurveyAnswer).join(Interaction).where(Interaction.call_sid == back.sid))}
    assert answers == {"solved": 1, "rating": 5}
    said = f"{caller.said()} {back.said()}"
    for words in JOURNEY_WORDS[tag]:
        assert words in said
    if not JOURNEY_WORDS[tag]:
        played = [e[1] for call in (caller, back) for e in call.events("play")]
        assert said.strip() == "" and any(f"/voice/prompts/{tag}/" in p for p in played)

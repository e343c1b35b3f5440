"""Conversation recording through the whole stack and the Twilio stand-in: what the caller
is told or asked, when Twilio is asked to record (only once the caller is bridged with an
agent, never without consent where the queue asks for it), pause and resume reaching
Twilio, and the completed recording's media kept for the interaction."""

from __future__ import annotations

import time

from sqlalchemy import select

from admin import config
from admin.audit import Actor
from callbacks import recording
from ivr import recording_notice
from models.console import COLD
from models.entities import CONNECTED, Agent, Queue
from models.privacy import (
    COMPLETED,
    HELD,
    IN_PROGRESS,
    PAUSED,
    POLICY_NOT,
    POLICY_RECORD,
    RECORDING_ANNOUNCE,
    RECORDING_CONSENT,
    ConversationRecording,
)
from queueing.transfers import TransferRequest, transfer
from simulator import answer_when
from tests.helpers import make_available, seed_agent, seed_queues
from tests.system.test_e2e_sim import (
    CALLER,
    OTHER_CALLER,
    OUR_NUMBER,
    Live,
    _answered_legs,
    agent_endpoint,
    eventually,
)
from tests.system.test_e2e_sim import live as _live_stack

live = _live_stack  # the simulated stack's fixture, under its own name

WAIT = 30.0  # a ceiling, not a timing


def _queue_recording(live: Live, mode: str) -> int:
    seed_queues(live.rt, ("support", "Support", None))
    with live.rt.db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.slug == "support"))
        queue.recording_mode = mode
    agent = seed_agent(live.rt, "alice", ["support"])
    return agent


def _recordings(live: Live) -> list[ConversationRecording]:
    with live.rt.db.session() as s:
        rows = list(s.scalars(select(ConversationRecording).order_by(ConversationRecording.id)))
        s.expunge_all()
        return rows


def test_announce_mode_says_the_notice_before_twilio_is_asked_to_record_both_channels(
        live, twilio_api):
    alice = _queue_recording(live, RECORDING_ANNOUNCE)
    agent_endpoint(live, "alice", handle=20)
    make_available(live.rt, alice)
    caller = live.network.place_call(CALLER, OUR_NUMBER)
    started = twilio_api.wait_for(lambda r: r.kind == "call-recording-create", timeout=WAIT)
    assert started.path.split("/Calls/")[1].startswith(caller.sid)
    assert started.field("RecordingChannels") == "dual"
    heard = [when for when, event in caller.transcript if event == ("say", event[1])
             and recording_notice.NOTICE in event[1]]
    bridged = [when for when, event in caller.transcript if event[0] == "conference-connected"]
    assert heard and bridged and heard[0] < bridged[0]  # told long before the bridge
    assert live.interaction(caller).recording_policy == POLICY_RECORD
    caller.wait_ended(timeout=WAIT)
    eventually(lambda: [r.status for r in _recordings(live)] == [COMPLETED], timeout=WAIT)
    row = _recordings(live)[0]
    assert row.sid and row.media_url and row.media_url.endswith(row.sid)
    assert row.sid in twilio_api.store.recordings  # the media is at Twilio, not here
    assert twilio_api.requests("call-recording-update") == []  # a hang-up pauses nothing


def test_caller_who_declines_is_never_recorded(live, twilio_api):
    alice = _queue_recording(live, RECORDING_CONSENT)
    agent_endpoint(live, "alice", handle=20)
    make_available(live.rt, alice)
    caller = live.network.place_call(CALLER, OUR_NUMBER, keypresses=answer_when(
        {"record your conversation": recording_notice.DECLINE_DIGIT}))
    caller.wait_until(lambda c: any(e[0] == "conference-connected" for e in c.events()),
                      timeout=WAIT)
    caller.wait_ended(timeout=WAIT)
    assert recording_notice.DECLINED in caller.said()
    assert live.interaction(caller).recording_policy == POLICY_NOT
    time.sleep(0.5)  # a join report would have been answered by now
    assert twilio_api.requests("call-recording-create") == []
    assert _recordings(live) == []


def test_caller_who_agrees_is_recorded_and_the_agent_pauses_and_resumes_at_twilio(
        live, twilio_api):
    alice = _queue_recording(live, RECORDING_CONSENT)
    agent_endpoint(live, "alice", handle=200)  # ten real seconds to pause and resume in
    make_available(live.rt, alice)
    caller = live.network.place_call(CALLER, OUR_NUMBER, keypresses=answer_when(
        {"record your conversation": recording_notice.AGREE_DIGIT}))
    twilio_api.wait_for(lambda r: r.kind == "call-recording-create", timeout=WAIT)
    assert recording_notice.AGREED in caller.said()
    interaction_id = live.interaction(caller).id
    eventually(lambda: bool(_recordings(live)[0].sid), timeout=WAIT)

    recording.change(live.rt, interaction_id, "pause")
    paused = twilio_api.wait_for(lambda r: r.kind == "call-recording-update", timeout=WAIT)
    recording.change(live.rt, interaction_id, "resume")
    resumed = twilio_api.wait_for(lambda r: r.kind == "call-recording-update"
                                  and r.field("Status") == "in-progress", timeout=WAIT)
    sid = _recordings(live)[0].sid
    assert (paused.field("Status"), paused.field("PauseBehavior")) == ("paused", "skip")
    assert paused.path.endswith(f"/Recordings/{sid}.json") and resumed.status == 200
    assert twilio_api.call_recordings.by_sid[sid].history == ["in-progress", "paused",
                                                              "in-progress"]


def test_a_queue_that_records_nothing_tells_nothing_until_an_admin_turns_recording_on(
        live, twilio_api):
    alice = _queue_recording(live, "off")
    agent_endpoint(live, "alice", handle=10)
    make_available(live.rt, alice)
    first = live.network.place_call(CALLER, OUR_NUMBER)
    first.wait_until(lambda c: any(e[0] == "conference-connected" for e in c.events()),
                     timeout=WAIT)
    first.wait_ended(timeout=WAIT)
    assert recording_notice.NOTICE not in first.said()
    assert live.interaction(first).recording_policy is None

    with live.rt.db.session() as s:  # as the admin page and API change it
        config.update_queue(s, Actor.operator("test"), "support",
                            {"recording_mode": RECORDING_ANNOUNCE})
    eventually(lambda: live.rt.presence.state(alice) == "available", timeout=WAIT)
    second = live.network.place_call(OTHER_CALLER, OUR_NUMBER)
    twilio_api.wait_for(lambda r: r.kind == "call-recording-create", timeout=WAIT)
    assert recording_notice.NOTICE in second.said()
    created = twilio_api.requests("call-recording-create")
    assert len(created) == 1 and second.sid in created[0].path


def _recorded_caller_with_alice(live: Live, twilio_api) -> tuple[object, int, int, str]:
    """A recorded caller talking with Alice (Bob signed in, not yet available): the
    caller's call, the interaction, Bob's id and the recording's sid."""
    alice = _queue_recording(live, RECORDING_ANNOUNCE)
    bob = seed_agent(live.rt, "bob", ["support"])
    agent_endpoint(live, "alice", handle=400)  # on the call until the transfer drops her
    agent_endpoint(live, "bob", handle=400)
    make_available(live.rt, alice)
    caller = live.network.place_call(CALLER, OUR_NUMBER)
    twilio_api.wait_for(lambda r: r.kind == "call-recording-create", timeout=WAIT)
    interaction_id = live.interaction(caller).id
    eventually(lambda: bool(_recordings(live)[0].sid)
               and live.interaction(caller).status == CONNECTED, timeout=WAIT)
    eventually(lambda: _answered_legs(live, interaction_id) == 1, timeout=WAIT)
    return caller, interaction_id, bob, _recordings(live)[0].sid


def _to_support_line(live: Live, interaction_id: int) -> None:
    with live.rt.db.session() as s:
        agent_id = s.scalar(select(Agent.id).where(Agent.username == "alice"))
    transfer(live.rt, TransferRequest(interaction_id, agent_id, COLD, "billing question",
                                      to_queue="support"))


def _bridges(caller) -> int:
    return sum(1 for e in caller.events() if e[0] == "conference-connected")


def test_recording_pauses_at_twilio_while_a_transferred_caller_holds_and_resumes_with_the_next_agent(  # noqa: E501
        live, twilio_api):
    caller, interaction_id, bob, sid = _recorded_caller_with_alice(live, twilio_api)
    at_twilio = twilio_api.call_recordings.by_sid[sid]

    _to_support_line(live, interaction_id)
    paused = twilio_api.wait_for(lambda r: r.kind == "call-recording-update", timeout=WAIT)
    assert paused.field("Status") == "paused" and paused.path.endswith(f"/Recordings/{sid}.json")
    assert caller.joined_conference is None and caller.status == "in-progress"  # holding
    assert at_twilio.status == "paused" and _recordings(live)[0].status == HELD

    make_available(live.rt, bob)
    twilio_api.wait_for(lambda r: r.kind == "call-recording-update"
                        and r.field("Status") == "in-progress", timeout=WAIT)
    assert caller.joined_conference is not None and _bridges(caller) == 2  # with Bob
    assert at_twilio.history == ["in-progress", "paused", "in-progress"]
    assert [r.status for r in _recordings(live)] == [IN_PROGRESS]
    assert len(twilio_api.requests("call-recording-create")) == 1  # still one recording


def test_an_agents_own_pause_is_not_undone_when_the_caller_rejoins_another_agent(
        live, twilio_api):
    caller, interaction_id, bob, sid = _recorded_caller_with_alice(live, twilio_api)
    recording.change(live.rt, interaction_id, "pause")
    twilio_api.wait_for(lambda r: r.kind == "call-recording-update", timeout=WAIT)

    _to_support_line(live, interaction_id)
    make_available(live.rt, bob)
    caller.wait_until(lambda c: _bridges(c) == 2 and c.joined_conference is not None,
                      timeout=WAIT)
    time.sleep(0.5)  # the leave and join reports would have been answered by now
    assert [r.field("Status") for r in twilio_api.requests("call-recording-update")] == [
        "paused"]
    assert twilio_api.call_recordings.by_sid[sid].history == ["in-progress", "paused"]
    assert [r.status for r in _recordings(live)] == [PAUSED]

"""Supervisors listen, coach and barge on a live call through Twilio's participant API (the
stand-in checks each request against Twilio's OpenAPI description), switch between modes and
leave; every period is audited; the agent sees who is on their call as the policy says."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from callbacks import sweeper
from models.supervision import MonitoringSession
from queueing import monitoring
from queueing.limits import SWEEP_MIN_AGE_SECONDS, SWEEP_RECHECK_SECONDS
from simulator.resources import ParticipantResource
from tests.conftest import PUBLIC_BASE
from tests.console_helpers import Desk, route_call_to, seed_people
from tests.helpers import call_form


def on_a_live_call(rt: Any, twilio: Any, worker: Any, twilio_api: Any) -> tuple[dict, Any, Any]:
    """Alice talks to a caller in the call's conference, at Twilio (the stand-in)."""
    people = seed_people(rt)
    form, interaction, leg = route_call_to(rt, twilio, worker, people["alice"])
    room = twilio_api.store.ensure_conference("AC" + "0" * 32, f"hl-{interaction.id}")
    for sid in (form["CallSid"], leg.call_sid):
        twilio_api.store.put_participant(ParticipantResource(sid, room.sid, room.account_sid,
                                                             {}, "connected"))
    return people, interaction, leg


def periods(rt: Any) -> list[tuple[Any, ...]]:
    """Every monitoring period: (supervisor, interaction, mode, open?, end reason)."""
    with rt.db.session() as s:
        return [(r.supervisor_id, r.interaction_id, r.mode, r.ended_at is None, r.end_reason)
                for r in s.scalars(select(MonitoringSession).order_by(MonitoringSession.id))]


def test_listen_coach_barge_and_leave_reach_twilio_with_the_right_parameters_and_are_audited(
        rt, app, twilio, worker, twilio_api):
    people, interaction, leg = on_a_live_call(rt, twilio, worker, twilio_api)
    sam, base = Desk(app, "sam"), f"/api/board/calls/{interaction.id}/monitor"

    assert sam.send("POST", base, {"mode": "listen"}).status_code == 202
    worker()
    [join] = twilio_api.requests("participant-create")
    room = twilio_api.store.find_conference(f"hl-{interaction.id}")
    assert join.path.endswith(f"/Conferences/{room.sid}/Participants.json")
    assert (join.field("To"), join.field("Muted"), join.field("Coaching")) == (
        "client:sam", "true", "false")
    assert join.field("Beep") == "false" and join.field("EndConferenceOnExit") == "false"
    assert join.field("CallSidToCoach") is None
    assert join.field("StatusCallback").startswith(f"{PUBLIC_BASE}/voice/status/supervisor")

    assert sam.send("POST", base, {"mode": "coach"}).status_code == 202
    worker()
    coach = twilio_api.requests("participant-update")[-1]
    assert (coach.field("Muted"), coach.field("Coaching"), coach.field("CallSidToCoach")) == (
        "false", "true", leg.call_sid)
    supervisor_sid = coach.path.rsplit("/", 1)[1].removesuffix(".json")
    assert twilio_api.store.get_participant(room.sid, supervisor_sid).to_json()[
        "call_sid_to_coach"] == leg.call_sid

    assert sam.send("POST", base, {"mode": "barge"}).status_code == 202
    worker()
    barge = twilio_api.requests("participant-update")[-1]
    assert (barge.field("Muted"), barge.field("Coaching")) == ("false", "false")
    assert twilio_api.store.get_participant(room.sid, supervisor_sid).to_json()["coaching"] is False

    assert sam.send("POST", "/api/board/leave").json["session_id"] is not None
    worker()
    [removed] = twilio_api.requests("participant-delete")
    assert removed.path.endswith(f"/Participants/{supervisor_sid}.json")
    sam_id, call = people["sam"], interaction.id
    assert periods(rt) == [(sam_id, call, "listen", False, "switched to coach"),
                           (sam_id, call, "coach", False, "switched to barge"),
                           (sam_id, call, "barge", False, "left")]
    with rt.db.session() as s:
        rows = list(s.scalars(select(MonitoringSession)))
        assert {r.call_sid for r in rows} == {supervisor_sid}
        assert all(r.ended_at >= r.started_at for r in rows)


def test_the_supervisors_phone_hanging_up_ends_the_period(rt, app, twilio, worker, twilio_api):
    _people, interaction, _leg = on_a_live_call(rt, twilio, worker, twilio_api)
    sam = Desk(app, "sam")
    sam.send("POST", f"/api/board/calls/{interaction.id}/monitor", {"mode": "listen"})
    worker()
    sid = twilio_api.requests("participant-create")[0]
    with rt.db.session() as s:
        call_sid = s.scalar(select(MonitoringSession.call_sid))
    reply = twilio.post("/voice/status/supervisor?session=1",
                        call_form(sid=call_sid, CallStatus="completed"))
    assert reply.status_code == 204 and sid is not None
    assert [p[3:] for p in periods(rt)] == [(False, "phone hung up")]
    assert sam.get("/api/board").json["me"] is None


def test_switching_while_the_supervisors_phone_rings_joins_in_the_new_mode(
        rt, app, twilio, worker, twilio_api):
    _people, interaction, leg = on_a_live_call(rt, twilio, worker, twilio_api)
    sam, base = Desk(app, "sam"), f"/api/board/calls/{interaction.id}/monitor"
    sam.send("POST", base, {"mode": "listen"})
    sam.send("POST", base, {"mode": "coach"})  # before the worker rang the phone
    worker()
    [join] = twilio_api.requests("participant-create")
    assert (join.field("Muted"), join.field("Coaching"), join.field("CallSidToCoach")) == (
        "false", "true", leg.call_sid)
    assert [p[2:4] for p in periods(rt)] == [("coach", True)]


def test_agents_cannot_monitor_and_a_call_not_connected_or_a_bad_mode_is_refused(
        rt, app, twilio, worker, twilio_api):
    _people, interaction, _leg = on_a_live_call(rt, twilio, worker, twilio_api)
    base = f"/api/board/calls/{interaction.id}/monitor"
    assert Desk(app, "bob").send("POST", base, {"mode": "listen"}).status_code == 403
    sam = Desk(app, "sam")
    bad = sam.send("POST", base, {"mode": "whisper"})
    assert bad.status_code == 400 and bad.json["field"] == "mode"
    gone = sam.send("POST", "/api/board/calls/999/monitor", {"mode": "listen"})
    assert gone.status_code == 409
    assert gone.json["detail"] == "that call is not connected to an agent"
    assert periods(rt) == [] and twilio_api.requests("participant-create") == []


def test_coaching_without_a_call_to_coach_is_refused_by_the_stand_in_as_twilio_documents(
        rt, twilio_api):
    from twilio.base.exceptions import TwilioRestException
    room = twilio_api.store.ensure_conference("AC" + "0" * 32, "hl-1")
    with pytest.raises(TwilioRestException) as refused:
        rt.gateway.client.conferences(room.sid).participants.create(
            from_="+15005550006", to="client:sam", coaching=True)
    assert refused.value.status == 400 and "CallSidToCoach" in refused.value.msg
    with pytest.raises(TwilioRestException):
        rt.gateway.client.conferences(room.sid).participants.create(
            from_="+15005550006", to="client:sam", coaching=True, call_sid_to_coach="CA" + "1" * 32)


@pytest.mark.parametrize(("policy", "shown"), [
    ("all", [["Sam Agent", "listen"]]), ("heard", []), ("none", [])])
def test_the_agent_sees_who_listens_as_the_policy_says(rt, settings, twilio_api, worker,
                                                       policy, shown):
    from tests.conftest import SignedTwilioClient, app_for
    rt.settings = rt.settings.with_overrides({"agent_sees_monitoring": policy})
    app = app_for(rt, settings)
    twilio = SignedTwilioClient(app.test_client())
    _people, interaction, _leg = on_a_live_call(rt, twilio, worker, twilio_api)
    Desk(app, "sam").send("POST", f"/api/board/calls/{interaction.id}/monitor",
                          {"mode": "listen"})
    worker()
    seen = Desk(app, "alice").get("/api/me/current").json["supervisors"]
    assert [[s["name"], s["mode"]] for s in seen] == shown


def test_a_coaching_supervisor_is_shown_to_the_agent_under_the_heard_policy(
        rt, settings, twilio_api, worker):
    from tests.conftest import SignedTwilioClient, app_for
    rt.settings = rt.settings.with_overrides({"agent_sees_monitoring": "heard"})
    app = app_for(rt, settings)
    twilio = SignedTwilioClient(app.test_client())
    _people, interaction, _leg = on_a_live_call(rt, twilio, worker, twilio_api)
    Desk(app, "sam").send("POST", f"/api/board/calls/{interaction.id}/monitor",
                          {"mode": "coach"})
    worker()
    assert Desk(app, "alice").get("/api/me/current").json["supervisors"] == [
        {"name": "Sam Agent", "mode": "coach"}]
    assert monitoring.supervisors_on(rt, interaction.id) == [{"name": "Sam Agent",
                                                               "mode": "coach"}]


def test_a_supervisors_period_whose_hang_up_report_was_lost_is_ended_by_the_sweeper_as_twilio_dates_it(  # noqa: E501
        rt, app, twilio, worker, twilio_api, frozen_clock):
    _people, interaction, _leg = on_a_live_call(rt, twilio, worker, twilio_api)
    sam = Desk(app, "sam")
    sam.send("POST", f"/api/board/calls/{interaction.id}/monitor", {"mode": "listen"})
    worker()
    with rt.db.session() as s:
        row = s.scalar(select(MonitoringSession))
        call_sid, started = row.call_sid, row.started_at
    frozen_clock.advance(SWEEP_MIN_AGE_SECONDS + 1)
    sweeper.sweep(rt)  # the supervisor's phone is still on the call: the period stays open
    assert [p[3:] for p in periods(rt)] == [(True, "")]
    # Twilio ends the phone leg 200 s in, and its status callback never comes.
    hung_up = started.replace(microsecond=0) + timedelta(seconds=200)
    twilio_api.store.update_call(call_sid, status="completed")
    twilio_api.store.get_call(call_sid).updated = hung_up  # the call's end_time at Twilio
    frozen_clock.advance(SWEEP_RECHECK_SECONDS + 1)
    assert sam.get("/api/board").json["me"] is not None
    sweeper.sweep(rt)
    assert [p[3:] for p in periods(rt)] == [(False, "phone hung up")]
    with rt.db.session() as s:
        assert s.scalar(select(MonitoringSession.ended_at)) == hung_up
    assert sam.get("/api/board").json["me"] is None

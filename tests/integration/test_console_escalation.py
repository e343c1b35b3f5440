"""Escalation: the caller held for a supervisor hears a short notice first, never silence."""

from __future__ import annotations

from simulator.resources import ParticipantResource
from tests.console_helpers import Desk, route_call_to, seed_people
from tests.helpers import make_available, spoken, twiml, verbs


def test_escalated_caller_hears_a_supervisor_notice_before_hold_music(
        rt, app, twilio, worker, twilio_api):
    people = seed_people(rt)
    form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    make_available(rt, people["sam"])
    room = twilio_api.store.ensure_conference("AC" + "0" * 32, f"hl-{interaction.id}")
    twilio_api.store.put_participant(ParticipantResource(form["CallSid"], room.sid,
                                                         room.account_sid))
    reply = Desk(app, "alice").send("POST", f"/api/interactions/{interaction.id}/escalate",
                                    {"reason": "asks for a manager"})
    assert reply.status_code == 202
    worker()
    hold = twilio_api.requests("participant-update")[-1]
    assert hold.field("Hold") == "true"
    assert hold.field("HoldUrl").endswith("/voice/transfer/hold?escalation=1")
    held = twiml(twilio.post("/voice/transfer/hold?escalation=1", form))
    assert verbs(held) == ["Say", "Play"]
    assert spoken(held) == "Please hold for a moment while I bring in my supervisor."
    plain = twiml(twilio.post("/voice/transfer/hold", form))
    assert verbs(plain) == ["Say", "Play"] and spoken(plain) == "Please hold while I transfer you."

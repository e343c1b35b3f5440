"""The console's context is right from the first second: the name on record for the
number, the wait the caller has had while the agent's phone rings, previous contacts with
their date, agent, disposition and notes, and the transfer chain in plain words."""

from __future__ import annotations

from sqlalchemy import select

from models.entities import Caller, Leg
from tests.console_helpers import Desk, route_call_to, seed_people
from tests.helpers import call_form, make_available


def test_a_name_given_to_the_number_after_the_call_came_in_shows_at_once(
        rt, app, twilio, worker, frozen_clock):
    people = seed_people(rt)
    make_available(rt, people["alice"])
    twilio.post("/voice/incoming", call_form(from_="+12125550123"))
    worker()  # alice's phone rings
    with rt.db.session() as s:
        s.add(Caller(number="+12125550123", name="Grace Hopper", account_ref="ACC-42"))
    frozen_clock.advance(12)
    current = Desk(app, "alice").get("/api/me/current").json
    assert current["interaction"]["phase"] == "ringing"
    assert current["interaction"]["caller"]["name"] == "Grace Hopper"
    assert current["interaction"]["waited_seconds"] == 12.0  # not 0 s while it rings


def test_previous_contacts_carry_date_agent_disposition_and_notes(rt, app, twilio, worker):
    people = seed_people(rt)
    _form, first, leg = route_call_to(rt, twilio, worker, people["alice"])
    alice = Desk(app, "alice")
    twilio.post(f"/voice/status/agent?leg={leg.id}",
                {**call_form(sid=leg.call_sid), "CallStatus": "completed"})
    alice.send("POST", f"/api/interactions/{first.id}/wrap-up",
               {"disposition": "follow-up", "note": "Send the refund form"})
    _form, second, _leg = route_call_to(rt, twilio, worker, people["alice"])
    body = alice.get(f"/api/interactions/{second.id}").json
    before = body["history"][0]
    assert before["id"] == first.id and before["created_at"]
    assert before["dispositions"] == ["follow-up"]
    assert before["notes"] == [{"author": "Alice Agent", "text": "Send the refund form"}]
    with rt.db.session() as s:
        kinds = [leg.kind for leg in s.scalars(select(Leg).where(
            Leg.interaction_id == second.id))]
    assert kinds == ["answer"]
    assert [step["step"] for step in body["legs"]] == ["answered"]

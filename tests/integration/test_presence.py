"""Presence that matches reality: not-ready reasons (the admins' list) counted by reason,
sign-out and a console gone past its grace period take the agent offline, a missed offer
says why, and a wrap-up that times out is still recorded."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import select

from callbacks import jobs
from models.console import WrapUp
from models.entities import Leg
from models.presence import PresenceSpell
from queueing import dispatch, lines, not_ready, pages
from tests.console_helpers import Desk, route_call_to, seed_people
from tests.helpers import call_form, make_available


def test_not_ready_for_a_reason_takes_no_calls_and_is_counted_by_reason(
        rt, app, twilio, worker, frozen_clock):
    people = seed_people(rt)
    alice = Desk(app, "alice")
    start = rt.clock.now()
    reply = alice.send("POST", "/api/me/state", {"state": "not-ready", "reason": "Break"})
    assert reply.json == {"state": "not-ready"}
    twilio.post("/voice/incoming", call_form())
    assert lines.length(rt.live, "support") == 1  # nobody took the caller
    frozen_clock.advance(300)
    alice.send("POST", "/api/me/state", {"state": "not-ready", "reason": "Lunch"})
    frozen_clock.advance(120)
    current = alice.get("/api/me/current").json
    assert (current["state"], current["not_ready_reason"]) == ("not-ready", "Lunch")
    assert current["not_ready_reasons"] == ["Break", "Lunch", "Training", "Meeting"]
    alice.send("POST", "/api/me/state", {"state": "available"})
    assert rt.presence.state(people["alice"]) == "busy"  # now the caller is hers
    with rt.db.session() as s:
        totals = not_ready.seconds_by_reason(s, start, rt.clock.now() + timedelta(hours=1))
        mine = not_ready.seconds_by_reason(s, start, rt.clock.now(), [people["bob"]])
    assert totals == {"Break": 300.0, "Lunch": 120.0}
    assert mine == {}


def test_a_reason_not_on_the_admins_list_is_refused_and_changes_nothing(rt, app):
    people = seed_people(rt)
    alice = Desk(app, "alice")
    alice.send("POST", "/api/me/state", {"state": "available"})
    reply = alice.send("POST", "/api/me/state", {"state": "not-ready", "reason": "Nap"})
    assert reply.status_code == 400
    assert reply.json["detail"] == "reason: choose one of Break, Lunch, Training, Meeting"
    assert rt.presence.state(people["alice"]) == "available"


def test_admins_list_of_reasons_is_the_one_agents_choose_from_and_retired_ones_still_count(
        rt, app, frozen_clock):
    people = seed_people(rt)
    start = rt.clock.now()
    not_ready.go_not_ready(rt, people["alice"], "Training")
    frozen_clock.advance(60)
    with rt.db.session() as s:
        not_ready.save_reasons(s, ["Coaching", "Break"])
    with rt.db.session() as s:
        assert not_ready.reasons(s) == ["Coaching", "Break"]
        assert not_ready.seconds_by_reason(s, start, rt.clock.now()) == {"Training": 60.0}
    reply = Desk(app, "alice").send("POST", "/api/me/state",
                                    {"state": "not-ready", "reason": "Training"})
    assert reply.status_code == 400


def test_signing_out_takes_the_agent_offline(rt, app):
    people = seed_people(rt)
    alice = Desk(app, "alice")
    alice.send("POST", "/api/me/state", {"state": "available"})
    alice.client.post("/sign-out", data={"csrf_token": alice.token})
    assert rt.presence.state(people["alice"]) == "offline"
    with rt.db.session() as s:
        spells = s.scalars(select(PresenceSpell).where(
            PresenceSpell.agent_id == people["alice"]).order_by(PresenceSpell.id)).all()
    assert [(p.state, p.ended_at is None) for p in spells] == [("available", False),
                                                             ("offline", True)]


def test_page_grace_setting_takes_offline_an_agent_whose_console_is_gone_that_long(rt, app):
    people = seed_people(rt)
    rt.settings = rt.settings.with_overrides({"page_grace_seconds": 3})
    alice = Desk(app, "alice")
    alice.send("POST", "/api/me/state", {"state": "available"})
    make_available(rt, people["bob"])  # no console open: not watched
    stream = alice.client.get("/api/me/events", buffered=False)
    next(iter(stream.response))
    assert pages.take_gone_offline(rt) == []  # the page is open
    stream.close()
    deadline = time.monotonic() + 30
    while not pages.take_gone_offline(rt):
        assert time.monotonic() < deadline, "the gone console was never noticed"
        time.sleep(0.5)
    assert rt.presence.state(people["alice"]) == "offline"
    assert rt.presence.state(people["bob"]) == "available"
    reason = alice.get("/api/me/current").json["offline_reason"]
    assert reason.startswith("your console was closed for more than 3 s")


def test_a_rejected_offer_puts_the_caller_back_and_tells_the_agent_why(
        rt, app, twilio, worker):
    people = seed_people(rt)
    make_available(rt, people["alice"])
    form = call_form()
    twilio.post("/voice/incoming", form)
    worker()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == people["alice"]))
    listener = rt.live.pubsub()
    listener.subscribe(f"hl:push:agent:{people['alice']}")
    listener.get_message(timeout=1)
    twilio.post(f"/voice/status/agent?leg={leg.id}",
                {**call_form(sid=leg.call_sid), "CallStatus": "busy"})
    assert [w.call_sid for w in lines.waiting(rt.live, "support")] in ([form["CallSid"]], [])
    said = [listener.get_message(timeout=1) for _ in range(6)]
    missed = [m["data"] for m in said if m and "missed-offer" in str(m["data"])]
    assert missed and '"why":"you rejected it"' in missed[0]
    listener.close()


def test_a_console_whose_stream_missed_the_update_still_learns_on_resync_why_its_offer_ended(
        rt, app, twilio, worker):
    """The console switches live streams as an offer ends (the interaction leaves the
    screen); a missed-offer update published in that gap reaches no stream, so the
    resync every stream's opening makes must carry it."""
    people = seed_people(rt)
    make_available(rt, people["alice"])
    alice = Desk(app, "alice")
    assert alice.get("/api/me/current").json["missed_offer"] is None
    twilio.post("/voice/incoming", call_form())
    worker()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == people["alice"]))
    listener = rt.live.pubsub()
    listener.subscribe(f"hl:push:agent:{people['alice']}")
    listener.get_message(timeout=1)
    twilio.post(f"/voice/status/agent?leg={leg.id}",
                {**call_form(sid=leg.call_sid), "CallStatus": "busy"})
    said = [listener.get_message(timeout=1) for _ in range(6)]
    listener.close()
    pushed = next(json.loads(m["data"])["data"] for m in said
                  if m and "missed-offer" in str(m["data"]))
    synced = alice.get("/api/me/current").json["missed_offer"]
    assert synced == pushed  # the same id: a page that got both says it once
    assert (synced["why"], synced["offline"], synced["misses"]) == ("you rejected it", False, 1)


def test_too_many_missed_offers_say_why_the_agent_was_taken_offline(rt, app, twilio, worker):
    people = seed_people(rt)
    rt.settings = rt.settings.with_overrides({"max_missed_offers": 1})
    make_available(rt, people["alice"])
    twilio.post("/voice/incoming", call_form())
    worker()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == people["alice"]))
    twilio.post(f"/voice/status/agent?leg={leg.id}",
                {**call_form(sid=leg.call_sid), "CallStatus": "no-answer"})
    assert rt.presence.state(people["alice"]) == "offline"
    reason = Desk(app, "alice").get("/api/me/current").json["offline_reason"]
    assert reason == "1 offers in a row missed (the last: it rang out unanswered)"


def test_a_wrap_up_that_times_out_is_still_recorded_with_the_draft_note(
        rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, leg = route_call_to(rt, twilio, worker, people["alice"])
    alice = Desk(app, "alice")
    alice.send("PUT", f"/api/interactions/{interaction.id}/notes/draft", {"text": "half-typed"})
    twilio.post(f"/voice/status/agent?leg={leg.id}",
                {**call_form(sid=leg.call_sid), "CallStatus": "completed"})
    assert rt.presence.state(people["alice"]) == "wrap-up"
    since = rt.live.hget(f"hl:agent:{people['alice']}", "since")
    assert jobs.end_wrap_up(rt, people["alice"], str(since)) == "available"
    with rt.db.session() as s:
        wrap = s.scalar(select(WrapUp).where(WrapUp.interaction_id == interaction.id))
        assert (wrap.agent_id, wrap.disposition) == (people["alice"], "timed-out")
    notes = alice.get(f"/api/interactions/{interaction.id}").json["notes"]
    assert [(n["text"], n["draft"]) for n in notes] == [("half-typed", False)]
    dispatch.set_state(rt, people["alice"], "offline")


def test_a_next_call_answered_the_moment_a_wrap_up_ends_is_not_taken_for_the_one_wrapped_up(
        rt, app, twilio, worker, monkeypatch, frozen_clock):
    people = seed_people(rt)
    _form, first, leg = route_call_to(rt, twilio, worker, people["alice"])
    twilio.post(f"/voice/status/agent?leg={leg.id}",
                {**call_form(sid=leg.call_sid), "CallStatus": "completed"})
    second_form = call_form(from_="+12125550177")
    twilio.post("/voice/incoming", second_form)  # waits while alice wraps up
    free_now = dispatch.system_change

    def free_and_answer_at_once(*args, **kwargs):
        """Routing hands alice the waiting caller and she answers before the job goes on."""
        free_now(*args, **kwargs)
        frozen_clock.advance(5)
        worker()
        with rt.db.session() as s:
            nxt = s.scalar(select(Leg).where(Leg.agent_id == people["alice"], Leg.id != leg.id))
        twilio.post(f"/voice/agent/whisper?leg={nxt.id}", call_form(sid=nxt.call_sid,
                                                                    from_="+12125550000"))

    monkeypatch.setattr(jobs.dispatch, "system_change", free_and_answer_at_once)
    since = rt.live.hget(f"hl:agent:{people['alice']}", "since")
    assert jobs.end_wrap_up(rt, people["alice"], str(since)) == "available"
    with rt.db.session() as s:
        wrapped = {(w.interaction_id, w.disposition) for w in s.scalars(select(WrapUp))}
    assert wrapped == {(first.id, "timed-out")}  # not the call she is now on
    current = Desk(app, "alice").get("/api/me/current").json
    assert current["interaction"]["phase"] == "connected"
    assert current["interaction"]["id"] != first.id

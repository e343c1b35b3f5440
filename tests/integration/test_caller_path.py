"""The caller's path through the webhooks: greeting, menu, line, hold loop, agent, wrap-up."""

from __future__ import annotations

from sqlalchemy import select

from models.entities import ABANDONED, CONNECTED, Assignment, Caller, Interaction, Leg
from queueing import keys, lines, stats
from tests.helpers import (
    call_form,
    call_sid,
    make_available,
    seed_agent,
    seed_queues,
    spoken,
    twiml,
    verbs,
)


def test_single_queue_caller_hears_place_and_wait_then_enqueues(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    root = twiml(twilio.post("/voice/incoming", call_form()))
    assert verbs(root) == ["Gather", "Enqueue"]  # no agent: the callback offer is spoken,
    assert "You are next in line." in spoken(root)  # inside the Gather that takes its key
    enqueue = root.find("Enqueue")
    assert enqueue.text == "support"
    assert enqueue.get("waitUrl") == "https://holdless.test/voice/hold"
    assert enqueue.get("action") == "https://holdless.test/voice/queue-exit"


def test_known_caller_is_greeted_by_name(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        s.add(Caller(number="+12125550123", name="Grace Hopper"))
    root = twiml(twilio.post("/voice/incoming", call_form()))
    assert spoken(root).startswith("Hello Grace Hopper")


def test_third_caller_hears_third_in_line(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    stats.record_handle_time(rt.live, "support", 240.0)  # a call handled: an estimate
    for n in range(2):
        twilio.post("/voice/incoming", call_form(from_=f"+1212555020{n}"))
    root = twiml(twilio.post("/voice/incoming", call_form(from_="+12125550209")))
    assert "You are third in line." in spoken(root)
    assert "Your expected wait is " in spoken(root) and " minutes." in spoken(root)


def test_same_call_sid_twice_records_one_interaction_and_one_place(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    form = call_form()
    twiml(twilio.post("/voice/incoming", form))
    second = twiml(twilio.post("/voice/incoming", form))
    assert "Enqueue" in verbs(second)
    with rt.db.session() as s:
        assert len(s.scalars(select(Interaction)).all()) == 1
    assert lines.length(rt.live, "support") == 1


def test_menu_offers_each_queue_and_routes_by_digit(rt, twilio):
    seed_queues(rt, ("sales", "Sales", "1"), ("support", "Support", "2"))
    form = call_form()
    root = twiml(twilio.post("/voice/incoming", form))
    assert verbs(root) == ["Gather", "Redirect"]
    assert "For Sales, press 1. For Support, press 2." in spoken(root)
    chosen = twiml(twilio.post("/voice/menu?attempt=1", {**form, "Digits": "2"}))
    assert chosen.find("Enqueue").text == "support"


def test_wrong_menu_key_gets_a_spoken_retry_and_changes_nothing(rt, twilio):
    seed_queues(rt, ("sales", "Sales", "1"), ("support", "Support", "2"))
    form = call_form()
    twilio.post("/voice/incoming", form)
    root = twiml(twilio.post("/voice/menu?attempt=1", {**form, "Digits": "9"}))
    assert "Sorry, that is not an option." in spoken(root)
    assert root.find("Gather").get("action").endswith("/voice/menu?attempt=2")
    silent = twiml(twilio.post("/voice/menu?attempt=1", {**form, "Digits": "<Say>x</Say>"}))
    assert "Sorry, I didn't catch that." in spoken(silent)
    assert lines.length(rt.live, "sales") + lines.length(rt.live, "support") == 0


def test_after_three_missed_menu_tries_the_caller_joins_the_first_queue(rt, twilio):
    seed_queues(rt, ("sales", "Sales", "1"), ("support", "Support", "2"))
    form = call_form()
    twilio.post("/voice/incoming", form)
    root = twiml(twilio.post("/voice/menu?attempt=3", form))
    assert root.find("Enqueue").text == "sales"


def test_hold_loop_reannounces_place_inside_an_interruptible_gather(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    first, second = call_form(), call_form(from_="+12125550999")
    twilio.post("/voice/incoming", first)
    twilio.post("/voice/incoming", second)
    root = twiml(twilio.post("/voice/hold", {**second, "QueueTime": "30", "QueuePosition": "2"}))
    assert verbs(root) == ["Gather"]  # keys count only inside a Gather: the music is in it
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1" and int(gather.get("timeout")) >= 3
    assert "You are second in line." in " ".join(s.text for s in gather.iter("Say"))
    assert gather.find("Play").text == rt.settings.hold_music_url


def test_free_agent_is_offered_the_caller_and_rung_by_the_worker(rt, twilio, worker, twilio_api):
    seed_queues(rt, ("support", "Support", None))
    agent_id = seed_agent(rt, "alice", ["support"])
    make_available(rt, agent_id)
    form = call_form()
    twilio.post("/voice/incoming", form)
    with rt.db.session() as s:
        assignment = s.scalar(select(Assignment))
        assert assignment.agent_id == agent_id and assignment.active_agent_id == agent_id
    assert rt.presence.state(agent_id) == "busy"
    worker()
    created = twilio_api.calls_created()
    assert len(created) == 1
    assert created[0].field("To") == "client:alice"
    assert "/voice/agent/whisper?leg=" in created[0].field("Url")


def _answered_call(rt, twilio, worker, twilio_api):
    seed_queues(rt, ("support", "Support", None))
    agent_id = seed_agent(rt, "alice", ["support"])
    make_available(rt, agent_id)
    form = call_form()
    twilio.post("/voice/incoming", form)
    worker()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg))
    agent_form = call_form(sid=leg.call_sid, from_="+12125550000")
    return form, agent_id, leg, agent_form


def test_agent_answer_whispers_context_bridges_and_redirects_caller(rt, twilio, worker, twilio_api):
    form, _agent, leg, agent_form = _answered_call(rt, twilio, worker, twilio_api)
    root = twiml(twilio.post(f"/voice/agent/whisper?leg={leg.id}", agent_form))
    assert verbs(root) == ["Say", "Dial"]
    assert "Support" in spoken(root)
    conference = root.find("Dial/Conference").text
    worker()
    update = twilio_api.requests("call-update")[-1]
    assert update.path.endswith(f"/Calls/{form['CallSid']}.json")
    caller_url = update.field("Url").removeprefix("https://holdless.test")
    caller_side = twiml(twilio.post(caller_url, form))
    assert caller_side.find("Dial/Conference").text == conference
    with rt.db.session() as s:
        assert s.scalar(select(Interaction)).status == CONNECTED


def test_agent_leg_end_starts_wrap_up_then_available_after_wrap_up_seconds(
        rt, twilio, worker, twilio_api, frozen_clock):
    form, agent_id, leg, agent_form = _answered_call(rt, twilio, worker, twilio_api)
    twilio.post(f"/voice/agent/whisper?leg={leg.id}", agent_form)
    frozen_clock.advance(120)
    resp = twilio.post(f"/voice/status/agent?leg={leg.id}",
                       {**agent_form, "CallStatus": "completed"})
    assert resp.status_code == 204
    assert rt.presence.state(agent_id) == "wrap-up"
    since = rt.live.hget(keys.agent(agent_id), "since")
    from callbacks import jobs
    assert jobs.end_wrap_up(rt, agent_id, since) == "available"
    assert rt.presence.state(agent_id) == "available"
    assert rt.live.lrange(keys.handle_times("support"), 0, -1) == ["120.0"]


def test_caller_hanging_up_while_waiting_leaves_line_and_counts_abandoned(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    form = call_form()
    twilio.post("/voice/incoming", form)
    resp = twilio.post("/voice/status", {**form, "CallStatus": "completed"})
    assert resp.status_code == 204
    assert lines.length(rt.live, "support") == 0
    with rt.db.session() as s:
        assert s.scalar(select(Interaction)).status == ABANDONED
    assert rt.live.lrange(keys.outcomes("support"), 0, -1) == ["a:0.0"]


def test_missed_offer_puts_caller_back_at_the_front_and_reoffers_them_first(
        rt, twilio, worker, twilio_api, frozen_clock):
    form, agent_id, leg, agent_form = _answered_call(rt, twilio, worker, twilio_api)
    frozen_clock.advance(5)
    later = call_form(from_="+12125550888")
    twilio.post("/voice/incoming", later)
    twilio.post(f"/voice/status/agent?leg={leg.id}", {**agent_form, "CallStatus": "no-answer"})
    with rt.db.session() as s:
        offers = s.scalars(select(Assignment).order_by(Assignment.id)).all()
        first = s.scalar(select(Interaction).where(Interaction.call_sid == form["CallSid"]))
    assert [o.outcome for o in offers] == ["missed", ""]
    assert offers[1].entry == lines.caller_entry_id(first.id)
    assert [w.call_sid for w in lines.waiting(rt.live, "support")] == [later["CallSid"]]


def test_status_for_unknown_call_sid_is_404_and_changes_nothing(rt, twilio):
    resp = twilio.post("/voice/status", call_form(sid=call_sid(), CallStatus="completed"))
    assert resp.status_code == 404


def test_missing_or_malformed_call_sid_is_400(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    assert twilio.post("/voice/incoming", {"From": "+12125550123"}).status_code == 400
    assert twilio.post("/voice/incoming", call_form(sid="CA123")).status_code == 400
    assert lines.length(rt.live, "support") == 0


def test_anonymous_caller_is_served_without_a_number(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    root = twiml(twilio.post("/voice/incoming", call_form(from_="anonymous")))
    assert "Enqueue" in verbs(root)
    with rt.db.session() as s:
        assert s.scalar(select(Interaction)).caller_number is None


def test_agent_missing_the_admins_number_of_offers_in_a_row_goes_offline(
        rt, twilio, worker, twilio_api, frozen_clock):
    form, agent_id, leg, agent_form = _answered_call(rt, twilio, worker, twilio_api)
    assert rt.settings.max_missed_offers == 2
    twilio.post(f"/voice/status/agent?leg={leg.id}", {**agent_form, "CallStatus": "no-answer"})
    assert rt.presence.state(agent_id) == "busy"  # offered the same caller again at once
    worker()
    with rt.db.session() as s:
        second = s.scalars(select(Leg).order_by(Leg.id)).all()[-1]
    assert second.id != leg.id
    twilio.post(f"/voice/status/agent?leg={second.id}",
                {**call_form(sid=second.call_sid), "CallStatus": "busy"})
    assert rt.presence.state(agent_id) == "offline"
    assert [w.call_sid for w in lines.waiting(rt.live, "support")] == [form["CallSid"]]

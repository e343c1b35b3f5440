"""Optional overflow (issue 14): after a queue's overflow_after_seconds waiting, an entry
may also be taken by the agents of its named overflow queue, keeping its place in its own
line; before then it is not, and with no overflow queue set, never."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.admin import ConfigAuditEntry
from models.entities import Assignment, Interaction
from queueing import keys, lines
from queueing.presence import Presence
from queueing.routing import Router
from tests.console_helpers import Desk, seed_people_and_admin
from tests.helpers import call_form, make_available, seed_agent, twiml, verbs


@pytest.fixture
def ada(app, rt):
    """Support (alice) and sales (carol) queues; ada the administrator, signed in."""
    people = seed_people_and_admin(rt)
    desk = Desk(app, "ada")
    desk.alice = people["alice"]
    desk.carol = seed_agent(rt, "carol", ["sales"])
    return desk


def _overflow(ada, target, after: int = 60) -> None:
    reply = ada.send("PATCH", "/api/admin/queues/support",
                     {"overflow_queue": target, "overflow_after_seconds": after})
    assert reply.status_code == 200, reply.json


def _wait_then_hold(rt, twilio, seconds: float) -> dict[str, str]:
    """A support caller joins, waits `seconds` while carol (sales) is free; one hold turn."""
    form = call_form(from_="+12125550101")
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", form)))
    rt.clock.advance(seconds)
    twilio.post("/voice/hold", {**form, "QueueTime": str(int(seconds)), "QueuePosition": "1"})
    return form


def _offers(rt) -> list[tuple[int, str]]:
    with rt.db.session() as s:
        return [(a.agent_id, a.queue_slug) for a in s.scalars(select(Assignment))]


def test_caller_waiting_past_the_overflow_time_is_taken_by_the_overflow_queues_free_agent(
        rt, twilio, ada):
    _overflow(ada, "sales", 60)
    make_available(rt, ada.carol)
    _wait_then_hold(rt, twilio, 61)
    assert _offers(rt) == [(ada.carol, "support")]
    assert lines.length(rt.live, "support") == 0


def test_overflow_queues_agent_coming_free_takes_an_entry_that_waited_long_enough(
        rt, twilio, ada):
    _overflow(ada, "sales", 60)
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", call_form())))
    rt.clock.advance(30)
    make_available(rt, ada.carol)
    assert _offers(rt) == []  # 30 s: not yet
    rt.clock.advance(40)
    make_available(rt, ada.carol)  # she presses Available again later
    assert _offers(rt) == [(ada.carol, "support")]


def test_caller_not_yet_past_the_overflow_time_is_not_taken_by_the_overflow_queue(
        rt, twilio, ada):
    _overflow(ada, "sales", 60)
    make_available(rt, ada.carol)
    _wait_then_hold(rt, twilio, 59)
    assert _offers(rt) == []
    assert lines.length(rt.live, "support") == 1


def test_without_an_overflow_queue_another_queues_agent_never_takes_the_caller(
        rt, twilio, ada):
    _overflow(ada, "sales", 60)
    _overflow(ada, None, 60)  # turned off again
    make_available(rt, ada.carol)
    _wait_then_hold(rt, twilio, 3600)
    assert _offers(rt) == []


def test_overflowing_entry_keeps_its_place_in_its_own_line(rt, twilio, ada):
    _overflow(ada, "sales", 60)
    first = call_form(from_="+12125550101")
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", first)))
    rt.clock.advance(30)
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", call_form(
        from_="+12125550102"))))
    rt.clock.advance(40)  # the first has waited 70 s, the second 40 s
    assert [e.joined for e in lines.waiting(rt.live, "support")] == sorted(
        e.joined for e in lines.waiting(rt.live, "support"))
    make_available(rt, ada.carol)
    [(agent, queue)] = _offers(rt)
    assert (agent, queue) == (ada.carol, "support")
    assert lines.length(rt.live, "support") == 1  # the second still waits, first in line
    [left] = lines.waiting(rt.live, "support")
    assert lines.position(rt.live, "support", left.id) == 1


def test_an_overflowing_caller_stays_first_in_its_own_line_for_its_own_agent(
        rt, twilio, ada):
    _overflow(ada, "sales", 60)  # carol (sales) stays signed out
    first = call_form(from_="+12125550101")
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", first)))
    rt.clock.advance(30)
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", call_form(
        from_="+12125550102"))))
    rt.clock.advance(40)  # the first now overflows (70 s), the second does not (40 s)
    twilio.post("/voice/hold", {**first, "QueueTime": "70", "QueuePosition": "1"})
    entry = lines.entry_for_call(rt.live, first["CallSid"])
    assert (lines.length(rt.live, "support"), lines.position(rt.live, "support", entry.id)
            ) == (2, 1)
    make_available(rt, ada.alice)
    with rt.db.session() as s:
        [offer] = s.scalars(select(Assignment)).all()
        taken = s.get(Interaction, offer.interaction_id)
        assert (offer.agent_id, taken.call_sid) == (ada.alice, first["CallSid"])


def test_an_overflowing_caller_goes_ahead_of_the_overflow_queues_later_callers(r):
    """Routing: an entry taken by an overflow queue's agent competes there by its original
    place, so an older overflowing caller is served before a later caller of that queue."""
    r.hset(keys.overflow(), "support", "sales|60")
    lines.join(r, lines.Entry("i:1", "support", lines.CALLER, 1000.0, "CA1", 1))
    lines.join(r, lines.Entry("i:2", "sales", lines.CALLER, 1030.0, "CA2", 2))
    Presence(r).set_state(7, "available", 1070.0, ["sales"])
    [pair] = Router(r).route(["sales", "support"], 1070.0)
    assert (pair.agent_id, pair.entry_id, pair.queue) == (7, "i:1", "support")
    assert lines.position(r, "sales", "i:2") == 1


def test_overflow_setting_is_validated_and_audited(rt, ada):
    for bad, field in (({"overflow_queue": "nowhere"}, "overflow_queue"),
                       ({"overflow_queue": "support"}, "overflow_queue"),
                       ({"overflow_after_seconds": -1}, "overflow_after_seconds"),
                       ({"overflow_after_seconds": 10**6}, "overflow_after_seconds")):
        reply = ada.send("PATCH", "/api/admin/queues/support", bad)
        assert reply.status_code == 400 and field in reply.json["detail"], bad
    _overflow(ada, "sales", 90)
    with rt.db.session() as s:
        last = s.scalars(select(ConfigAuditEntry).order_by(ConfigAuditEntry.id.desc())).first()
        assert (last.entity, last.before["overflow_queue"], last.after["overflow_queue"],
                last.after["overflow_after_seconds"]) == ("queue", None, "sales", 90)
    page = ada.get("/admin/queues").get_data(as_text=True)
    assert 'name="overflow_queue"' in page and 'name="overflow_after_seconds"' in page

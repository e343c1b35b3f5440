"""Priority where the admin wants it (issue 14): a queue's priority bonus serves VIP callers
(flagged in the caller directory) and callbacks past their promised time as if they had
arrived that much earlier; never more, and 0 (the default) keeps first come, first served."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from callbacks import reconcile
from ivr import booking
from models.admin import ConfigAuditEntry
from models.callbacks import Callback
from models.entities import Assignment, Interaction, Queue
from queueing import lines, overflow
from queueing.limits import MAX_PRIORITY_BONUS_SECONDS
from queueing.presence import Presence
from queueing.routing import Router
from tests.console_helpers import Desk, seed_people_and_admin
from tests.helpers import call_form, make_available, seed_queues, twiml, verbs

VIP, OTHER = "+12125550199", "+12125550101"


@pytest.fixture
def ada(app, rt):
    """Support queue served by alice; ada the administrator, signed in."""
    people = seed_people_and_admin(rt)
    desk = Desk(app, "ada")
    desk.alice = people["alice"]
    return desk


def _call(twilio, number: str) -> None:
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", call_form(from_=number))))


def _served_first(rt) -> str:
    with rt.db.session() as s:
        first = s.scalars(select(Assignment).order_by(Assignment.id)).first()
        return s.get(Interaction, first.interaction_id).caller_number


def _vip_calls_after_other(rt, twilio, ada, bonus: int, later_by: float) -> str:
    assert ada.send("PUT", f"/api/callers/{VIP}", {"name": "Grace", "vip": True}
                    ).status_code == 201
    assert ada.send("PATCH", "/api/admin/queues/support",
                    {"priority_bonus_seconds": bonus}).status_code == 200
    _call(twilio, OTHER)
    rt.clock.advance(later_by)
    _call(twilio, VIP)
    make_available(rt, ada.alice)
    return _served_first(rt)


def test_vip_caller_is_served_ahead_of_an_earlier_caller_when_the_queue_gives_a_bonus(
        rt, twilio, ada):
    assert _vip_calls_after_other(rt, twilio, ada, bonus=300, later_by=60) == VIP


def test_vip_caller_waits_their_turn_when_the_bonus_is_off(rt, twilio, ada):
    assert _vip_calls_after_other(rt, twilio, ada, bonus=0, later_by=60) == OTHER


def test_vip_never_goes_ahead_of_someone_who_arrived_more_than_the_bonus_earlier(
        rt, twilio, ada):
    assert _vip_calls_after_other(rt, twilio, ada, bonus=30, later_by=60) == OTHER


def test_after_redis_loss_the_rebuilt_line_keeps_the_vip_ahead_and_the_overflow_routes(
        rt, twilio, ada):
    assert ada.send("PUT", f"/api/callers/{VIP}", {"vip": True}).status_code == 201
    assert ada.send("PATCH", "/api/admin/queues/support", {
        "priority_bonus_seconds": 300, "overflow_queue": "sales",
        "overflow_after_seconds": 60}).status_code == 200
    _call(twilio, OTHER)
    rt.clock.advance(60)
    _call(twilio, VIP)
    before = rt.live.zrange("hl:line:support", 0, -1, withscores=True)
    rt.live.flushdb()
    reconcile.reconcile(rt, lost=True)
    assert rt.live.zrange("hl:line:support", 0, -1, withscores=True) == before
    assert overflow.sources(rt.live) == ["support"]


def test_priority_bonus_is_validated_bounded_and_audited(rt, ada):
    too_much = ada.send("PATCH", "/api/admin/queues/support",
                        {"priority_bonus_seconds": MAX_PRIORITY_BONUS_SECONDS + 1})
    assert too_much.status_code == 400 and "priority_bonus_seconds" in too_much.json["detail"]
    assert ada.send("PATCH", "/api/admin/queues/support",
                    {"priority_bonus_seconds": -1}).status_code == 400
    assert ada.send("PATCH", "/api/admin/queues/support",
                    {"priority_bonus_seconds": 120}).status_code == 200
    with rt.db.session() as s:
        last = s.scalars(select(ConfigAuditEntry).order_by(ConfigAuditEntry.id.desc())).first()
        assert (last.entity, last.before["priority_bonus_seconds"],
                last.after["priority_bonus_seconds"]) == ("queue", 0, 120)
    page = ada.get("/admin/queues").get_data(as_text=True)
    assert 'name="priority_bonus_seconds"' in page


def test_vip_flag_is_refused_unless_true_or_false_and_audited(rt, ada):
    assert ada.send("PUT", f"/api/callers/{VIP}", {"vip": "yes"}).status_code == 400
    assert ada.send("PUT", f"/api/callers/{VIP}", {"vip": True}).json["vip"] is True
    with rt.db.session() as s:
        last = s.scalars(select(ConfigAuditEntry).order_by(ConfigAuditEntry.id.desc())).first()
        assert (last.entity, last.after["vip"]) == ("caller", True)


def test_callback_past_its_promised_time_takes_the_bonus_and_not_before(r):
    """Routing moves a callback ahead by its bonus once its promised time has passed."""
    presence, router = Presence(r), Router(r)
    caller = lines.Entry("i:1", "support", lines.CALLER, 1000.0, "CA1", 1)
    callback = lines.Entry("cb:2", "support", lines.CALLBACK, 1050.0, callback_id=2,
                           promised=1500.0, late_bonus=100.0)
    lines.join(r, caller)
    lines.join(r, callback)
    presence.set_state(1, "available", 1.0, ["support"])
    presence.set_state(1, "offline", 2.0, ["support"])
    assert router.route(["support"], 1400.0) == []  # nobody free: before its promise
    assert lines.position(r, "support", "cb:2") == 2
    presence.set_state(1, "available", 1600.0, ["support"])
    [pair] = router.route(["support"], 1600.0)
    assert (pair.entry_id, pair.joined) == ("cb:2", 1050.0)


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(bonus=st.integers(0, 600), arrivals=st.lists(st.tuples(
    st.floats(0, 900, allow_nan=False), st.booleans()), min_size=2, max_size=12),
    promised_late=st.lists(st.floats(0, 900, allow_nan=False), max_size=4))
def test_nobody_waits_more_than_the_bonus_behind_a_later_arrival(
        r, bonus, arrivals, promised_late):
    """Whatever arrives (VIPs, plain callers, callbacks whose promise passes), each agent
    takes an entry that arrived at most `bonus` seconds after anyone still waiting."""
    r.flushdb()
    presence, router = Presence(r), Router(r)
    queue_bonus = float(bonus)
    for n, (at, vip) in enumerate(arrivals):
        lines.join(r, lines.Entry(f"i:{n}", "q", lines.CALLER, 1000.0 + at, f"CA{n}", n,
                                  bonus=queue_bonus if vip else 0.0))
    for m, at in enumerate(promised_late):
        lines.join(r, lines.Entry(f"cb:{m}", "q", lines.CALLBACK, 1000.0 + at, callback_id=m,
                                  promised=1000.0 + at + 5, late_bonus=queue_bonus))
    now = 2000.0
    while lines.length(r, "q"):
        waiting = [lines.load(r, i) for i in r.zrange("hl:line:q", 0, -1)]
        earliest = min(e.joined for e in waiting if e is not None)
        presence.set_state(1, "available", now, ["q"])
        [pair] = router.route(["q"], now)
        assert pair.joined - earliest <= queue_bonus + 1e-6
        presence.set_state(1, "offline", now, ["q"])
        now += 1.0


def test_callback_entry_carries_its_promise_and_queue_bonus(rt):
    """booking.entry_for gives a callback its promised time and its queue's bonus."""
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        queue = s.scalar(select(Queue))
        queue.priority_bonus_seconds = 90
        now = rt.clock.now()
        callback = Callback(queue=queue, number=OTHER, reference="ABC123", place=1.0,
                            expected_at=now + timedelta(minutes=5), created_at=now,
                            updated_at=now)
        s.add(callback)
        s.flush()
        entry = booking.entry_for(callback)
    assert entry.late_bonus == 90.0
    assert entry.promised == (now + timedelta(minutes=5)).timestamp()

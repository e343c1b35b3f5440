"""Redis losing all its data in a busy moment: a worker's maintenance pass sees the
reconciler's marker gone and rebuilds, from the database, the lines in their original
order, agents' presence, the offers under way and the jobs that were lost with Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq.job import Job
from sqlalchemy import select

from admin import directory
from callbacks import reconcile
from entrypoints.worker import HoldlessWorker
from ivr import booking
from models.callbacks import Callback
from models.entities import OFFERED, Assignment, Interaction, Leg
from queueing import keys, lines
from tests.callback_steps import book_callback, call_in, run_scheduled
from tests.console_helpers import PASSWORD, Desk, route_call_to, seed_people
from tests.helpers import call_form, make_available, seed_agent, seed_queues


class MaintenanceWorker(HoldlessWorker):
    """The production worker; the test runs its maintenance pass by hand (no command
    channel: nothing is dequeued here)."""

    def subscribe(self) -> None:
        """No command channel."""


def _line(rt, queue="support"):
    return rt.live.zrange(keys.line(queue), 0, -1, withscores=True)


def _presence(rt, agent_ids):
    """Each agent's live state and entry, and the idle and staffed sets of both queues."""
    found = {a: (rt.live.hget(keys.agent(a), "state"), rt.live.hget(keys.agent(a), "entry"))
             for a in agent_ids}
    for q in ("support", "sales"):
        found[f"idle:{q}"] = tuple(rt.live.zrange(keys.idle(q), 0, -1))
        found[f"staffed:{q}"] = tuple(sorted(rt.live.smembers(keys.staffed(q))))
    return found


def _dials_to(twilio_api, contact):
    return [c for c in twilio_api.calls_created() if c.field("To") == contact]


def _open_assignment(rt, agent_id):
    with rt.db.session() as s:
        return s.scalar(select(Assignment).where(Assignment.agent_id == agent_id,
                                                 Assignment.ended_at.is_(None)))


@pytest.fixture
def busy_center(rt, twilio, worker, twilio_api, frozen_clock):
    """Support holds callers and callbacks (one waiting for its retry); carol is in wrap-up,
    bob is being rung for the oldest caller, erin has just been offered the oldest callback
    (her connect job still queued), alice is free for sales, dave is signed out."""
    seed_queues(rt, ("support", "Support", None), ("sales", "Sales", None))
    ids = {n: seed_agent(rt, n, q) for n, q in (
        ("carol", ["support"]), ("bob", ["support"]), ("erin", ["support"]),
        ("alice", ["sales"]), ("dave", ["support"]))}
    make_available(rt, ids["carol"])
    first = call_in(twilio, "+12125550100")
    worker()
    leg = _leg_of(rt, ids["carol"])
    agent_form = {**first, "CallSid": leg.call_sid, "From": "+12125550000"}
    twilio.post(f"/voice/agent/whisper?leg={leg.id}", agent_form)
    frozen_clock.advance(60)
    twilio.post(f"/voice/status/agent?leg={leg.id}", {**agent_form, "CallStatus": "completed"})
    for n in range(1, 7):  # callers 1, 3, 5 and callbacks 2, 4, 6, 20 s apart
        frozen_clock.advance(20)
        (call_in if n % 2 else book_callback)(twilio, f"+1212555011{n}")
    retry = _callbacks(rt)[-1]  # its first try failed: back at its place in 5 minutes
    with rt.db.session() as s:
        row = s.get(Callback, retry)
        row.attempts, row.next_attempt_at = 1, rt.clock.now() + timedelta(seconds=300)
        at = row.next_attempt_at
    lines.leave(rt.live, "support", f"cb:{retry}")
    booking.schedule_due(rt, retry, at)
    make_available(rt, ids["bob"])
    worker()  # bob is rung for caller 1
    make_available(rt, ids["erin"])  # erin is offered callback 2; not rung yet
    make_available(rt, ids["alice"])
    return ids, retry


def _leg_of(rt, agent_id):
    with rt.db.session() as s:
        return s.scalars(select(Leg).where(Leg.agent_id == agent_id)).one()


def _callbacks(rt):
    with rt.db.session() as s:
        return list(s.scalars(select(Callback.id).order_by(Callback.place)))


def test_redis_emptied_then_maintenance_pass_restores_line_order_and_every_agents_presence(
        rt, busy_center):
    ids, retry = busy_center
    line, presence = _line(rt), _presence(rt, ids.values())
    assert [e.split(":")[0] for e, _ in line] == ["i", "cb", "i"]
    assert presence[ids["carol"]][0] == "wrap-up" and presence[ids["bob"]][0] == "busy"
    worker = MaintenanceWorker([rt.jobs], connection=rt.jobs_redis)
    rt.live.flushdb()
    assert reconcile.redis_lost(rt)
    worker.run_maintenance_tasks()
    assert not reconcile.redis_lost(rt)
    assert _line(rt) == line
    for entry_id, _score in line:
        assert lines.load(rt.live, entry_id) is not None
    assert _presence(rt, ids.values()) == presence
    assert f"cb:{retry}" not in dict(_line(rt))  # the retry stays out until it is due
    scheduled = rt.jobs.scheduled_job_registry.get_job_ids()
    assert {j.split("-")[0] for j in scheduled} >= {"reconcile", "sweep", "retention"}  # back


def test_after_redis_loss_the_lost_connect_job_rings_its_agent_once_and_a_rung_agent_is_not_rung_again(  # noqa: E501
        rt, busy_center, worker, twilio_api):
    ids, _retry = busy_center
    erin_offer = _open_assignment(rt, ids["erin"])
    assert _dials_to(twilio_api, "client:bob") and not _dials_to(twilio_api, "client:erin")
    rt.live.flushdb()
    worker()  # its maintenance pass sees the loss, then runs the restored jobs
    assert Job.exists(f"connect-{erin_offer.id}", connection=rt.jobs_redis)
    assert len(_dials_to(twilio_api, "client:erin")) == 1
    assert len(_dials_to(twilio_api, "client:bob")) == 1
    rt.live.delete(keys.reconciled())  # a second loss-check pass restores nothing twice
    worker()
    assert len(_dials_to(twilio_api, "client:erin")) == 1
    assert len(_dials_to(twilio_api, "client:bob")) == 1


def test_after_redis_loss_wrap_up_ends_routing_resumes_in_order_and_nothing_is_offered_twice(
        rt, busy_center, worker, frozen_clock):
    ids, retry = busy_center
    before = [e for e, _ in _line(rt)]
    rt.live.flushdb()
    worker()
    frozen_clock.advance(400)  # carol's wrap-up is over; the retry is due
    run_scheduled(rt, worker)
    carol = _open_assignment(rt, ids["carol"])
    assert carol is not None and carol.entry == before[0]  # the oldest one waiting
    with rt.db.session() as s:
        handed = list(s.scalars(select(Assignment.entry)))
    assert len(handed) == len(set(handed))  # no entry was handed out twice
    assert f"cb:{retry}" in dict(_line(rt))  # due now: back at its original place
    places = _places(rt)
    assert [e for e, _ in _line(rt)] == sorted([*before[1:], f"cb:{retry}"], key=places.get)


def _places(rt):
    with rt.db.session() as s:
        places = {f"cb:{c.id}": c.place for c in s.scalars(select(Callback))}
        places |= {f"i:{i.id}": i.joined_at for i in s.scalars(select(Interaction))
                   if i.joined_at is not None}
    return places


def test_healthy_redis_with_the_marker_is_not_reconciled_on_a_maintenance_pass(
        rt, busy_center, worker):
    MaintenanceWorker([rt.jobs], connection=rt.jobs_redis)  # starting writes the marker
    assert reconcile.reconcile_if_lost(rt) is None


def test_a_failover_to_another_primary_is_reconciled_on_the_next_maintenance_pass(
        rt, busy_center, worker):
    """The promoted replica holds the marker, written on the old primary; the last join
    before the failover never reached it."""
    MaintenanceWorker([rt.jobs], connection=rt.jobs_redis)  # starting writes the marker
    before = _line(rt)
    rt.live.hset(keys.reconciled(), "primary", "f" * 40)  # the old primary's run_id
    rt.live.zrem(keys.line("support"), before[-1][0])
    assert reconcile.reconcile_if_lost(rt) is not None
    assert _line(rt) == before
    assert rt.live.hget(keys.reconciled(), "primary") == reconcile.primary_id(rt)
    assert reconcile.reconcile_if_lost(rt) is None  # once per failover


def test_only_one_worker_reconciles_a_loss_at_a_time(rt, busy_center):
    rt.live.flushdb()
    rt.live.set(keys.reconcile_lock(), "another worker", ex=60)
    assert reconcile.reconcile_if_lost(rt) is None
    assert _line(rt) == []
    rt.live.delete(keys.reconcile_lock())
    assert reconcile.reconcile_if_lost(rt) is not None
    assert _line(rt) != []


def test_offered_caller_whose_offer_ended_while_redis_was_lost_goes_back_in_line(
        rt, twilio, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    bob = seed_agent(rt, "bob", ["support"])
    make_available(rt, bob)
    call_in(twilio, "+12125550131")
    offer = _open_assignment(rt, bob)
    with rt.db.session() as s:  # the miss was recorded; then Redis died before the rest
        row = s.get(Assignment, offer.id)
        row.ended_at, row.outcome = rt.clock.now(), "missed"
        row.active_agent_id = row.active_entry = None
    rt.live.flushdb()
    frozen_clock.advance(5)
    reconcile.reconcile(rt)  # too soon: the webhook finishing the miss may still be running
    assert _status(rt, offer.interaction_id) == OFFERED and _line(rt) == []
    frozen_clock.advance(60)
    reconcile.reconcile(rt)
    again = _open_assignment(rt, bob)  # back in line, and bob (free again) is offered it
    assert again is not None and again.id != offer.id and again.entry == offer.entry
    assert _status(rt, offer.interaction_id) == OFFERED


def _status(rt, interaction_id):
    with rt.db.session() as s:
        return s.get(Interaction, interaction_id).status


def test_after_redis_loss_an_agent_missing_the_restored_offer_puts_the_caller_back_in_place(
        rt, busy_center, twilio):
    ids, _retry = busy_center
    offer = _open_assignment(rt, ids["bob"])
    leg = _leg_of(rt, ids["bob"])
    worker = MaintenanceWorker([rt.jobs], connection=rt.jobs_redis)
    rt.live.flushdb()
    worker.run_maintenance_tasks()
    twilio.post(f"/voice/status/agent?leg={leg.id}",
                call_form(sid=leg.call_sid, from_="+12125550000", CallStatus="no-answer"))
    # Back at the front of the line, so offered at once to the one free agent (bob again).
    again = _open_assignment(rt, ids["bob"])
    assert again is not None and again.id != offer.id
    assert (again.entry, again.joined_at) == (offer.entry, offer.joined_at)


def test_after_redis_loss_a_caller_cold_transferred_to_a_queue_is_still_never_offered_to_the_sender(  # noqa: E501
        rt, app, twilio, worker):
    people = seed_people(rt)
    alice = people["alice"]
    _form, interaction, first = route_call_to(rt, twilio, worker, alice)
    reply = Desk(app, "alice").send("POST", f"/api/interactions/{interaction.id}/transfer",
                                    {"to_queue": "support", "mode": "cold", "reason": "x"})
    assert reply.status_code == 202
    twilio.post(f"/voice/status/agent?leg={first.id}",
                call_form(sid=first.call_sid, CallStatus="completed"))
    worker()
    rt.live.flushdb()  # Redis loses the line entry, and the sender it recorded with it
    MaintenanceWorker([rt.jobs], connection=rt.jobs_redis).run_maintenance_tasks()
    assert [e.interaction_id for e in lines.waiting(rt.live, "support")] == [interaction.id]
    make_available(rt, alice)  # the only agent free: she sent the caller, so they wait
    worker()
    assert rt.presence.state(alice) == "available"
    assert [e.interaction_id for e in lines.waiting(rt.live, "support")] == [interaction.id]
    with rt.db.session() as s:
        carol = directory.create_agent(s, "Carol Agent", "carol", "client:carol", ["support"],
                                       "agent", PASSWORD).id
    make_available(rt, carol)
    worker()
    assert lines.waiting(rt.live, "support") == []
    assert rt.presence.state(carol) == "busy"
    assert rt.presence.state(alice) == "available"
    with rt.db.session() as s:
        legs = s.scalars(select(Leg.agent_id).where(Leg.interaction_id == interaction.id,
                                                    Leg.agent_id.is_not(None)).order_by(Leg.id))
        assert list(legs) == [alice, carol]


def test_after_redis_loss_a_transferred_caller_whose_restored_offer_is_missed_skips_the_sender(
        rt, app, twilio, worker):
    people = seed_people(rt)
    alice = people["alice"]
    with rt.db.session() as s:
        carol = directory.create_agent(s, "Carol Agent", "carol", "client:carol", ["support"],
                                       "agent", PASSWORD).id
    _form, interaction, first = route_call_to(rt, twilio, worker, alice)
    Desk(app, "alice").send("POST", f"/api/interactions/{interaction.id}/transfer",
                            {"to_queue": "support", "mode": "cold", "reason": "x"})
    twilio.post(f"/voice/status/agent?leg={first.id}",
                call_form(sid=first.call_sid, CallStatus="completed"))
    worker()
    make_available(rt, carol)  # offered to carol, ringing
    worker()
    offer = _leg_of(rt, carol)
    rt.live.flushdb()  # while carol's phone rings, Redis loses the entry and its sender
    MaintenanceWorker([rt.jobs], connection=rt.jobs_redis).run_maintenance_tasks()
    make_available(rt, alice)
    twilio.post(f"/voice/status/agent?leg={offer.id}",
                call_form(sid=offer.call_sid, from_="+12125550000", CallStatus="no-answer"))
    worker()  # carol missed it: back in line, and offered again, though alice waited longer
    assert rt.presence.state(alice) == "available"
    assert _open_assignment(rt, carol).interaction_id == interaction.id
    assert _open_assignment(rt, alice) is None

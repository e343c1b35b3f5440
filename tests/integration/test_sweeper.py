"""The sweeper: hang-ups whose status callbacks were lost are found by asking Twilio, and
applied exactly as the lost callbacks would have been; live calls are left alone.

Twilio is the REST stand-in: what it "knows" about a call is its record in the stand-in's
store, which the phone network (or here the test) keeps up to date. A status callback that
is "lost" is simply never delivered, or delivered while the app cannot take it (503).
"""

from __future__ import annotations

import logging
import re
import time

import pytest
import redis.exceptions
import sqlalchemy.exc
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from callbacks import adoption, agent_legs, call_ends, sweeper
from entrypoints.worker import HoldlessWorker
from holdless import clock, tasks
from models import Base
from models.callbacks import ATTEMPT_AGENT_MISSED, ATTEMPT_FINISHED
from models.entities import (
    ABANDONED,
    COMPLETED,
    OFFERED,
    WAITING,
    Agent,
    Assignment,
    Interaction,
    Leg,
)
from queueing import keys, lines
from queueing.limits import (
    SWEEP_INTERVAL_SECONDS,
    SWEEP_MIN_AGE_SECONDS,
    SWEEP_RECHECK_SECONDS,
)
from simulator.resources import CallResource
from simulator.rest import RestError
from tests.conftest import SignedTwilioClient
from tests.faults import StatementOutage, drain
from tests.helpers import call_form, make_available, seed_agent, seed_queues, twiml
from tests.system.test_e2e_sim import live  # noqa: F401 - the simulated stack's fixture

ACCOUNT = "AC" + "0" * 32
CALLER_NUMBER = "+12125550181"
LINE_NUMBER = "+12125550000"


# -- helpers ---------------------------------------------------------------------------------

def _caller_at_twilio(twilio_api, form: dict[str, str], status: str = "in-progress") -> None:
    """Twilio's record of the caller's inbound call."""
    twilio_api.store.add_call(CallResource(form["CallSid"], ACCOUNT, form["To"], form["From"],
                                           "inbound", status=status))


def _waiting_caller(rt, twilio, twilio_api, number: str = CALLER_NUMBER) -> dict[str, str]:
    form = call_form(from_=number)
    twiml(twilio.post("/voice/incoming", form))
    _caller_at_twilio(twilio_api, form)
    return form


def _offered_and_rung(rt, twilio, twilio_api) -> tuple[int, dict[str, str], Leg]:
    """A caller waits, alice goes available, the worker rings her: returns (agent, form, leg)."""
    seed_queues(rt, ("support", "Support", None))
    agent_id = seed_agent(rt, "alice", ["support"])
    form = _waiting_caller(rt, twilio, twilio_api)
    make_available(rt, agent_id)
    drain(rt)
    with rt.db.session() as s:
        leg = s.scalar(select(Leg))
        assert s.scalar(select(Interaction)).status == OFFERED
    assert leg is not None and leg.call_sid
    return agent_id, form, leg


def _hang_up_at_twilio(twilio_api, sid: str, status: str) -> None:
    twilio_api.store.update_call(sid, status=status)


def _snapshot(rt) -> tuple[dict, dict]:
    """Every row of every table, and every live key (but the sweeper's own marks, the
    reconciler's marker, which each worker start rewrites with the wall-clock time, and the
    dial pacer's slot, which expires on its own once passed)."""
    rows = {}
    with rt.db.session() as s:
        for table in Base.metadata.sorted_tables:
            rows[table.name] = sorted(map(tuple, s.execute(table.select()).all()), key=repr)
    keys_now: dict[str, object] = {}
    for key in rt.live.scan_iter("hl:*"):
        if key.startswith("hl:swept:") or key in (keys.reconciled(), keys.dial_pacer()):
            continue
        kind = rt.live.type(key)
        keys_now[key] = {"string": rt.live.get, "hash": rt.live.hgetall, "set": rt.live.smembers,
                     "list": lambda k: rt.live.lrange(k, 0, -1),
                     "zset": lambda k: rt.live.zrange(k, 0, -1, withscores=True)}[kind](key)
    return rows, keys_now


def _fetched(twilio_api) -> list[str]:
    """The sids of the calls fetched from Twilio so far."""
    return [r.path.rsplit("/", 1)[-1].removesuffix(".json")
            for r in twilio_api.requests("call-fetch")]


def _old_enough(frozen_clock) -> None:
    frozen_clock.advance(SWEEP_MIN_AGE_SECONDS + 1)


# -- lost while the database and Redis were both down -----------------------------------------

def test_hang_ups_lost_while_database_and_redis_were_down_are_applied_by_the_sweeper(
        own_redis, twilio_api, frozen_clock):
    app, rt, server = own_redis
    twilio = SignedTwilioClient(app.test_client())
    agent_id, form, leg = _offered_and_rung(rt, twilio, twilio_api)
    _hang_up_at_twilio(twilio_api, form["CallSid"], "completed")  # the caller gave up
    _hang_up_at_twilio(twilio_api, leg.call_sid, "canceled")  # so Twilio stopped alice's ring
    time.sleep(1.2)  # appendfsync everysec
    server.stop(kill=True)
    outage = StatementOutage(rt.db.engine)
    outage.start()
    try:  # neither can be kept: 503, and Twilio does not retry a status callback
        assert twilio.post("/voice/status", {**form, "CallStatus": "completed"}).status_code \
            == 503
        assert twilio.post(f"/voice/status/agent?leg={leg.id}", call_form(
            sid=leg.call_sid, from_=LINE_NUMBER, CallStatus="canceled")).status_code == 503
    finally:
        outage.end()
        outage.remove()
        server.start()
    with rt.db.session() as s:  # the loss: a dead caller still offered, alice still busy
        assert s.scalar(select(Interaction)).status == OFFERED
    assert rt.presence.state(agent_id) == "busy"

    frozen_clock.advance(SWEEP_MIN_AGE_SECONDS - 1)
    assert sweeper.sweep(rt).asked == 0  # too recent: its own reports may still come
    frozen_clock.advance(2)
    swept = sweeper.sweep(rt)
    drain(rt)
    interaction_id = form_interaction_id(rt, form)
    with rt.db.session() as s:
        interaction = s.get(Interaction, interaction_id)
        assert (interaction.status, interaction.outcome) == (ABANDONED, "abandoned")
        ended_leg = s.get(Leg, leg.id)
        assert (ended_leg.status, ended_leg.ended_at is not None) == ("missed", True)
        assert s.scalar(select(Assignment)).ended_at is not None
        alice = s.get(Agent, agent_id)
        assert (alice.state, alice.missed_offers) == ("available", 0)  # a hang-up, not a miss
    assert rt.presence.state(agent_id) == "available"
    assert lines.position(rt.live, "support", lines.caller_entry_id(interaction_id)) is None
    assert not list(rt.live.scan_iter("hl:entry:*"))
    assert swept.applied == [f"caller:{interaction_id}", f"leg:{leg.id}"]  # Twilio's order


def form_interaction_id(rt, form: dict[str, str]) -> int:
    """The interaction of a caller's call."""
    with rt.db.session() as s:
        return int(s.scalar(select(Interaction.id).where(
            Interaction.call_sid == form["CallSid"])))


# -- lost reports of a conversation's end ----------------------------------------------------

def test_lost_ends_of_a_conversation_complete_the_interaction_and_put_the_agent_in_wrap_up(
        rt, twilio, twilio_api, frozen_clock):
    agent_id, form, leg = _offered_and_rung(rt, twilio, twilio_api)
    twiml(twilio.post(f"/voice/agent/whisper?leg={leg.id}",
                      call_form(sid=leg.call_sid, from_=LINE_NUMBER)))  # alice answers
    drain(rt)
    _hang_up_at_twilio(twilio_api, form["CallSid"], "completed")
    _hang_up_at_twilio(twilio_api, leg.call_sid, "completed")  # neither report arrives
    _old_enough(frozen_clock)
    assert sweeper.sweep(rt).ended == 2
    drain(rt)
    with rt.db.session() as s:
        interaction = s.scalar(select(Interaction))
        assert (interaction.status, interaction.ended_at is not None) == (COMPLETED, True)
        assert s.get(Leg, leg.id).status == "completed"
        assert s.get(Agent, agent_id).missed_offers == 0
    assert rt.presence.state(agent_id) == "wrap-up"


def test_caller_left_alone_when_redis_failed_after_the_agents_end_was_recorded_is_ended_once(
        rt, twilio, twilio_api, frozen_clock, monkeypatch):
    """Alice hangs up; her leg's end is committed, then Redis fails (a failover) before her
    wrap-up and the job ending the caller's call: the report is answered 503 and Twilio does
    not send it again. The caller would hold alone in the conference, alice stay busy."""
    agent_id, form, leg = _offered_and_rung(rt, twilio, twilio_api)
    twiml(twilio.post(f"/voice/agent/whisper?leg={leg.id}",
                      call_form(sid=leg.call_sid, from_=LINE_NUMBER)))  # alice answers
    drain(rt)
    _hang_up_at_twilio(twilio_api, leg.call_sid, "completed")

    def redis_fails(*_args):
        raise redis.exceptions.ConnectionError("the primary is gone")

    with monkeypatch.context() as patch:
        patch.setattr(agent_legs, "_start_wrap_up", redis_fails)
        report = twilio.post(f"/voice/status/agent?leg={leg.id}",
                             call_form(sid=leg.call_sid, from_=LINE_NUMBER,
                                       CallStatus="completed"))
    assert report.status_code == 503
    assert rt.presence.state(agent_id) == "busy"
    assert sweeper.sweep(rt).finished == 0  # too soon: the job may just be running late
    _old_enough(frozen_clock)
    assert sweeper.sweep(rt).finished == 1
    assert rt.presence.state(agent_id) == "wrap-up"
    drain(rt)
    updates = [r for r in twilio_api.requests("call-update") if form["CallSid"] in r.path]
    assert [r.field("Status") for r in updates if r.field("Status")] == ["completed"]
    frozen_clock.advance(SWEEP_INTERVAL_SECONDS)
    assert sweeper.sweep(rt).finished == 0  # once, even while Twilio has not reported it


def test_deferred_end_of_a_call_the_database_never_recorded_is_done_not_a_failed_job(
        rt, frozen_clock):
    """A caller's first webhook and their hang-up both fell in a database outage: the
    hang-up was handed to the worker (202), and the call is unknown when it runs."""
    rt.enqueue(tasks.SETTLE_CALL_END, call_ends.CALLER_CALL, 0, "completed", "CA" + "9" * 32,
               job_id="call-status-unknown")
    drain(rt)
    assert rt.jobs.failed_job_registry.count == 0
    assert Job.fetch("call-status-unknown", connection=rt.jobs_redis).return_value() == \
        "unknown call: nothing to settle"


# -- live calls, twice, unknown calls, errors -------------------------------------------------

def test_live_caller_and_ringing_agent_are_asked_about_and_left_alone(
        rt, twilio, twilio_api, frozen_clock):
    agent_id, form, leg = _offered_and_rung(rt, twilio, twilio_api)
    _hang_up_at_twilio(twilio_api, leg.call_sid, "ringing")
    _old_enough(frozen_clock)
    before = _snapshot(rt)
    swept = sweeper.sweep(rt)
    assert (swept.asked, swept.ended, swept.unknown, swept.errors) == (2, 0, 0, 0)
    assert sorted(_fetched(twilio_api)) == sorted([form["CallSid"], leg.call_sid])
    assert _snapshot(rt) == before
    assert rt.presence.state(agent_id) == "busy"


def test_sweeping_again_after_the_ends_were_applied_changes_nothing_more(
        rt, twilio, twilio_api, frozen_clock):
    agent_id, form, leg = _offered_and_rung(rt, twilio, twilio_api)
    _hang_up_at_twilio(twilio_api, form["CallSid"], "completed")
    _hang_up_at_twilio(twilio_api, leg.call_sid, "canceled")
    _old_enough(frozen_clock)
    assert sweeper.sweep(rt).ended == 2
    drain(rt)
    after_first = _snapshot(rt)
    fetches = len(_fetched(twilio_api))
    frozen_clock.advance(SWEEP_RECHECK_SECONDS + 1)
    again = sweeper.sweep(rt)
    drain(rt)
    assert (again.asked, again.ended) == (0, 0)
    assert len(_fetched(twilio_api)) == fetches
    assert _snapshot(rt) == after_first
    for applied in ("caller", "leg"):  # and applying an end twice does nothing either
        item = sweeper.Watched(applied, form_interaction_id(rt, form) if applied == "caller"
                               else leg.id, None)
        call_ends.settle(rt, item.kind, item.ident, "completed",
                         form["CallSid"] if applied == "caller" else str(leg.call_sid))
    drain(rt)
    assert _snapshot(rt) == after_first


def test_unknown_call_or_twilio_error_changes_nothing_and_logs_no_number(
        rt, twilio, twilio_api, frozen_clock, caplog):
    seed_queues(rt, ("support", "Support", None))
    form = call_form(from_=CALLER_NUMBER)
    twiml(twilio.post("/voice/incoming", form))  # Twilio has no record of this call
    _old_enough(frozen_clock)
    before = _snapshot(rt)
    caplog.set_level(logging.DEBUG)
    assert sweeper.sweep(rt).unknown == 1
    assert _snapshot(rt) == before

    _caller_at_twilio(twilio_api, form, status="completed")

    def twilio_fails(_sid: str) -> None:
        raise RestError(500, 20500, "Internal Server Error")

    twilio_api.on_call_fetch = twilio_fails
    frozen_clock.advance(SWEEP_RECHECK_SECONDS + 1)
    assert sweeper.sweep(rt).errors == 1
    assert _snapshot(rt) == before
    digits = re.sub(r"\D", "", CALLER_NUMBER)
    assert not [r for r in caplog.records if digits[-10:] in r.getMessage()]

    twilio_api.on_call_fetch = None  # Twilio answers again: the next sweep applies the end
    frozen_clock.advance(SWEEP_RECHECK_SECONDS + 1)
    assert sweeper.sweep(rt).ended == 1
    with rt.db.session() as s:
        assert s.scalar(select(Interaction)).status == ABANDONED


def test_agent_leg_end_waits_while_twilio_cannot_say_whether_its_caller_hung_up(
        rt, twilio, twilio_api, frozen_clock):
    agent_id, form, leg = _offered_and_rung(rt, twilio, twilio_api)
    _hang_up_at_twilio(twilio_api, form["CallSid"], "completed")
    _hang_up_at_twilio(twilio_api, leg.call_sid, "canceled")

    def caller_unknowable(sid: str) -> None:
        if sid == form["CallSid"]:
            raise RestError(503, 20503, "Service Unavailable")

    twilio_api.on_call_fetch = caller_unknowable
    _old_enough(frozen_clock)
    before = _snapshot(rt)
    swept = sweeper.sweep(rt)
    assert (swept.ended, swept.errors) == (0, 2)  # the leg is left for the next sweep
    assert _snapshot(rt) == before
    twilio_api.on_call_fetch = None
    frozen_clock.advance(SWEEP_RECHECK_SECONDS + 1)
    assert sweeper.sweep(rt).ended == 2
    drain(rt)
    with rt.db.session() as s:
        assert s.get(Agent, agent_id).missed_offers == 0
        assert s.scalar(select(Interaction)).status == ABANDONED
    assert rt.presence.state(agent_id) == "available"


def test_calls_beyond_one_jobs_share_are_swept_by_the_next_job(
        rt, twilio, twilio_api, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    forms = [_waiting_caller(rt, twilio, twilio_api, f"+1212555019{i}") for i in range(3)]
    for form in forms:
        _hang_up_at_twilio(twilio_api, form["CallSid"], "completed")
    _old_enough(frozen_clock)
    first = sweeper.sweep(rt, limit=2)
    assert (first.ended, first.more) == (2, True)
    second = sweeper.sweep(rt, limit=2)
    assert (second.ended, second.more) == (1, False)
    with rt.db.session() as s:
        assert [i.status for i in s.scalars(select(Interaction))] == [ABANDONED] * 3
    assert lines.length(rt.live, "support") == 0


def test_sweep_job_chains_another_job_for_the_calls_left_over(
        rt, twilio, twilio_api, frozen_clock, monkeypatch):
    monkeypatch.setattr(sweeper, "SWEEP_MAX_CALLS_PER_JOB", 2)
    seed_queues(rt, ("support", "Support", None))
    forms = [_waiting_caller(rt, twilio, twilio_api, f"+1212555018{i}") for i in range(5)]
    for form in forms:
        _hang_up_at_twilio(twilio_api, form["CallSid"], "completed")
    _old_enough(frozen_clock)
    sweeper.sweep_job(rt)
    assert [j for j in rt.jobs.job_ids if j.startswith("sweep-more-")]
    drain(rt)  # the chained jobs: 2 + 2 + 1
    with rt.db.session() as s:
        assert [i.status for i in s.scalars(select(Interaction))] == [ABANDONED] * 5
    assert len(_fetched(twilio_api)) == 5


def test_sweep_runs_once_per_interval_slot_from_worker_start_on_even_through_an_outage(
        rt, frozen_clock):
    registry = ScheduledJobRegistry(queue=rt.jobs)
    HoldlessWorker([rt.jobs], connection=rt.jobs_redis)  # a worker starting schedules it
    sweeper.schedule_next(rt)  # a second worker starting at the same moment: the same job
    slot = int(frozen_clock.time() // SWEEP_INTERVAL_SECONDS) + 1
    assert [j for j in registry.get_job_ids() if j.startswith("sweep-")] == [f"sweep-{slot}"]
    frozen_clock.advance(SWEEP_INTERVAL_SECONDS)
    outage = StatementOutage(rt.db.engine)
    outage.start()
    try:  # the database is down: this sweep fails (RQ retries it), the schedule goes on
        with pytest.raises(sqlalchemy.exc.OperationalError):
            sweeper.sweep_job(rt)
    finally:
        outage.end()
        outage.remove()
    assert sorted(j for j in registry.get_job_ids() if j.startswith("sweep-")) == sorted(
        [f"sweep-{slot}", f"sweep-{slot + 1}"])


# -- finding a call placed but never recorded -------------------------------------------------

def test_placed_call_lookup_skips_older_calls_calls_already_recorded_and_other_contacts(
        rt, twilio, twilio_api):
    _agent, _form, leg = _offered_and_rung(rt, twilio, twilio_api)  # alice's call is recorded
    since = leg.started_at
    store = twilio_api.store
    from datetime import timedelta
    store.add_call(CallResource("CA" + "1" * 32, ACCOUNT, "client:alice", LINE_NUMBER,
                                "outbound-api", status="completed",
                                created=since - timedelta(seconds=60)))
    store.add_call(CallResource("CA" + "2" * 32, ACCOUNT, "client:bob", LINE_NUMBER,
                                "outbound-api", status="ringing", created=since))
    store.add_call(CallResource("CA" + "3" * 32, ACCOUNT, "client:alice", LINE_NUMBER,
                                "inbound", status="ringing", created=since))
    assert adoption.placed_call(rt, "client:alice", since) is None
    unrecorded = "CA" + "4" * 32
    store.add_call(CallResource(unrecorded, ACCOUNT, "client:alice", LINE_NUMBER,
                                "outbound-api", status="queued", created=since))
    assert adoption.placed_call(rt, "client:alice", since).sid == unrecorded
    store.update_call(unrecorded, status="ringing")  # now with a start time
    assert adoption.placed_call(rt, "client:alice", since).sid == unrecorded


# -- through the simulator: Twilio's status is what the phone network knows ------------------

def test_simulated_caller_whose_status_callback_never_comes_is_ended_by_the_sweeper(
        live):  # noqa: F811 - the fixture imported above
    seed_queues(live.rt, ("support", "Support", None))
    # The caller hangs up while the callback offer is spoken, before <Enqueue>: a hang-up
    # during a <Gather> with no key posts nothing (www.twilio.com/docs/voice/twiml/gather),
    # and no status callback was asked for. (Hanging up inside <Enqueue> would post its
    # action with QueueResult=hangup, which the app applies: twilio.com/docs/voice/twiml/enqueue)
    caller = live.network.place_call("+12125550185", LINE_NUMBER, patience=2, status_url=None)
    caller.wait_ended(timeout=4)
    assert ("hangup", "patience") in caller.events()
    assert not any(e[0] == "enqueue" for e in caller.events())
    assert live.interaction(caller).status == WAITING  # the app was never told
    assert lines.length(live.rt.live, "support") == 1
    previous, live.rt.clock = live.rt.clock, clock.FrozenClock(
        time.time() + SWEEP_MIN_AGE_SECONDS + 1)
    try:
        swept = sweeper.sweep(live.rt)
    finally:
        live.rt.clock = previous
    assert (swept.asked, swept.ended) == (1, 1)
    assert live.interaction(caller).status == ABANDONED
    assert lines.length(live.rt.live, "support") == 0


# -- callbacks ------------------------------------------------------------------------------

def test_callback_agent_ring_out_and_customer_hang_up_with_lost_reports_are_applied(
        rt, twilio, twilio_api, frozen_clock, worker):
    from models.callbacks import BOOKED
    from tests.callback_steps import agent_answers, attempt_row, book_callback, only_callback
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"])
    book_callback(twilio)
    worker()
    make_available(rt, alice)
    worker()
    first = attempt_row(rt)
    _hang_up_at_twilio(twilio_api, first.agent_call_sid, "no-answer")  # report lost
    _old_enough(frozen_clock)
    assert sweeper.sweep(rt).applied == [f"cb-agent:{first.id}"]
    assert attempt_row(rt, first.id).outcome == ATTEMPT_AGENT_MISSED
    assert only_callback(rt).status == BOOKED  # back at its place in line ...
    with rt.db.session() as s:  # ... and alice, freed with her miss counted, is offered it
        assert s.get(Agent, alice).missed_offers == 1
        assert s.scalar(select(Assignment).where(Assignment.ended_at.is_(None))) is not None

    worker()  # she is rung again: she answers, the customer is dialled and talks
    second, _root, _form = agent_answers(twilio, rt)
    assert second.id != first.id
    worker()
    second = attempt_row(rt, second.id)
    twiml(twilio.post(f"/voice/callback/customer?attempt={second.id}",
                      call_form(sid=second.call_sid, from_=LINE_NUMBER, AnsweredBy="human")))
    for sid in (second.call_sid, second.agent_call_sid):  # both hang up; reports lost
        _hang_up_at_twilio(twilio_api, sid, "completed")
    _old_enough(frozen_clock)
    assert sorted(sweeper.sweep(rt).applied) == sorted(
        [f"cb-agent:{second.id}", f"cb-customer:{second.id}"])
    settled = attempt_row(rt, second.id)
    assert (settled.outcome, settled.ended_at is not None) == (ATTEMPT_FINISHED, True)
    assert rt.presence.state(alice) == "wrap-up"

"""Faults on the caller's path: the database or Redis unreachable, a worker killed mid-job.

Callers always hear something sensible (an apology and a short retry, or a polite goodbye),
nothing is left half-written, and service resumes by itself once the store is back.
"""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler
from sqlalchemy import select

from holdless.migrate import upgrade
from models.entities import WAITING, Agent, Assignment, Interaction, Leg
from queueing import lines
from tests.conftest import SignedTwilioClient, app_on
from tests.daytime import daytime_clock_spec
from tests.faults import (
    PausableProxy,
    RedisServer,
    StatementOutage,
    WorkerProcess,
    drain,
    wait_until,
)
from tests.helpers import (
    call_form,
    make_available,
    reset_stores,
    seed_agent,
    seed_queues,
    spoken,
    twiml,
)

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "holdless_reliability_faults"


def consistent(rt, agent_id: int | None = None) -> None:
    """Redis and the database tell the same story: a caller is in a line iff recorded as
    waiting; an agent is busy iff they hold an open assignment, which has its connect job."""
    with rt.db.session() as s:
        for i in s.scalars(select(Interaction)):
            in_line = lines.position(rt.live, "support", lines.caller_entry_id(i.id)) is not None
            assert in_line == (i.status == WAITING), (i.status, in_line)
        open_ = s.scalars(select(Assignment).where(Assignment.ended_at.is_(None))).all()
        if agent_id is not None:
            busy = rt.presence.state(agent_id) == "busy"
            assert busy == bool(open_) == (s.get(Agent, agent_id).state == "busy")
        for a in open_:
            assert a.id in {int(j.split("-")[1]) for j in rt.jobs.job_ids} | {
                leg.assignment_id for leg in s.scalars(select(Leg))}


def retry_path(root) -> str:
    """The webhook an apology sends the caller back to."""
    url = root.find("Redirect").text
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- the database failing at every point of a caller's first webhook ------------------------

def test_database_failing_at_any_statement_of_the_first_webhook_leaves_nothing_half_written(
        rt, twilio, twilio_api):
    outage = StatementOutage(rt.db.engine)
    points = 0
    try:
        for n in range(200):
            reset_stores(rt)
            seed_queues(rt, ("support", "Support", None))
            agent_id = seed_agent(rt, "alice", ["support"])
            make_available(rt, agent_id)
            dials = len(twilio_api.calls_created())
            form = call_form(from_="+12125550166")
            outage.start(after=n)
            root = twiml(twilio.post("/voice/incoming", form))
            failed = outage.seen > n
            outage.end()
            if not failed:
                break
            points += 1
            assert root.find("Redirect") is not None and "technical problem" in root.find(
                "Say").text
            consistent(rt, agent_id)
            again = twiml(twilio.post(retry_path(root), form))
            assert again.find("Enqueue") is not None
            drain(rt)
            consistent(rt, agent_id)
            assert len(twilio_api.calls_created()) - dials == 1
            assert rt.presence.state(agent_id) == "busy"
    finally:
        outage.remove()
    assert points >= 5  # the webhook does that many reads and writes; each one was failed
    print(f"database failed at each of {points} statements/commits of the first webhook")


def test_unreachable_store_on_every_voice_webhook_answers_apology_never_5xx(rt, twilio):
    seed_queues(rt, ("sales", "Sales", "1"), ("support", "Support", "2"))
    form = call_form(from_="+12125550167")
    twiml(twilio.post("/voice/incoming", form))
    twiml(twilio.post("/voice/menu?attempt=1", {**form, "Digits": "2"}))
    outage = StatementOutage(rt.db.engine)
    outage.start()
    retries = {}
    try:
        for path in ("/voice/incoming", "/voice/menu?attempt=1", "/voice/rejoin",
                     "/voice/conference/caller", "/voice/agent/whisper?leg=1"):
            root = twiml(twilio.post(path, {**form, "Digits": "1"}))
            assert [c.tag for c in root] == ["Say", "Pause", "Redirect"]
            assert "retry=1" in root.find("Redirect").text
            retries[path] = retry_path(root)
        last = twiml(twilio.post("/voice/incoming?retry=2", form))
        assert [c.tag for c in last] == ["Say", "Hangup"] and "call again" in last[0].text
    finally:
        outage.end()
        outage.remove()
    root = twiml(twilio.post("/voice/incoming?retry=1", form))
    assert root.find("Enqueue").text == "support"
    assert "Digits=1" in retries["/voice/menu?attempt=1"]  # the key travels in the retry URL


def test_outage_retry_after_a_key_press_picks_the_key_though_redirect_posts_no_digits(
        rt, twilio):
    seed_queues(rt, ("sales", "Sales", "1"), ("support", "Support", "2"))
    form = call_form(from_="+12125550174")
    twiml(twilio.post("/voice/incoming", form))
    outage = StatementOutage(rt.db.engine)
    outage.start()
    try:
        root = twiml(twilio.post("/voice/menu?attempt=1", {**form, "Digits": "1"}))
    finally:
        outage.end()
        outage.remove()
    # Twilio follows the apology's <Redirect> with the standard call parameters only
    # (www.twilio.com/docs/voice/twiml/redirect): the retry is posted `form`, no Digits
    again = twiml(twilio.post(retry_path(root), form))
    assert again.find("Enqueue").text == "sales"


def test_status_callbacks_during_a_database_outage_are_applied_by_the_worker_afterwards(
        rt, twilio, twilio_api):
    seed_queues(rt, ("support", "Support", None))
    agent_id = seed_agent(rt, "alice", ["support"])
    form = call_form(from_="+12125550173")
    twiml(twilio.post("/voice/incoming", form))
    make_available(rt, agent_id)
    drain(rt)
    with rt.db.session() as s:
        leg = s.scalar(select(Leg))
    agent = call_form(sid=leg.call_sid, from_="+12125550000")
    outage = StatementOutage(rt.db.engine)
    outage.start()
    try:  # Twilio does not retry status callbacks: each must be kept, not refused
        assert twilio.post("/voice/status", {**form, "CallStatus": "completed"}).status_code \
            == 202
        assert twilio.post(f"/voice/status/agent?leg={leg.id}",
                           {**agent, "CallStatus": "canceled"}).status_code == 202
    finally:
        outage.end()
        outage.remove()
    drain(rt)
    with rt.db.session() as s:
        assert s.scalar(select(Interaction)).status == "abandoned"
        assert s.scalar(select(Leg)).ended_at is not None
        assert s.get(Agent, agent_id).missed_offers == 0
    assert rt.presence.state(agent_id) == "available"
    assert not list(rt.live.scan_iter("hl:entry:*"))
    consistent(rt, agent_id)


# -- PostgreSQL behind a proxy that is cut for some seconds --------------------------------

def _postgres_url(port: int) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{PG_DB}"


@pytest.fixture
def pg_behind_proxy(redis_url, twilio_api, frozen_clock):
    """An app on PostgreSQL reached through a pausable proxy (skipped without PostgreSQL)."""
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (PG_DB,)).fetchone():
                conn.execute(f"CREATE DATABASE {PG_DB}")
    except psycopg.Error:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    upgrade(_postgres_url(5432))
    proxy = PausableProxy(("127.0.0.1", 5432))
    with app_on(_postgres_url(proxy.port), redis_url, twilio_api.base_url) as (app, rt):
        yield app, rt, proxy
    proxy.close()


def test_postgres_unreachable_for_seconds_callers_hear_apology_then_service_resumes(
        pg_behind_proxy):
    app, rt, proxy = pg_behind_proxy
    twilio = SignedTwilioClient(app.test_client())
    seed_queues(rt, ("support", "Support", None))
    first = call_form(from_="+12125550168")
    twiml(twilio.post("/voice/incoming", first))
    proxy.pause()
    outage_started = time.monotonic()
    second = call_form(from_="+12125550169")
    answers = []
    while time.monotonic() - outage_started < 3:  # "some seconds" of outage
        t = time.monotonic()
        answers.append((twiml(twilio.post("/voice/incoming", second)), time.monotonic() - t))
        time.sleep(0.5)
    assert all(root.find("Redirect") is not None for root, _ in answers), [
        ET.tostring(root) for root, _ in answers]
    assert max(took for _, took in answers) < 5
    hold = twiml(twilio.post("/voice/hold", first))  # the hold loop needs Redis only
    assert hold.find("Gather") is not None
    proxy.resume()
    resumed = time.monotonic()
    root = twiml(twilio.post(retry_path(answers[0][0]), second))
    recovery = time.monotonic() - resumed
    assert root.find("Enqueue") is not None and "second in line" in spoken(root)
    consistent(rt)
    with rt.db.session() as s:
        assert [i.status for i in s.scalars(select(Interaction).order_by(Interaction.id))] == [
            WAITING, WAITING]
    print(f"postgres outage: {len(answers)} apologies, slowest {max(a for _, a in answers):.2f}s;"
          f" first answer after resume in {recovery:.2f}s")


# -- Redis stopped and started on the same socket ------------------------------------------

def test_redis_down_callers_hear_apology_and_after_restart_with_aof_keep_their_place(own_redis):
    app, rt, server = own_redis
    twilio = SignedTwilioClient(app.test_client())
    seed_queues(rt, ("support", "Support", None))
    first = call_form(from_="+12125550170")
    twiml(twilio.post("/voice/incoming", first))
    time.sleep(1.2)  # appendfsync everysec: at most the last second is at risk
    server.stop(kill=True)
    second = call_form(from_="+12125550171")
    root = twiml(twilio.post("/voice/incoming", second))
    assert root.find("Redirect") is not None
    hold = twiml(twilio.post("/voice/hold", first))
    assert [c.tag for c in hold] == ["Say", "Pause"]
    with rt.db.session() as s:
        statuses = [i.status for i in s.scalars(select(Interaction).order_by(Interaction.id))]
    # the second call's one transaction (record + join) rolled back whole: nothing half-written
    assert statuses == [WAITING]
    down_for = time.monotonic()
    server.start()
    root = twiml(twilio.post(retry_path(root), second))
    print(f"redis restart: back and serving in {time.monotonic() - down_for:.2f}s")
    assert "second in line" in spoken(root)  # (an offer is spoken inside its Gather)
    assert [e.call_sid for e in lines.waiting(rt.live, "support")] == [
        first["CallSid"], second["CallSid"]]
    consistent(rt)


def test_redis_restarted_without_persistence_loses_the_line_but_the_database_keeps_it(
        tmp_path, redis_url):
    if not RedisServer.available():
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path, aof=False).start()
    r = redis.Redis.from_url(server.url, decode_responses=True)
    try:
        lines.join(r, lines.Entry("i:1", "support", lines.CALLER, 1.0, "CA" + "1" * 32, 1))
        server.stop()
        server.start()
        assert lines.length(r, "support") == 0  # what a reconciler must rebuild from the DB
    finally:
        r.close()
        server.stop()


# -- a worker killed with SIGKILL in the middle of the connect job -------------------------

def _worker_env(rt, tmp_path: Path) -> dict[str, str]:
    s = rt.settings
    return {"DATABASE_URL": s.database_url, "REDIS_URL": rt.redis_url,
            "TWILIO_AUTH_TOKEN": s.twilio_auth_token, "PUBLIC_BASE_URL": s.public_base_url,
            "TWILIO_API_BASE_URL": s.twilio_api_base_url, "HOLDLESS_ENV": "testing",
            "HOLDLESS_INSTANCE_PATH": str(tmp_path), "PYTHONPATH": os.getcwd(),
            # the worker's clock: real time moved to a working afternoon (tests/daytime.py)
            "HOLDLESS_CLOCK": daytime_clock_spec()}


def _offered_call(rt, twilio) -> tuple[int, dict[str, str]]:
    seed_queues(rt, ("support", "Support", None))
    agent_id = seed_agent(rt, "alice", ["support"])
    make_available(rt, agent_id)
    form = call_form(from_="+12125550172")
    twiml(twilio.post("/voice/incoming", form))
    assert [j for j in rt.jobs.job_ids if j.startswith("connect-")]
    return agent_id, form


def _kill_mid_connect(rt, tmp_path: Path, mode: str) -> None:
    marker = tmp_path / "marker"
    worker = WorkerProcess(_worker_env(rt, tmp_path), tmp_path / "worker.log", mode=mode,
                           marker=marker)
    try:
        wait_until(marker.exists, timeout=60)
    finally:
        worker.kill()


def _abandoned_jobs_found_later(rt) -> None:
    """What a live worker's maintenance does once the dead job's heartbeat has lapsed
    (timeout + 60 s); here the clock is moved instead of waited for (the soak test waits)."""
    StartedJobRegistry(queue=rt.jobs).cleanup(timestamp=time.time() + 3600)


def _restart_worker(rt, tmp_path: Path) -> str:
    """A new worker takes the re-queued job. The retry waits in RQ's scheduled registry for
    its first interval; the dead worker's scheduler still holds the scheduler lock for a
    while, so move the due job here as the new worker's scheduler will once it has the lock."""
    time.sleep(1.1)
    scheduler = RQScheduler([rt.jobs], connection=rt.jobs_redis)
    scheduler.prepare_registries([rt.jobs.name])
    scheduler.enqueue_scheduled_jobs()
    return WorkerProcess(_worker_env(rt, tmp_path), tmp_path / "worker.log",
                         burst=True).wait(timeout=60)


@pytest.mark.slow
def test_worker_killed_after_writing_the_leg_before_dialling_rings_the_agent_once_on_restart(
        rt, twilio, twilio_api, tmp_path):
    _agent, _form = _offered_call(rt, twilio)
    _kill_mid_connect(rt, tmp_path, "hang-before-dial")
    with rt.db.session() as s:
        assert s.scalar(select(Leg)) is not None  # the promise was written first
    assert twilio_api.calls_created() == []
    _abandoned_jobs_found_later(rt)
    _restart_worker(rt, tmp_path)
    assert len(twilio_api.calls_created()) == 1
    with rt.db.session() as s:
        legs = s.scalars(select(Leg)).all()
    assert len(legs) == 1 and (legs[0].call_sid or "").startswith("CA")


@pytest.mark.slow
def test_worker_killed_after_dialling_does_not_ring_the_agent_again(
        rt, twilio, twilio_api, tmp_path):
    _agent, _form = _offered_call(rt, twilio)
    _kill_mid_connect(rt, tmp_path, "hang-after-dial")
    assert len(twilio_api.calls_created()) == 1
    sid = (tmp_path / "marker").read_text()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg))
    # Twilio reports the new call at once ("initiated"): the dial is known to have happened
    resp = twilio.post(f"/voice/status/agent?leg={leg.id}",
                       call_form(sid=sid, from_="+12125550000", CallStatus="initiated"))
    assert resp.status_code == 204
    _abandoned_jobs_found_later(rt)
    _restart_worker(rt, tmp_path)
    assert len(twilio_api.calls_created()) == 1
    with rt.db.session() as s:
        assert s.scalar(select(Leg)).call_sid == sid


@pytest.mark.soak
def test_soak_worker_killed_mid_connect_a_running_worker_rings_the_agent_in_real_time(
        rt, twilio, twilio_api, tmp_path):
    _offered_call(rt, twilio)
    _kill_mid_connect(rt, tmp_path, "hang-before-dial")
    killed = time.monotonic()
    worker = WorkerProcess(_worker_env(rt, tmp_path), tmp_path / "worker.log")
    try:
        took = wait_until(lambda: len(twilio_api.calls_created()) >= 1, timeout=240, step=0.5)
        time.sleep(20)  # and no second ring
    finally:
        worker.kill()
    assert len(twilio_api.calls_created()) == 1
    print(f"worker SIGKILL mid-connect: agent rung {took:.0f}s after the kill "
          f"({time.monotonic() - killed:.0f}s observed in all)")

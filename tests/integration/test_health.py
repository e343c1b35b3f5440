"""GET /health: which stores the web process reaches and the job queue's depth, 200 only
when both answer; and REDIS_WAIT_REPLICAS, the wait for replicas after enqueueing a job
(Redis WAIT, on a real primary and replica)."""

from __future__ import annotations

import dataclasses
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entrypoints.runtime import Runtime
from holdless import tasks
from holdless.settings import Settings
from holdless.timeouts import REDIS_WAIT_TIMEOUT_MS
from tests.conftest import make_app
from tests.failover_stores import SentinelRedis, free_port, wait_until


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_health_is_200_with_both_stores_and_counts_the_waiting_jobs(
        client: Any, rt: Runtime) -> None:
    rt.enqueue(tasks.FINISH_CALL, 1)
    rt.enqueue(tasks.FINISH_CALL, 2, delay=600)
    reply = client.get("/health")
    assert reply.status_code == 200
    assert reply.get_json() == {"database": "reachable", "redis": "reachable",
                                "jobs_waiting": 1, "jobs_scheduled": 1}
    assert reply.headers["Cache-Control"] == "no-store"


def test_health_is_503_naming_redis_when_redis_does_not_answer(settings: Settings) -> None:
    port = closed_port()
    app = make_app(settings.database_url, f"redis://127.0.0.1:{port}/0",
                   settings.twilio_api_base_url)
    try:
        reply = app.test_client().get("/health")
    finally:
        app.extensions["holdless"].close()
    assert reply.status_code == 503
    assert reply.get_json() == {"database": "reachable", "redis": "unreachable",
                                "jobs_waiting": None, "jobs_scheduled": None}
    assert str(port) not in reply.get_data(as_text=True)  # no address to an anonymous caller


def test_health_is_503_naming_the_database_when_it_does_not_answer(settings: Settings) -> None:
    port = closed_port()
    app = make_app(f"postgresql+psycopg://holdless@127.0.0.1:{port}/holdless",
                   settings.redis_url, settings.twilio_api_base_url)
    try:
        reply = app.test_client().get("/health")
    finally:
        app.extensions["holdless"].close()
    assert reply.status_code == 503
    body = reply.get_json()
    assert (body["database"], body["redis"]) == ("unreachable", "reachable")
    assert str(port) not in reply.get_data(as_text=True)


@pytest.mark.parametrize("replicas", [0, 1])
def test_redis_wait_replicas_without_a_replica_says_so_once_and_then_does_not_wait(
        settings: Settings, rt: Runtime, replicas: int, caplog: pytest.LogCaptureFixture) -> None:
    waiting = Runtime(dataclasses.replace(settings, redis_wait_replicas=replicas))
    try:
        with caplog.at_level(logging.WARNING, logger="holdless.redis_clients"):
            began = time.monotonic()
            waiting.enqueue(tasks.FINISH_CALL, 7, job_id="wait-now")
            waiting.enqueue(tasks.FINISH_CALL, 8, job_id="wait-later", delay=600)
            waited = time.monotonic() - began
    finally:
        waiting.close()
    assert rt.jobs.job_ids == ["wait-now"]  # both enqueued whole, as without the wait
    assert rt.jobs.scheduled_job_registry.get_job_ids() == ["wait-later"]
    # the test's Redis has no replica: with a wait asked for, the first job says so
    acknowledged = [r.getMessage() for r in caplog.records if "acknowledged" in r.message]
    expected = ["a job was acknowledged by 0 of 1 replicas within 100 ms; jobs go on "
                "without waiting for 10 s"] if replicas else []
    assert acknowledged == expected
    assert (waited >= REDIS_WAIT_TIMEOUT_MS / 1000) == bool(replicas)


@pytest.fixture
def primary_and_replica(tmp_path: Path) -> Iterator[SentinelRedis]:
    """A redis-server primary and its replica on spare loopback ports (no Sentinels)."""
    if not SentinelRedis.available():
        pytest.skip("needs redis-server")
    pair = SentinelRedis(tmp_path)
    pair.ports = [free_port(), free_port()]
    try:
        pair.start_server(pair.ports[0])
        pair.start_server(pair.ports[1], replica_of=pair.ports[0])
        wait_until(lambda: pair.client(pair.ports[1]).info("replication")[
            "master_link_status"] == "up", "the replica did not sync", 30)
        yield pair
    finally:
        pair.stop()


def test_redis_wait_replicas_returns_once_the_replica_holds_the_job(
        settings: Settings, primary_and_replica: SentinelRedis,
        caplog: pytest.LogCaptureFixture) -> None:
    primary, replica = primary_and_replica.ports
    waiting = Runtime(dataclasses.replace(
        settings, redis_url=f"redis://127.0.0.1:{primary}/0", redis_wait_replicas=1))
    copy = primary_and_replica.client(replica)
    try:
        with caplog.at_level(logging.WARNING, logger="holdless.redis_clients"):
            for n in range(20):
                waiting.enqueue(tasks.FINISH_CALL, n, job_id=f"held-{n}")
                assert copy.exists(f"rq:job:held-{n}")  # on the replica when enqueue returns
    finally:
        waiting.close()
        copy.close()
    assert not [r for r in caplog.records if "acknowledged" in r.message]

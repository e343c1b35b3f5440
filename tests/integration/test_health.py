"""GET /health: which stores the web process reaches and the job queue's depth, 200 only
when both answer; and REDIS_WAIT_REPLICAS, the wait for replicas after enqueueing a job."""

from __future__ import annotations

import dataclasses
import logging
import socket
from typing import Any

import pytest

from entrypoints.runtime import Runtime
from holdless import tasks
from holdless.settings import Settings
from tests.conftest import make_app


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
def test_redis_wait_replicas_waits_for_replicas_after_enqueueing_and_says_when_too_few(
        settings: Settings, rt: Runtime, replicas: int, caplog: pytest.LogCaptureFixture) -> None:
    waiting = Runtime(dataclasses.replace(settings, redis_wait_replicas=replicas))
    try:
        with caplog.at_level(logging.WARNING, logger="holdless.redis_clients"):
            waiting.enqueue(tasks.FINISH_CALL, 7, job_id="wait-now")
            waiting.enqueue(tasks.FINISH_CALL, 8, job_id="wait-later", delay=600)
    finally:
        waiting.close()
    assert rt.jobs.job_ids == ["wait-now"]  # both enqueued whole, as without the wait
    assert rt.jobs.scheduled_job_registry.get_job_ids() == ["wait-later"]
    # the test's Redis has no replica: with a wait asked for, each job says so
    acknowledged = [r.getMessage() for r in caplog.records if "acknowledged" in r.message]
    expected = ["a job was acknowledged by 0 of 1 replicas within 100 ms"] * 2 if replicas else []
    assert acknowledged == expected

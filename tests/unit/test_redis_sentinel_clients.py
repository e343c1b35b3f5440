"""REDIS_SENTINELS and REDIS_MASTER_NAME give every process a client that asks the Sentinels
where the primary is: the web app's runtime, the rq command line's connection (its config
module), the worker's own connection made from it, and RQ's scheduler, which rebuilds its
connection from the worker's. Nothing here connects: the clients are inspected."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.sentinel import SentinelConnectionPool, SentinelManagedConnection
from rq import Queue
from rq.cli.helpers import get_redis_from_config, read_config_file
from rq.scheduler import RQScheduler

from entrypoints.runtime import running_redis
from entrypoints.web import create_app
from holdless import redis_clients
from holdless.settings import Settings, SettingsError, parse_sentinels

SENTINELS = "127.0.0.1:26391, 127.0.0.1:26392,sentinel-3.example:26393"
ADDRESSES = [("127.0.0.1", 26391), ("127.0.0.1", 26392), ("sentinel-3.example", 26393)]
MASTER = "callcenter"


@pytest.fixture
def sentinel_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The environment of a process of a stack on Redis Sentinel."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("REDIS_SENTINELS", SENTINELS)
    monkeypatch.setenv("REDIS_MASTER_NAME", MASTER)
    monkeypatch.setenv("HOLDLESS_ENV", "testing")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    monkeypatch.setenv("HOLDLESS_INSTANCE_PATH", str(tmp_path))


def assert_through_sentinel(client: redis.Redis) -> None:
    """`client` opens its connections to the primary the Sentinels name MASTER."""
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.is_master
    assert pool.service_name == MASTER
    assert [(s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs[
        "port"]) for s in pool.sentinel_manager.sentinels] == ADDRESSES


def test_sentinel_addresses_are_read_with_the_default_port_and_a_bad_one_is_named() -> None:
    assert parse_sentinels("a:1, [::1]:26380 ,b") == (("a", 1), ("::1", 26380), ("b", 26379))
    assert parse_sentinels("") == ()
    with pytest.raises(SettingsError, match="'a:port' is not one"):
        parse_sentinels("b:2,a:port")
    with pytest.raises(SettingsError, match="'a:70000' is not one"):
        parse_sentinels("a:70000")


def test_redis_url_and_sentinels_together_are_refused(sentinel_env: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390/0")
    with pytest.raises(SettingsError, match="REDIS_URL or REDIS_SENTINELS, not both"):
        Settings.from_env().check()


def test_web_app_runtime_reaches_redis_through_the_sentinels(sentinel_env: None) -> None:
    app = create_app()
    rt = app.extensions["holdless"]
    try:
        assert_through_sentinel(rt.live)
        assert_through_sentinel(rt.jobs_redis)
        assert_through_sentinel(rt.jobs.connection)
        assert rt.live.get_encoder().decode_responses  # the live client decodes, as before
    finally:
        rt.close()


def _rq_command_line_connection() -> redis.Redis:
    """The connection `rq worker -c entrypoints.rq_config` makes (RQ's own code)."""
    sys.modules.pop("entrypoints.rq_config", None)  # it reads the environment when imported
    return get_redis_from_config(read_config_file("entrypoints.rq_config"))


def test_worker_and_its_scheduler_reach_redis_through_the_sentinels(sentinel_env: None) -> None:
    command_line = _rq_command_line_connection()
    assert_through_sentinel(command_line)
    worker_connection = redis_clients.worker_client(command_line)  # HoldlessWorker's own
    assert_through_sentinel(worker_connection)
    assert worker_connection.connection_pool is not command_line.connection_pool
    assert worker_connection.connection_pool.connection_kwargs.get("socket_timeout") is None
    scheduler = RQScheduler([Queue("holdless", connection=worker_connection)],
                            connection=worker_connection)
    connection: Any = scheduler.connection.connection_pool.make_connection()
    assert isinstance(connection, SentinelManagedConnection)
    assert connection.connection_pool.service_name == MASTER  # asks the Sentinels, too


def test_without_sentinels_the_rq_command_line_uses_redis_url(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_SENTINELS", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390/3")
    connection = _rq_command_line_connection()
    kwargs = connection.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6390, 3)


def test_command_line_reaches_the_stacks_redis_through_the_sentinels(sentinel_env: None) -> None:
    live = running_redis(Settings.from_env())  # what `holdless admin` tells of its changes
    assert live is not None
    assert_through_sentinel(live)
    live.close()

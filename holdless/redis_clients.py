"""The Redis clients of every process (web, worker, RQ's scheduler, the command line): on one
server (REDIS_URL), or on whichever server the Sentinels name primary (REDIS_SENTINELS and
REDIS_MASTER_NAME).

Through Sentinel a client asks the Sentinels for the primary's address whenever it opens a
connection (redis-py's `Sentinel.master_for`): after a failover the connections to the old
primary fail, are dropped, and the next one is opened to the promoted replica, with no restart
of any process. Keys and Lua scripts are the same on either: a script loaded by its SHA on the
old primary is loaded again on the new one when it answers NOSCRIPT (redis-py's `Script`).
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

from holdless.settings import Settings
from holdless.timeouts import (
    REDIS_CONNECT_TIMEOUT_SECONDS,
    REDIS_WAIT_TIMEOUT_MS,
    SENTINEL_TIMEOUT_SECONDS,
    redis_options,
)

log = logging.getLogger(__name__)

# The keyword arguments a client of the Sentinels themselves is built with: a Sentinel that
# does not answer is passed over for the next one within this bound.
SENTINEL_OPTIONS: dict[str, Any] = {"socket_connect_timeout": SENTINEL_TIMEOUT_SECONDS,
                                    "socket_timeout": SENTINEL_TIMEOUT_SECONDS}


def connect(settings: Settings, url: str, *, decode: bool = False, **options: Any) -> redis.Redis:
    """A client on the primary: through the Sentinels when REDIS_SENTINELS is set, else on
    `url`; `options` are redis-py's connection keyword arguments."""
    if settings.redis_sentinels:
        sentinel = Sentinel(settings.redis_sentinels, sentinel_kwargs=SENTINEL_OPTIONS, **options)
        return sentinel.master_for(settings.redis_master_name, decode_responses=decode)
    return redis.Redis.from_url(url, decode_responses=decode, **options)


def app_client(settings: Settings, url: str, *, decode: bool = False) -> redis.Redis:
    """A client for webhooks, jobs and the command line: every wait bounded
    (holdless.timeouts), strings decoded when `decode`."""
    return connect(settings, url, decode=decode, **redis_options())


def worker_options(connection: redis.Redis) -> dict[str, Any]:
    """The connection keyword arguments of `connection`'s pool, as an RQ worker needs them:
    its connect bounded, no reply timeout of ours (RQ sets its own, just above its blocking
    wait for jobs), and redis-py's own retries (its command channel expects them)."""
    kwargs = {k: v for k, v in connection.connection_pool.connection_kwargs.items()
              if k not in ("socket_timeout", "health_check_interval", "retry", "connection_pool")}
    kwargs["socket_connect_timeout"] = REDIS_CONNECT_TIMEOUT_SECONDS
    kwargs["retry"] = Retry(ExponentialWithJitterBackoff(base=0.01, cap=1), 10)  # redis-py's
    return kwargs


def worker_client(connection: redis.Redis) -> redis.Redis:
    """A client of the worker's own on the server `connection` reaches (the same Sentinels and
    primary name when it goes through Sentinel), on a pool of its own: no connection opened
    earlier (by the rq command line, or an app sharing the client in tests) keeps a shorter
    timeout that breaks RQ's blocking wait."""
    pool = connection.connection_pool
    kwargs = worker_options(connection)
    if isinstance(pool, SentinelConnectionPool):
        own: redis.ConnectionPool = SentinelConnectionPool(
            pool.service_name, pool.sentinel_manager, is_master=pool.is_master,
            check_connection=pool.check_connection, connection_class=pool.connection_class,
            **kwargs)
    else:
        own = type(pool)(connection_class=pool.connection_class, **kwargs)
    return redis.Redis(connection_pool=own)


def rq_config(settings: Settings) -> dict[str, Any]:
    """What the `rq` command line reads from its config module (`rq worker -c`, RQ's
    documented SENTINEL dictionary or REDIS_URL) for these settings."""
    if settings.redis_sentinels:
        return {"SENTINEL": {
            "INSTANCES": list(settings.redis_sentinels),
            "MASTER_NAME": settings.redis_master_name,
            "DB": 0,
            "SOCKET_TIMEOUT": None,  # RQ's blocking wait for jobs sets its own
            "CONNECTION_KWARGS": {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS},
            "SENTINEL_KWARGS": SENTINEL_OPTIONS,
        }}
    return {"REDIS_URL": settings.redis_url}


def acknowledged(pipe: redis.client.Pipeline, replicas: int) -> int:
    """Run `pipe` (a pipeline without MULTI: WAIT does not block inside one), then wait up to
    REDIS_WAIT_TIMEOUT_MS for `replicas` replicas to hold its writes (Redis WAIT); returns how
    many did. Fewer is logged, not refused: the writes are on the primary, at risk only if it
    is lost before a replica copies them."""
    pipe.wait(replicas, REDIS_WAIT_TIMEOUT_MS)
    held = int(pipe.execute()[-1])
    if held < replicas:
        log.warning("a job was acknowledged by %d of %d replicas within %d ms", held, replicas,
                    REDIS_WAIT_TIMEOUT_MS)
    return held

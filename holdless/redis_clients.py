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
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool
from rq import Queue

from holdless.settings import Settings
from holdless.tasks import RQ_QUEUE_NAME
from holdless.timeouts import (
    REDIS_CONNECT_TIMEOUT_SECONDS,
    REDIS_WAIT_TIMEOUT_MS,
    SENTINEL_TIMEOUT_SECONDS,
    redis_options,
)

log = logging.getLogger(__name__)

# After a WAIT fell short (no replica attached), jobs go on without waiting this long before
# the next WAIT: a primary without replicas does not slow every enqueue by the WAIT's limit.
ACK_PAUSE_SECONDS = 10.0

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


class AcknowledgedJobs:
    """Enqueues jobs that replicas must hold before enqueueing returns (REDIS_WAIT_REPLICAS):
    on one connection of its own, so that WAIT (which counts the writes of its own
    connection) follows the job's writes, one enqueue at a time per process. A WAIT that
    falls short is logged, and for ACK_PAUSE_SECONDS jobs go on without waiting (no replica
    is attached, as after a failover until the old primary returns): a job is never refused,
    it is only at risk if its primary is lost before a replica copies it."""

    def __init__(self, settings: Settings, url: str, replicas: int) -> None:
        """A client of one connection on the same primary as the app's, asking `replicas`."""
        self.replicas = replicas
        self.client = connect(settings, url, max_connections=1, **redis_options())
        self.queue = Queue(RQ_QUEUE_NAME, connection=self.client)
        self._lock = threading.Lock()
        self._paused_until = 0.0

    def enqueue(self, enqueue: Callable[[Queue], Any]) -> int:
        """Call `enqueue` with this connection's queue, then wait up to REDIS_WAIT_TIMEOUT_MS
        for the replicas (unless paused); returns how many hold the job."""
        with self._lock:
            enqueue(self.queue)
            if time.monotonic() < self._paused_until:
                return 0
            held = int(self.client.wait(self.replicas, REDIS_WAIT_TIMEOUT_MS))
            if held < self.replicas:
                self._paused_until = time.monotonic() + ACK_PAUSE_SECONDS
                log.warning("a job was acknowledged by %d of %d replicas within %d ms; jobs "
                            "go on without waiting for %d s", held, self.replicas,
                            REDIS_WAIT_TIMEOUT_MS, ACK_PAUSE_SECONDS)
            return held

    def close(self) -> None:
        """Release the connection."""
        self.client.close()

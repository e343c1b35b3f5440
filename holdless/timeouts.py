"""How long Holdless waits for its stores, named in one place.

Twilio waits 15 s for a webhook's answer; past that it requests the number's Fallback URL
(error 11205) or plays its own "application error" and ends the call
(twilio.com/docs/api/errors/11205). A store that accepts a connection and then stalls
would otherwise hold a webhook for ever, so every wait on Redis or the database is bounded
here, and a webhook meets a stalled store with the outage apology (ivr/outage.py) well
inside WEBHOOK_BUDGET_SECONDS.
"""

from __future__ import annotations

from typing import Any

import redis.exceptions
from redis.backoff import NoBackoff
from redis.retry import Retry

# Twilio's own limit on a webhook's answer (twilio.com/docs/api/errors/11205).
TWILIO_WEBHOOK_TIMEOUT_SECONDS = 15
# What Holdless allows itself: every voice webhook answers within this, whatever the stores do.
WEBHOOK_BUDGET_SECONDS = 5.0
# A voice webhook still waiting on its stores this long is answered with the outage apology
# (webhooks/budget.py), leaving a second of the budget to answer. The stores' own limits
# below come first; this catches what they cannot (a PostgreSQL connection stalled mid-
# statement: psycopg has no client-side read timeout).
WEBHOOK_DEADLINE_SECONDS = 4.0
# Threads per process that run Twilio's webhooks (voice and messaging) under that deadline
# (one stuck on a stalled store is held until the store answers or drops the connection).
WEBHOOK_THREADS = 32

# Redis: opening a connection, and each reply once a command is sent. A reply that does not
# come is not retried (a stalled server would stall the retry too); a connection found dead
# (reset, closed by a restarted server) is opened again once. So one command waits at most
# about connect + reply, 3 s.
REDIS_CONNECT_TIMEOUT_SECONDS = 1.0
REDIS_SOCKET_TIMEOUT_SECONDS = 2.0
REDIS_RECONNECTS = 1
# A pooled connection idle longer than this is checked with PING before it is used.
REDIS_HEALTH_CHECK_INTERVAL_SECONDS = 30
# Redis Sentinel: connecting to one Sentinel and its answer (where the primary is); one that
# does not answer is passed over for the next.
SENTINEL_TIMEOUT_SECONDS = 0.5
# REDIS_WAIT_REPLICAS > 0: how long enqueueing a job waits for replicas to hold it (Redis WAIT)
# before going on (logged). Replicas on the same network ack in about a millisecond.
REDIS_WAIT_TIMEOUT_MS = 100

# PostgreSQL: opening a connection (libpq's connect_timeout, whole seconds, at least 2), one
# statement, and a wait for a row lock; the pool's wait for a free connection.
DB_CONNECT_TIMEOUT_SECONDS = 2
DB_STATEMENT_TIMEOUT_SECONDS = 3.0
DB_LOCK_TIMEOUT_SECONDS = 2.0
DB_POOL_TIMEOUT_SECONDS = 2.0
# The pool: connections kept open per process, and more opened under load (then closed).
# Every connection is checked (pre-ping) as it leaves the pool, so one to a server that died
# or was demoted is dropped and replaced, never handed to a request.
DB_POOL_SIZE = 5
DB_POOL_OVERFLOW = 10
# TCP keepalives (libpq): an idle connection to a machine that vanished without a reset is
# found dead after idle + interval x count = 10 + 3 x 3 s, and unacknowledged data is given
# up on after DB_TCP_USER_TIMEOUT_MS, so no connection waits on a lost primary for minutes.
DB_KEEPALIVES_IDLE_SECONDS = 10
DB_KEEPALIVES_INTERVAL_SECONDS = 3
DB_KEEPALIVES_COUNT = 3
DB_TCP_USER_TIMEOUT_MS = 10_000
# SQLite: how long a statement waits for another process's write lock.
SQLITE_BUSY_TIMEOUT_SECONDS = 3.0


def redis_options() -> dict[str, Any]:
    """The keyword arguments every Redis client of the app, worker and CLI is built with."""
    return {
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
        "health_check_interval": REDIS_HEALTH_CHECK_INTERVAL_SECONDS,
        "retry": Retry(NoBackoff(), REDIS_RECONNECTS,
                       supported_errors=(redis.exceptions.ConnectionError,)),
    }


def postgres_connect_args(statement_timeout: float | None = DB_STATEMENT_TIMEOUT_SECONDS,
                          synchronous_commit: str = "") -> dict[str, Any]:
    """psycopg's connect arguments: connect, statement and lock timeouts (None: no statement
    limit, for migrations), TCP keepalives, and the session's synchronous_commit when given
    (DATABASE_SYNCHRONOUS_COMMIT; else the server's)."""
    options = f"-c lock_timeout={int(DB_LOCK_TIMEOUT_SECONDS * 1000)}"
    if statement_timeout is not None:
        options += f" -c statement_timeout={int(statement_timeout * 1000)}"
    if synchronous_commit:
        options += f" -c synchronous_commit={synchronous_commit}"
    return {"connect_timeout": DB_CONNECT_TIMEOUT_SECONDS, "options": options,
            "keepalives": 1, "keepalives_idle": DB_KEEPALIVES_IDLE_SECONDS,
            "keepalives_interval": DB_KEEPALIVES_INTERVAL_SECONDS,
            "keepalives_count": DB_KEEPALIVES_COUNT, "tcp_user_timeout": DB_TCP_USER_TIMEOUT_MS}

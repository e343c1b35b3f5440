"""GET /health, for load balancers and monitoring: which stores this web process reaches
(database, Redis) and the depth of the job queue. 200 when both stores answer, 503 when
either does not. Unauthenticated, so it says nothing else: no address, no error text."""

from __future__ import annotations

import logging
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

REACHABLE, UNREACHABLE = "reachable", "unreachable"


def database_state(rt: Any) -> str:
    """Whether the database answers one statement (within the pool's bounded waits)."""
    try:
        with rt.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
        log.warning("health: database unreachable (%s)", type(exc).__name__)
        return UNREACHABLE
    return REACHABLE


def job_counts(rt: Any) -> tuple[int, int] | None:
    """Jobs waiting for a worker and jobs scheduled for later, in one round trip to Redis;
    None when Redis does not answer."""
    try:
        with rt.jobs_redis.pipeline(transaction=False) as pipe:
            pipe.llen(rt.jobs.key)
            pipe.zcard(rt.jobs.scheduled_job_registry.key)
            waiting, scheduled = pipe.execute()
    except (redis.exceptions.RedisError, OSError) as exc:
        log.warning("health: redis unreachable (%s)", type(exc).__name__)
        return None
    return int(waiting), int(scheduled)


@bp.get("/health")
def health() -> Response:
    """The stores this process reaches and the job queue's depth; 503 unless both reach."""
    rt = current_app.extensions["holdless"]
    database, jobs = database_state(rt), job_counts(rt)
    body = {"database": database, "redis": UNREACHABLE if jobs is None else REACHABLE,
            "jobs_waiting": None if jobs is None else jobs[0],
            "jobs_scheduled": None if jobs is None else jobs[1]}
    reply = jsonify(body)
    reply.status_code = 200 if database == REACHABLE and jobs is not None else 503
    reply.headers["Cache-Control"] = "no-store"
    return reply

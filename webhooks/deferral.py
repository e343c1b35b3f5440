"""Twilio requests that come once and are never sent again (status callbacks, detection
results, recording reports, a text's status): when the database cannot take one, the
webhook hands it to the worker, which applies it once the database is back (the job's
retries), and answers 202 Accepted instead of losing it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from holdless.tasks import Task

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

DATABASE_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)


def to_worker(rt: Runtime, task: Task, *args: Any, job_id: str) -> None:
    """Hand this request's `task` to the worker (one job per `job_id`, however often it
    comes), logging the path only."""
    log.warning("database unreachable: %s deferred to the worker", request.path)
    rt.enqueue(task, *args, job_id=job_id)

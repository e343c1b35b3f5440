"""The RQ worker Holdless runs: jobs in-process (no fork per job, for prompt callbacks),
with this process's runtime and clock set up once and handed to every job."""

from __future__ import annotations

import logging
from typing import Any

from rq.job import Job
from rq.queue import Queue
from rq.worker import SimpleWorker

from callbacks import reconcile, sweeper
from entrypoints import runtime
from holdless import clock
from holdless.tasks import (
    WORKER_MAINTENANCE_SECONDS,
    WORKER_REDIS_RETRY_MAX_SECONDS,
    WORKER_TTL_SECONDS,
)
from holdless.timeouts import redis_options

log = logging.getLogger(__name__)


def _bound_waits(connection: Any) -> None:
    """Give the connection RQ handed the worker (the rq command line builds it from --url) the
    app's connect timeout, health checks and reconnects; RQ's own socket timeout stays, which
    it sets just above its blocking wait for jobs."""
    options = {k: v for k, v in redis_options().items() if k != "socket_timeout"}
    connection.connection_pool.connection_kwargs.update(options)
    connection.connection_pool.disconnect()  # connections opened before (by the command line)
    connection.connection_pool.reset()  # are replaced by ones with these options


class RuntimeJob(Job):
    """An RQ job whose function receives the worker's runtime as its first argument (see
    holdless.tasks): job bodies are handed their dependencies, they never fetch them."""

    runtime: runtime.Runtime | None = None

    def _execute(self) -> Any:
        if self.runtime is None:
            raise RuntimeError(f"job {self.id} ({self.func_name}) ran outside a Holdless worker")
        return self.func(self.runtime, *self.args, **self.kwargs)


class HoldlessWorker(SimpleWorker):
    """An RQ worker that shares one runtime (database pool, Redis, Twilio client) across jobs,
    and first rebuilds the live lines from the database (see callbacks.reconcile) and
    schedules the sweep for lost hang-ups (see callbacks.sweeper)."""

    max_connection_wait_time = WORKER_REDIS_RETRY_MAX_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", WORKER_MAINTENANCE_SECONDS)
        # RQ blocks on the queue for worker_ttl - 15 s and runs maintenance only between
        # waits: a short TTL makes the 15 s maintenance (abandoned-job recovery) real.
        kwargs.setdefault("worker_ttl", WORKER_TTL_SECONDS)
        kwargs["job_class"] = RuntimeJob  # the rq command line passes its default otherwise
        super().__init__(*args, **kwargs)
        _bound_waits(self.connection)
        rt = runtime.get()
        if rt.settings.clock:
            clock.use(rt.clock)  # what reads the process clock (audit, staffing) reads the same
        reconcile.at_worker_start(rt)
        sweeper.schedule_next(rt)
        self.holdless = rt

    def perform_job(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> bool:
        """Run `job` with this worker's runtime handed to its function."""
        if isinstance(job, RuntimeJob):
            job.runtime = self.holdless
        return bool(super().perform_job(job, queue, *args, **kwargs))

    def run_maintenance_tasks(self) -> None:
        """RQ's maintenance (abandoned jobs, the scheduler), then the check for Redis data
        loss: if the reconciler's marker is gone, rebuild live state from the database now."""
        super().run_maintenance_tasks()
        try:
            reconcile.reconcile_if_lost(self.holdless)
        except Exception:  # noqa: BLE001 - a store outage: the next pass tries again
            log.exception("checking for Redis data loss failed; trying again next pass")

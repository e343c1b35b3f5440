"""The RQ worker Holdless runs: jobs in-process (no fork per job, for prompt callbacks),
with this process's runtime and clock set up once and handed to every job."""

from __future__ import annotations

import logging
from typing import Any

from rq.job import Job
from rq.queue import Queue
from rq.worker import SimpleWorker

from admin import retention
from callbacks import reconcile, sweeper
from entrypoints import runtime
from holdless import clock, redis_clients, tasks
from holdless.tasks import (
    WORKER_COMMAND_POLL_SECONDS,
    WORKER_MAINTENANCE_SECONDS,
    WORKER_REDIS_RETRY_MAX_SECONDS,
    WORKER_TTL_SECONDS,
)

log = logging.getLogger(__name__)


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
        if kwargs.get("connection") is not None:
            kwargs["connection"] = redis_clients.worker_client(kwargs["connection"])
        super().__init__(*args, **kwargs)
        rt = runtime.get()
        if rt.settings.clock:
            clock.use(rt.clock)  # what reads the process clock (audit, staffing) reads the same
        reconcile.at_worker_start(rt)
        sweeper.schedule_next(rt)
        retention.schedule_next(rt)  # recordings, voicemails, notes, identity: kept as set
        # Every line's Twilio queue sized as the app needs (a job: retried if Twilio fails).
        rt.enqueue(tasks.SIZE_TWILIO_QUEUES, job_id=tasks.SIZE_TWILIO_QUEUES_JOB_ID)
        self.holdless = rt

    def subscribe(self) -> None:
        """Listen on the worker's command channel as RQ does, the listener looking up from
        its wait every WORKER_COMMAND_POLL_SECONDS, so stopping the worker never waits out
        RQ's 60 s wait for a command."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment] # RQ types
            sleep_time=WORKER_COMMAND_POLL_SECONDS, daemon=True,  # it None until subscribed
            exception_handler=self._pubsub_exception_handler)

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
            if reconcile.reconcile_if_lost(self.holdless) is not None:
                retention.schedule_next(self.holdless)  # its next run was lost with Redis
        except Exception:  # noqa: BLE001 - a store outage: the next pass tries again
            log.exception("checking for Redis data loss failed; trying again next pass")

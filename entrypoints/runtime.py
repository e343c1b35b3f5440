"""The live resources of one process: settings, database, Redis, the job queue, Twilio.

The Flask app and the RQ worker build one Runtime each from the same settings; domain
code receives it (or reads `get()`) instead of importing Flask.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import redis
from rq import Queue, Retry

from admin.directory import QueueDefaults
from holdless import clock, redis_clients
from holdless.embedded import EmbeddedRedis
from holdless.logs import install_redaction
from holdless.pacer import DialPacer
from holdless.settings import Settings, default_database_url
from holdless.tasks import (
    JOB_FAILURE_TTL_SECONDS,
    JOB_RESULT_TTL_SECONDS,
    RQ_QUEUE_NAME,
    Task,
)
from holdless.twilio_gateway import TwilioGateway
from models.base import Database
from queueing import directory, keys, overflow, push
from queueing.presence import Presence
from queueing.routing import Router


class Runtime:
    """Everything a request or a job needs to act on the contact center."""

    def __init__(self, settings: Settings) -> None:
        install_redaction()
        self.settings = settings
        # The runtime's clock: the compressed one its settings name, else the process's.
        self.clock = clock.from_spec(settings.clock) if settings.clock else clock.current()
        self.db = Database(settings.database_url or default_database_url(settings.instance_path),
                           settings.database_synchronous_commit)
        # One server (REDIS_URL, else the embedded one), or the primary the Sentinels name.
        self.redis_url = ("" if settings.redis_sentinels
                          else settings.redis_url or _embedded_redis_url(settings))
        # every wait on Redis bounded (holdless.timeouts): a stalled server cannot hold a webhook
        self.live = redis_clients.app_client(settings, self.redis_url, decode=True)
        self.jobs_redis = redis_clients.app_client(settings, self.redis_url)
        self.jobs = Queue(RQ_QUEUE_NAME, connection=self.jobs_redis)
        self.acknowledged = (redis_clients.AcknowledgedJobs(
            settings, self.redis_url, settings.redis_wait_replicas)
            if settings.redis_wait_replicas else None)
        self.gateway = TwilioGateway(settings, DialPacer(
            self.live, keys.dial_pacer(), settings.twilio_calls_per_second,
            self.clock.real_seconds))
        self.presence = Presence(self.live)
        self.router = Router(self.live)
        self.db.watch(directory.DIRECTORY_TABLES, self._directory_changed)
        push.watch_rows(self)  # pages showing what a commit changed are told at once

    def _directory_changed(self) -> None:
        """After a commit that changed the queues: tell every process, and rewrite the
        overflow routes routing follows."""
        directory.changed(self.live)
        overflow.publish(self.live, self.db)

    @property
    def queue_defaults(self) -> QueueDefaults:
        """What a new queue starts with: the zone and thresholds the settings name."""
        s = self.settings
        return QueueDefaults(s.time_zone, s.busy_threshold_seconds, s.callback_threshold_seconds)

    def url(self, path: str, **params: Any) -> str:
        """An absolute URL of one of our webhooks, as Twilio must be given it."""
        base = self.settings.public_base_url or "http://127.0.0.1:5000"
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{base}{path}" + (f"?{query}" if query else "")

    def enqueue(self, task: Task, *args: Any, job_id: str | None = None,
                delay: float | None = None, urgent: bool | None = None) -> None:
        """Hand `task` to the worker with `args` (after `delay` seconds on this clock); RQ
        imports its function by name when it runs, and retries it as the task says. An
        urgent job (the task's, unless `urgent` says) goes before the jobs waiting."""
        options: dict[str, Any] = {
            "job_id": job_id, "job_timeout": task.timeout_seconds,
            "result_ttl": JOB_RESULT_TTL_SECONDS, "failure_ttl": JOB_FAILURE_TTL_SECONDS,
            "retry": Retry(max=len(task.retry_intervals), interval=list(task.retry_intervals)),
        }
        def put(queue: Queue) -> None:
            if delay and delay > 0:
                queue.enqueue_in(timedelta(seconds=self.clock.real_seconds(delay)), task.path,
                                 *args, **options)
            else:
                queue.enqueue(task.path, *args, at_front=task.urgent if urgent is None
                              else urgent, **options)

        if self.acknowledged is None:
            put(self.jobs)
        else:  # REDIS_WAIT_REPLICAS: replicas hold the job before we go on
            self.acknowledged.enqueue(put)

    def close(self) -> None:
        """Release connections."""
        self.db.dispose()
        self.live.close()
        self.jobs_redis.close()
        if self.acknowledged is not None:
            self.acknowledged.close()


def running_redis(settings: Settings) -> redis.Redis | None:
    """A client (decoded strings) on the stack's Redis: the Sentinels' primary, REDIS_URL or
    the embedded server `holdless run` started; None when none (a command that only changes
    the database then has no live state to tell)."""
    url = running_redis_url(settings)
    if not settings.redis_sentinels and url is None:
        return None
    return redis_clients.app_client(settings, url or "", decode=True)


def running_redis_url(settings: Settings) -> str | None:
    """REDIS_URL, or the embedded server `holdless run` started; None when neither (a
    command that only changes the database then has no live state to tell)."""
    if settings.redis_url:
        return settings.redis_url
    note = Path(settings.instance_path) / "redis.url"
    if note.exists():
        url = note.read_text().strip()
        if Path(url.removeprefix("unix://")).exists():
            return url
    return None


def _embedded_redis_url(settings: Settings) -> str:
    """The embedded server `holdless run` started, or a new one for this process."""

    running = running_redis_url(settings)
    if running is not None:
        return running

    server = EmbeddedRedis(Path(settings.instance_path) / "redis")
    os.environ["REDIS_URL"] = server.url
    _EMBEDDED.append(server)
    return server.url


_EMBEDDED: list[Any] = []
_current: Runtime | None = None


def use(rt: Runtime | None) -> Runtime | None:
    """Make `rt` this process's runtime; returns the previous one."""
    global _current
    previous, _current = _current, rt
    return previous


def get() -> Runtime:
    """This process's runtime, built from the environment on first use."""
    global _current
    if _current is None:
        settings = Settings.from_env()
        settings.check()  # the worker refuses to start on settings the web app refuses
        _current = Runtime(settings)
    return _current

"""The real Holdless stack run in-process for the simulator: the Flask app on a real port and
an RQ worker that runs jobs (and due scheduled jobs) promptly, both in background threads.

Used by the end-to-end tests and by the day driver's worker processes; the app itself is
the production app factory, the jobs are run by the production worker class.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty
from werkzeug.serving import make_server

from entrypoints.runtime import Runtime
from entrypoints.worker import HoldlessWorker
from holdless.tasks import WORKER_MAINTENANCE_SECONDS

log = logging.getLogger(__name__)

WsgiApp = Callable[..., Any]


class LateBoundApp:
    """A WSGI app whose target is set after the server knows its port (so the app can be
    built with its own public URL, which Twilio signatures are checked against)."""

    def __init__(self) -> None:
        """No target yet: requests get 503 until `target` is set."""
        self.target: WsgiApp | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Pass the request on to the target app."""
        if self.target is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"starting"]
        return self.target(environ, start_response)


class LiveServer:
    """A threaded werkzeug server on 127.0.0.1 (port chosen by the OS), in a thread."""

    def __init__(self, port: int = 0) -> None:
        """Bind the port now; serve once `start` is called."""
        self.app = LateBoundApp()
        self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="live-server")

    @property
    def base_url(self) -> str:
        """The server's URL, e.g. http://127.0.0.1:53122."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self, target: WsgiApp) -> None:
        """Serve `target`."""
        self.app.target = target
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()


class ThreadWorker(HoldlessWorker):
    """The production worker class, runnable off the main thread (no signal handlers;
    job timeouts enforced by a timer instead of SIGALRM)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        """Signals can only be handled on the main thread; the pump stops this worker."""

    def subscribe(self) -> None:
        """No RQ command channel: the pump stops this worker. (Stopping the channel's
        listener when RQ's loop returns, every idle second here, can wait out its 60 s poll.)"""

    def unsubscribe(self) -> None:
        """Nothing to unsubscribe from."""


class JobPump:
    """Runs the runtime's RQ jobs as they come: `threads` production workers block on the
    queue (a job starts the moment it is enqueued), and a scheduler thread moves due
    scheduled jobs (delays, retries) onto the queue every `poll` real seconds.

    RQ's own scheduler looks once a real second; on a compressed clock that second is
    minutes, so the pump looks far more often.
    """

    def __init__(self, rt: Runtime, poll: float = 0.01, threads: int = 1) -> None:
        """Prepare `threads` worker threads on `rt`'s job queue."""
        self.rt, self.poll = rt, poll
        self._stop = threading.Event()
        # worker_ttl 16 s: a worker blocks on the queue for at most 1 s at a time. Its
        # maintenance (abandoned jobs, the check for Redis data loss) runs every 15 seconds
        # of the runtime's clock, as in production, but not more often than once a second.
        maintenance = max(1.0, rt.clock.real_seconds(WORKER_MAINTENANCE_SECONDS))
        self.workers = [ThreadWorker([rt.jobs], connection=rt.jobs_redis, worker_ttl=16,
                                     maintenance_interval=maintenance)
                        for _ in range(threads)]
        self._threads = [threading.Thread(target=self._work, args=(w,), daemon=True,
                                          name=f"job-worker-{n}")
                         for n, w in enumerate(self.workers)]
        self._threads.append(threading.Thread(target=self._schedule, daemon=True,
                                              name="job-scheduler"))

    def start(self) -> JobPump:
        """Start the workers and the scheduler."""
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Let each worker finish the job in hand, then stop everything."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def __enter__(self) -> JobPump:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _work(self, worker: ThreadWorker) -> None:
        while not self._stop.is_set():
            try:
                # Back from RQ's loop after a second without jobs, to look at the stop flag.
                worker.work(burst=False, logging_level="WARNING", max_idle_time=1)
            except Exception:  # noqa: BLE001 - keep working; RQ recorded any failed job
                log.exception("job worker stopped unexpectedly; starting it again")
                self._stop.wait(self.poll)

    def _schedule(self) -> None:
        scheduler = RQScheduler([self.rt.jobs], connection=self.rt.jobs_redis,
                                logging_level=logging.WARNING)
        try:
            while not self._stop.wait(self.poll):
                try:
                    self.move_due_jobs(scheduler)
                except Exception:  # noqa: BLE001 - try again on the next tick
                    log.exception("moving scheduled jobs failed")
        finally:
            scheduler.release_locks()

    @staticmethod
    def move_due_jobs(scheduler: RQScheduler) -> None:
        """Enqueue the scheduled jobs that are due (when this scheduler holds the lock).

        The lock is taken or refreshed every time: a lock left to expire would let a
        second process's scheduler enqueue the same scheduled job again."""
        scheduler.acquire_locks()
        if scheduler.acquired_locks:
            scheduler.enqueue_scheduled_jobs()

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

from callbacks.worker import HoldlessWorker
from holdless.runtime import Runtime

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


class JobPump:
    """Runs the runtime's RQ jobs as they come: every `poll` real seconds, moves due
    scheduled jobs (delays, retries) onto the queue and drains it with a real worker.

    RQ's own scheduler looks once a second; on a compressed clock that second is minutes,
    so the pump looks far more often.
    """

    def __init__(self, rt: Runtime, poll: float = 0.02, threads: int = 1) -> None:
        """Prepare `threads` worker threads on `rt`'s job queue."""
        self.rt, self.poll = rt, poll
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(n,), daemon=True,
                                          name=f"job-pump-{n}") for n in range(threads)]

    def start(self) -> JobPump:
        """Start pumping."""
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the job in hand and stop."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def __enter__(self) -> JobPump:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self, number: int) -> None:
        scheduler = RQScheduler([self.rt.jobs], connection=self.rt.jobs_redis,
                                logging_level=logging.WARNING)
        while not self._stop.is_set():
            try:
                self.pump_once(scheduler if number == 0 else None)
            except Exception:  # noqa: BLE001 - keep pumping; RQ recorded the failed job
                log.exception("job pump iteration failed")
            self._stop.wait(self.poll)
        if number == 0:
            scheduler.release_locks()

    def pump_once(self, scheduler: RQScheduler | None = None) -> bool:
        """Enqueue due scheduled jobs (when given the scheduler), then run every queued job."""
        if scheduler is not None:
            if not scheduler.acquired_locks:
                scheduler.acquire_locks()
            if scheduler.acquired_locks:
                scheduler.enqueue_scheduled_jobs()
        worker = ThreadWorker([self.rt.jobs], connection=self.rt.jobs_redis)
        return worker.work(burst=True, logging_level="WARNING")

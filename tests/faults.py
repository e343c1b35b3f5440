"""Reusable fault-injection helpers for the reliability tests.

- `drain`: run queued jobs now with the real worker class (no pub/sub thread, so it is quick);
- `PausableProxy`: a TCP proxy on loopback that can be paused (connections refused, open ones
  cut) and resumed, to make a database unreachable for a while;
- `RedisServer`: a redis-server subprocess the test owns, to stop and start on one socket;
- `WorkerProcess`: an RQ worker in a subprocess that can be killed with SIGKILL.
"""

from __future__ import annotations

from typing import Any

from holdless.runtime import Runtime


def drain(rt: Runtime) -> None:
    """Run every queued job to completion in this process (a burst of the real worker)."""
    from callbacks.worker import HoldlessWorker

    class QuietWorker(HoldlessWorker):
        """HoldlessWorker without the pub/sub command channel (it costs a second per burst)."""

        def subscribe(self) -> None:
            """No command channel in a burst."""

        def unsubscribe(self) -> None:
            """Nothing to unsubscribe from."""

    QuietWorker([rt.jobs], connection=rt.jobs_redis).work(burst=True)


__all__: list[Any] = ["drain"]

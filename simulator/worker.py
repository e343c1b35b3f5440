"""`python -m simulator.worker`: the job worker of a simulated day.

The production worker class (entrypoints.worker.HoldlessWorker) on the runtime the
environment describes, pumped by `simulator.stack.JobPump`, which looks for due
scheduled jobs (wrap-up ends, retries) every few real milliseconds: RQ's own scheduler
looks once a real second, which on a clock 240 times faster is four virtual minutes.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from sqlalchemy import text

from entrypoints import runtime
from holdless import clock
from simulator.stack import JobPump


def main() -> None:
    """Run jobs until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s worker %(message)s")
    rt = runtime.get()
    if rt.settings.clock:
        clock.use(rt.clock)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    warm_up(rt)
    threads = int(os.environ.get("HOLDLESS_SIM_WORKER_THREADS", "2"))
    with JobPump(rt, poll=0.01, threads=threads):
        stop.wait()
    rt.close()


def warm_up(rt: runtime.Runtime) -> None:
    """Do the slow first-time work (Twilio client modules, database and Redis connections)
    before the day starts, not on the first caller's time."""
    rt.gateway.client.calls.list  # noqa: B018 - the attribute access imports the REST resources
    with rt.db.session() as s:
        s.execute(text("SELECT 1"))
    rt.live.ping()


if __name__ == "__main__":
    main()

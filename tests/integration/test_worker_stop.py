"""A worker stops promptly: its command channel's listener does not hold up its exit."""

from __future__ import annotations

import time

from entrypoints.worker import HoldlessWorker
from holdless.tasks import WORKER_COMMAND_POLL_SECONDS

# Time a stop may take beyond one poll of the listener (a busy CI machine).
STOP_MARGIN_SECONDS = 2.0


def test_worker_stopping_after_unsubscribing_waits_at_most_one_command_poll(rt):
    """RQ unsubscribes from the command channel, then stops its listener, and redis-py waits
    for the listener to exit. A listener that looped back into its wait after the
    unsubscribe waits for a subscription for a whole poll (RQ's own: 60 s), which a burst
    worker's exit waited out; the subprocess tests of killed workers timed out on it."""
    worker = HoldlessWorker([rt.jobs], connection=rt.jobs_redis)
    worker.subscribe()
    try:
        worker.pubsub.unsubscribe()
        time.sleep(0.5)  # the listener is back in its wait, no longer subscribed
        started = time.monotonic()
        worker.pubsub_thread.stop()
        took = time.monotonic() - started
    finally:
        worker.pubsub.close()
    assert not worker.pubsub_thread.is_alive()
    assert took < WORKER_COMMAND_POLL_SECONDS + STOP_MARGIN_SECONDS

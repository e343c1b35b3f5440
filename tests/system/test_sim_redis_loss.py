"""Redis killed and restarted empty in the middle of a busy simulated day, on the real stack
(gunicorn web processes, a worker process, a redis-server process, SQLite, the Twilio
stand-in): the workers notice the loss on their next maintenance pass and rebuild the
live state from the database; no callback is lost, every caller's call ends accounted for.

The soak test runs a busy hour; its shorter sibling in the normal suite runs a few minutes.
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from holdless import clock
from models.base import Database
from models.callbacks import CANCELLED, COMPLETED, UNREACHABLE, Callback, CallbackAttempt
from models.entities import ABANDONED, Assignment, Interaction, Leg
from queueing import keys
from simulator import day, scenario
from tests.faults import RedisServer

pytestmark = pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server")

QUEUES = """
[[queues]]
slug = "sales"
name = "Sales"
digit = "1"
share = 0.4
[[queues]]
slug = "support"
name = "Support"
digit = "2"
share = 0.6
"""

# About 150 callers in an hour on 8 agents (about 10 Erlangs of work): lines form, and most
# callers who are offered a callback take it.
BUSY_HOUR = """
name = "Busy hour, Redis restarted empty at 11:30"
start = 2026-11-16T11:00:00
interval_minutes = 30
arrivals = [75, 75]
wrap_up_seconds = 30
seed = 21
callback_share = 0.6
patience = { kind = "exponential", mean = 600 }
handle_time = { kind = "lognormal", mean = 240, sigma = 0.5 }
[[agents]]
username = "sales"
count = 3
queues = ["sales"]
[[agents]]
username = "support"
count = 5
queues = ["support"]
""" + QUEUES

SHORT_BUSY = """
name = "Busy few minutes, Redis restarted empty half-way"
start = 2026-11-16T11:00:00
interval_minutes = 3
arrivals = [8, 8]
wrap_up_seconds = 10
seed = 5
callback_share = 1.0
patience = { kind = "fixed", mean = 900 }
handle_time = { kind = "fixed", mean = 90 }
[[agents]]
username = "flex"
count = 2
queues = ["sales", "support"]
""" + QUEUES


@dataclass
class RedisRestart:
    """Kills the stack's redis-server (SIGKILL, no persistence) and starts it again empty;
    records the lines just before, the moment of the restart, and the reconciler's marker
    and the lines once it has rebuilt them."""

    servers: list[RedisServer] = field(default_factory=list)
    before: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    after: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    restarted_at: float = 0.0
    marker: dict[str, str] = field(default_factory=dict)
    rebuilt_at: datetime | None = None
    """The day's (virtual) time of the snapshot after the rebuild."""
    app_errors: list[str] = field(default_factory=list)
    """What the day driver said of each call that hit an application error."""

    def start_server(self, folder: Path) -> RedisServer:
        """The stack's live store: a redis-server without persistence."""
        folder.mkdir(parents=True, exist_ok=True)
        server = RedisServer(folder, aof=False).start()
        self.servers.append(server)
        return server

    def __call__(self) -> None:
        server = self.servers[0]
        self.before = _lines(server)
        server.stop(kill=True)
        server.start()
        self.restarted_at = time.time()
        probe = redis.Redis(unix_socket_path=server.socket, decode_responses=True)
        while time.time() - self.restarted_at < 120:
            if probe.hget(keys.reconciled(), "done"):
                self.marker = probe.hgetall(keys.reconciled())
                break
            time.sleep(0.01)
        self.after = _lines(server)
        self.rebuilt_at = clock.current().now()
        probe.close()

    @property
    def seconds_to_reconciled(self) -> float:
        """Real seconds from the restart to the end of the rebuild."""
        return float(self.marker["done"]) - self.restarted_at


def _lines(server: RedisServer) -> dict[str, list[tuple[str, float]]]:
    r = redis.Redis(unix_socket_path=server.socket, decode_responses=True)
    try:
        return {q: r.zrange(keys.line(q), 0, -1, withscores=True) for q in ("sales", "support")}
    finally:
        r.close()


def _run(toml: str, at: float, speed: float, out: Path):
    plan = scenario.parse(tomllib.loads(toml), "scenario.toml")
    restart = RedisRestart()
    said: list[str] = []
    report = day.simulate(plan, out, speed=speed, echo=said.append, job_workers=1,
                          web_workers=2, grace=6.0, disruptions=[(at, restart)],
                          redis_factory=restart.start_server)
    restart.app_errors = [line for line in said if line.startswith("app error")]
    db = Database(f"sqlite:///{out / 'sim-instance' / 'holdless.db'}")
    return plan, report, restart, db


def _check_nothing_lost(report, restart: RedisRestart, db: Database) -> None:
    assert restart.marker, "the workers never rebuilt Redis after the restart"
    assert sum(len(line) for line in restart.before.values()) > 0, "nobody was waiting"
    assert report.app_errors == 0, restart.app_errors
    # A status callback arriving while Redis was down is refused (503) and Twilio does not
    # retry it; the sweeper then applies how the call ended (checked below: every call ends).
    assert all("status-callback HTTP 503" in line for line in restart.app_errors), \
        restart.app_errors
    cb = report.callbacks
    assert cb.booked > 0 and cb.lost == 0 and cb.open_tracked == 0
    assert cb.completed + cb.unreachable + cb.cancelled == cb.booked
    with db.session() as s:
        assert set(s.scalars(select(Callback.status))) <= {COMPLETED, UNREACHABLE, CANCELLED}
        assert set(s.scalars(select(Interaction.status))) <= {"completed", ABANDONED}
        assert s.scalar(select(func.count()).select_from(Assignment)
                        .where(Assignment.ended_at.is_(None))) == 0
        answered_twice = s.scalars(
            select(CallbackAttempt.callback_id).where(
                CallbackAttempt.customer_answered_at.is_not(None))
            .group_by(CallbackAttempt.callback_id).having(func.count() > 1)).all()
        assert answered_twice == []  # no callback was placed to a customer twice
        legs_twice = s.scalars(
            select(Leg.interaction_id).where(Leg.answered_at.is_not(None), Leg.kind == "answer")
            .group_by(Leg.interaction_id).having(func.count() > 1)).all()
        assert legs_twice == []  # no caller was handed to two agents
    _check_restored_in_order(restart, db)


def _check_restored_in_order(restart: RedisRestart, db: Database) -> None:
    """Each entry waiting before the kill is back at its original place once rebuilt,
    unless it moved on meanwhile: handed to an agent, or the call ended."""
    assert restart.rebuilt_at is not None
    with db.session() as s:
        handed = set(s.scalars(select(Assignment.entry).where(
            Assignment.created_at <= restart.rebuilt_at)))
        ended = {f"i:{i.id}" for i in s.scalars(select(Interaction).where(
            Interaction.ended_at <= restart.rebuilt_at))}
    for queue, before in restart.before.items():
        after = dict(restart.after[queue])
        kept = [(e, score) for e, score in before if e in after]
        assert all(after[e] == score for e, score in kept)  # the original place, exactly
        assert [e for e, _ in restart.after[queue] if e in dict(before)] == [e for e, _ in kept]
        gone = [e for e, _ in before if e not in after]
        assert all(e in handed or e in ended for e in gone), gone


@pytest.mark.slow
def test_redis_restarted_empty_mid_busy_minutes_no_callback_lost_and_lines_rebuilt(
        tmp_path: Path) -> None:
    _plan, report, restart, db = _run(SHORT_BUSY, at=300.0, speed=30.0, out=tmp_path)
    try:
        _check_nothing_lost(report, restart, db)
    finally:
        db.dispose()


@pytest.mark.soak
def test_soak_redis_restarted_empty_mid_busy_hour_zero_lost_callbacks(tmp_path: Path) -> None:
    plan, report, restart, db = _run(BUSY_HOUR, at=1800.0, speed=60.0, out=tmp_path)
    try:
        _check_nothing_lost(report, restart, db)
        waiting = {q: len(line) for q, line in restart.before.items()}
        print(f"\n{plan.name}: {report.calls} calls, waiting at the kill {waiting}; "
              f"rebuilt {restart.seconds_to_reconciled:.2f} real s after the restart "
              f"(x{report.speed:g}); marker {restart.marker}; callbacks {report.callbacks}")
        print((tmp_path / "report.txt").read_text())
    finally:
        db.dispose()

"""Losing a machine loses nothing: the production stack (the Procfile's gunicorn with two web
processes, two job workers) on Redis under Sentinel (a primary, a replica, three Sentinels)
and PostgreSQL with a synchronous streaming standby, all real processes on loopback, through a
busy simulated half hour. The Redis primary is SIGKILLed a third of the way in (the Sentinels
promote the replica; every process follows by itself); later the PostgreSQL primary is
SIGKILLed and its standby promoted. Measured (docs/reliability.md): seconds until the stores
answer and calls are routed again, callers who heard the outage apology (and never Twilio's
application error), callbacks lost, entries answered twice, dials and texts placed twice,
jobs failed or left behind.
"""

from __future__ import annotations

import re
import statistics
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import requests
from redis.sentinel import Sentinel
from rq import Queue
from sqlalchemy import func, select, text

from holdless import clock
from holdless.tasks import RQ_QUEUE_NAME
from ivr.outage import SORRY_CALL_AGAIN, SORRY_HOLD, SORRY_RETRY
from models.base import Database
from models.callbacks import CANCELLED, COMPLETED, UNREACHABLE, Callback, CallbackAttempt
from models.entities import ABANDONED, Assignment, Interaction
from models.texts import TextMessage
from simulator import day, scenario
from simulator.call import VirtualCall
from simulator.report import DayReport
from simulator.runner import APPLICATION_ERROR
from tests.failover_stores import MASTER_NAME, PostgresPair, SentinelRedis, wait_until

pytestmark = pytest.mark.soak

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

# About 90 callers in half an hour on 10 agents (about 10 Erlangs of work): lines form and
# callbacks are booked, so both failovers meet callers waiting, offers and callbacks under way.
BUSY_HALF_HOUR = """
name = "Busy half hour: Redis primary killed at 11:10, PostgreSQL primary at 11:20"
start = 2026-11-16T11:00:00
interval_minutes = 15
arrivals = [45, 45]
wrap_up_seconds = 20
seed = 33
callback_share = 0.6
patience = { kind = "exponential", mean = 600 }
handle_time = { kind = "lognormal", mean = 200, sigma = 0.5 }
[[agents]]
username = "sales"
count = 4
queues = ["sales"]
[[agents]]
username = "support"
count = 6
queues = ["support"]
""" + QUEUES

SPEED = 10.0
REDIS_KILL_AT = 600.0  # virtual seconds into the day
POSTGRES_KILL_AT = 1200.0
# Real seconds between the PostgreSQL primary's death and the standby's promotion: the time
# an operator, or a failover manager's leader lease (Patroni: ttl 30 s by default), takes.
PROMOTE_AFTER = 5.0
# Commits timed at each synchronous_commit level before the day (the cost of waiting), in
# rounds that alternate the levels.
COST_ROUNDS = 7
COST_COMMITS = 50
# Ceiling on each recovery, in real seconds.
RECOVERY_LIMIT = 120.0


@dataclass
class Recovery:
    """What one failover took: real seconds from the kill until the stores answered every
    web process's /health again, until a caller was put in a line and until an agent was
    next paired with a caller."""

    store: str
    seconds_to_health: float = -1.0
    seconds_to_joining: float = -1.0
    """Until a caller was next put in a line (a new caller arrives every 2 real seconds)."""
    seconds_to_routing: float = -1.0
    """Until an agent was next paired with a caller (also waits for an agent to be free)."""
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class Failovers:
    """Kills the Redis primary, later the PostgreSQL primary, and measures each recovery."""

    redis: SentinelRedis
    postgres: PostgresPair
    folder: Path
    recoveries: list[Recovery] = field(default_factory=list)

    def web_url(self) -> str:
        """The stack's web address, from gunicorn's log."""
        log = (self.folder / "sim-instance" / "logs" / "web.log").read_text()
        found = re.search(r"Listening at: (http://[0-9.:]+)", log)
        assert found, "gunicorn did not say where it listens"
        return found.group(1)

    def kill_redis(self) -> None:
        """SIGKILL the Redis primary; once the Sentinels have promoted the replica, start the
        dead server again (its machine back) as a replica of the new primary. (Started as it
        was, a primary, it took clients that asked a Sentinel not yet told of the failover
        until the Sentinels demoted it, 14 s later; writes there are dropped on its resync.)"""
        recovery, began, killed_at = Recovery("redis"), time.monotonic(), clock.current().now()
        old = self.redis.kill_primary()
        recovery.extra["sentinel_failover"] = self.redis.wait_for_failover(old)
        self.redis.start_server(old, replica_of=self.redis.primary_port())
        self._measure(recovery, began, killed_at)

    def kill_postgres(self) -> None:
        """SIGKILL the PostgreSQL primary, then promote its standby PROMOTE_AFTER later."""
        recovery, began, killed_at = Recovery("postgres"), time.monotonic(), clock.current().now()
        self.postgres.kill_primary()
        time.sleep(PROMOTE_AFTER)
        self.postgres.promote()
        recovery.extra["promoted"] = time.monotonic() - began
        self._measure(recovery, began, killed_at)

    def _measure(self, recovery: Recovery, began: float, killed_at: datetime) -> None:
        web = self.web_url()
        wait_until(lambda: all(requests.get(f"{web}/health", timeout=5).status_code == 200
                               for _ in range(4)), "/health did not recover", RECOVERY_LIMIT)
        recovery.seconds_to_health = time.monotonic() - began
        db = Database(self.postgres.url)
        try:
            wait_until(lambda: _joined_since(db, killed_at), "no caller joined a line again",
                       RECOVERY_LIMIT)
            recovery.seconds_to_joining = time.monotonic() - began
            wait_until(lambda: _paired_since(db, killed_at), "no caller was routed again",
                       RECOVERY_LIMIT)
        finally:
            db.dispose()
        recovery.seconds_to_routing = time.monotonic() - began
        self.recoveries.append(recovery)


@dataclass
class SentinelsForStack:
    """The live store as the stack is told of it (through the Sentinels); the test, not the
    stack, stops it, so its jobs can be counted after the day."""

    store: SentinelRedis
    url: str = ""

    @property
    def sentinels(self) -> str:
        """REDIS_SENTINELS."""
        return self.store.sentinels

    @property
    def master_name(self) -> str:
        """REDIS_MASTER_NAME."""
        return self.store.master_name

    @property
    def wait_replicas(self) -> int:
        """REDIS_WAIT_REPLICAS."""
        return self.store.wait_replicas

    def stop(self) -> None:
        """Left running for the test's counts."""


def _joined_since(db: Database, moment: datetime) -> bool:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Interaction)
                        .where(Interaction.joined_at > moment.timestamp())) > 0


def _paired_since(db: Database, moment: datetime) -> bool:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Assignment)
                        .where(Assignment.created_at > moment)) > 0


def commit_seconds(url: str, levels: tuple[str, ...] = ("local", "on"),
                   rounds: int = COST_ROUNDS, commits: int = COST_COMMITS) -> dict[str, float]:
    """Median real seconds of one small committed write (a promise's size) at each
    `synchronous_commit` level, the levels taking turns round by round on warm connections
    (so the machine's noise falls on both alike)."""
    dbs = {level: Database(url, synchronous_commit=level) for level in levels}
    times: dict[str, list[float]] = {level: [] for level in levels}
    try:
        with dbs[levels[0]].engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS commit_cost (n integer)"))
        for round_ in range(rounds + 1):  # the first round warms the connections up
            for level, db in dbs.items():
                began = time.perf_counter()
                for n in range(commits):
                    with db.engine.begin() as conn:
                        conn.execute(text("INSERT INTO commit_cost VALUES (:n)"), {"n": n})
                if round_:
                    times[level].append((time.perf_counter() - began) / commits)
    finally:
        for db in dbs.values():
            db.dispose()
    return {level: statistics.median(spent) for level, spent in times.items()}


def _heard(legs: list[VirtualCall], words: str) -> int:
    """Inbound callers whose call said `words` at least once."""
    return sum(1 for c in legs if c.direction == "inbound" and words in c.said())


@pytest.fixture
def stores(tmp_path: Path):
    """Redis under Sentinel and a PostgreSQL pair, stopped after the test."""
    if not SentinelRedis.available():
        pytest.skip("needs redis-server (.ci/run installs redis-sentinel, which brings it)")
    postgres = PostgresPair.here()
    if postgres is None:
        pytest.skip("needs PostgreSQL's server programs (initdb, pg_basebackup: .ci/run "
                    "installs the postgresql package)")
    redis_set = SentinelRedis(tmp_path / "redis")
    try:
        yield redis_set.start(), postgres.start()
    finally:
        redis_set.stop()
        postgres.stop()


def test_soak_redis_and_postgres_primaries_killed_mid_busy_half_hour_nothing_lost(
        tmp_path: Path, stores: tuple[SentinelRedis, PostgresPair]) -> None:
    redis_set, postgres = stores
    cost = commit_seconds(postgres.url)
    plan = scenario.parse(tomllib.loads(BUSY_HALF_HOUR), "scenario.toml")
    out = tmp_path / "day"
    failovers = Failovers(redis_set, postgres, out)
    legs: list[VirtualCall] = []
    said: list[str] = []
    live = SentinelsForStack(redis_set)
    report = day.simulate(plan, out, speed=SPEED, echo=said.append, job_workers=2,
                          web_workers=2, grace=8.0, redis_factory=lambda _folder: live,
                          database_url=postgres.url, legs=legs,
                          disruptions=[(REDIS_KILL_AT, failovers.kill_redis),
                                       (POSTGRES_KILL_AT, failovers.kill_postgres)])
    db = Database(postgres.url)
    try:
        figures = _figures(report, legs, db, redis_set)
    finally:
        db.dispose()
    print(f"\n{plan.name}: {report.calls} calls at x{SPEED:g} in {report.real_seconds:.0f} s")
    print(f"  a commit: {cost['local'] * 1000:.2f} ms waiting for nobody (local), "
          f"{cost['on'] * 1000:.2f} ms waiting for the standby (on): x"
          f"{cost['on'] / cost['local']:.1f}")
    for recovery in failovers.recoveries:
        print(f"  {recovery}")
    print(f"  {figures}")
    print("\n".join(line for line in said if "app error" in line))
    assert [r.store for r in failovers.recoveries] == ["redis", "postgres"]
    assert figures["callers who heard Twilio's application error"] == 0
    assert figures["callers who heard the outage apology"] > 0  # each fault met callers
    assert report.callbacks.booked > 0
    assert figures["callbacks lost"] == 0 and figures["callbacks still open"] == 0
    assert figures["entries answered twice"] == 0
    assert figures["dials placed twice"] == 0 and figures["texts sent twice"] == 0
    assert figures["jobs failed"] == 0 and figures["jobs left queued or started"] == 0
    assert figures["calls not ended"] == 0


def _figures(report: DayReport, legs: list[VirtualCall], db: Database,
             redis_set: SentinelRedis) -> dict[str, int]:
    """The day's zeros and counts, from the database, Redis and what callers heard."""
    primary = Sentinel([("127.0.0.1", p) for p in redis_set.sentinel_ports]).master_for(
        MASTER_NAME)
    jobs = Queue(RQ_QUEUE_NAME, connection=primary)
    with db.session() as s:
        open_callbacks = s.scalar(select(func.count()).select_from(Callback).where(
            Callback.status.not_in((COMPLETED, UNREACHABLE, CANCELLED))))
        not_ended = s.scalar(select(func.count()).select_from(Interaction).where(
            Interaction.status.not_in(("completed", ABANDONED))))
        customers_twice = len(s.scalars(
            select(CallbackAttempt.callback_id).where(
                CallbackAttempt.customer_answered_at.is_not(None))
            .group_by(CallbackAttempt.callback_id).having(func.count() > 1)).all())
        texts_recorded = s.scalar(select(func.count()).select_from(TextMessage)
                                  .where(TextMessage.sid.is_not(None)))
    for job_id in jobs.failed_job_registry.get_job_ids():  # named, to be looked into
        job = jobs.fetch_job(job_id)
        reason = (job.exc_info or "").strip().splitlines()[-1:] if job else ["gone"]
        print(f"  failed job {job_id}: {job.func_name if job else '?'} {reason}")
    figures = {
        "callers who heard the outage apology": _heard(legs, SORRY_RETRY) + _heard(
            legs, SORRY_HOLD),
        "callers told to call again": _heard(legs, SORRY_CALL_AGAIN),
        "callers who heard Twilio's application error": _heard(legs, APPLICATION_ERROR),
        "status reports refused": report.refused_reports,
        "callbacks booked": report.callbacks.booked,
        "callbacks lost": report.callbacks.lost,
        "callbacks still open": open_callbacks,
        "entries answered twice": report.strict.answered_twice,
        "customers called back twice": customers_twice,
        "dials placed twice": report.strict.dials_twice,
        "texts sent twice": report.texts.sent - texts_recorded,
        "jobs failed": jobs.failed_job_registry.count,
        "jobs left queued or started": jobs.count + jobs.started_job_registry.count,
        "calls not ended": not_ended,
    }
    primary.close()
    return figures

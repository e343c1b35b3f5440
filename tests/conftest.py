"""One fixture per resource: settings, database, Redis, runtime, app, client, worker,
the Twilio stand-in, and a client that signs requests as Twilio does.

The suite is in three tiers: tests/unit (pure logic: requests none of these stores, which
tests/unit/conftest.py enforces), tests/integration (the real database and Redis, the
Twilio stand-in in-process) and tests/system (the stack in processes, simulated days,
Chromium; its own fixtures in tests/system/conftest.py).

By default the suite runs on the embedded defaults (a SQLite file and an embedded
Redis server); set DATABASE_URL and REDIS_URL to run it against PostgreSQL and Redis.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from entrypoints import runtime
from entrypoints.runtime import Runtime
from holdless import clock
from holdless.migrate import upgrade
from holdless.settings import Settings
from models import Base
from simulator import contract
from simulator.rest import TwilioRestStandIn as TwilioStandIn

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TEST_CALLS_PER_SECOND = 50.0
PUBLIC_BASE = "https://holdless.test"
# A Monday, 10:30 in New York.
START = datetime(2026, 11, 16, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database under test, its schema built by the migrations."""
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    if not url.startswith("sqlite"):
        from models.base import make_engine
        engine = make_engine(url)
        with engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server: REDIS_URL's, or an embedded one for the session."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    from holdless.embedded import EmbeddedRedis
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


def fail_on_contract_problems() -> None:
    """Fail the running test if any stand-in of this process saw REST traffic outside
    Twilio's documented API since the last check (simulator/contract.py)."""
    if problems := contract.PROBLEMS.drain():
        found = "\n  ".join(dict.fromkeys(problems))
        pytest.fail(f"REST traffic outside Twilio's documented API:\n  {found}", pytrace=False)


@pytest.fixture(autouse=True)
def twilio_contract() -> Iterator[None]:
    """Fail any test during which the app sent Twilio a request, a parameter or a value
    Twilio's OpenAPI description does not document (or the stand-in answered a field it
    does not document): simulator/contract.py checks every request the stand-in serves."""
    contract.PROBLEMS.drain()
    yield
    fail_on_contract_problems()


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    """The process clock, frozen at START and moved only by the test."""
    frozen = clock.FrozenClock(START)
    previous = clock.use(frozen)
    yield frozen
    clock.use(previous)


@pytest.fixture
def twilio_api() -> Iterator[TwilioStandIn]:
    """A local HTTP server answering as Twilio's REST API does, recording every request."""
    with TwilioStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def settings(database_url: str, redis_url: str, twilio_api: TwilioStandIn,
             tmp_path: Path) -> Settings:
    """Settings of the stack under test."""
    return Settings(env="testing", secret_key="test", database_url=database_url,
                    redis_url=redis_url, instance_path=str(tmp_path),
                    public_base_url=PUBLIC_BASE, twilio_auth_token=AUTH_TOKEN,
                    twilio_api_base_url=twilio_api.base_url, wrap_up_seconds=30,
                    # dials paced fast enough not to slow the suite; the account's real
                    # default (1) is proven in tests/integration/test_dial_pacing.py
                    twilio_calls_per_second=TEST_CALLS_PER_SECOND)


@pytest.fixture
def rt(settings: Settings, frozen_clock: clock.FrozenClock) -> Iterator[Runtime]:
    """The runtime under test, on an empty database and an empty Redis."""
    rt = Runtime(settings)
    rt.live.flushdb()
    with rt.db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    previous = runtime.use(rt)
    yield rt
    runtime.use(previous)
    rt.close()


@pytest.fixture
def r(rt: Runtime) -> redis.Redis:
    """The live Redis connection (decoded strings)."""
    return rt.live


def make_app(database_url: str, redis_url: str, twilio_api_base_url: str,
             **config: Any) -> Any:
    """The Flask app as the suite configures it (public at PUBLIC_BASE, signed with
    AUTH_TOKEN), with its own runtime on the given stores; `config` adds or overrides."""
    from entrypoints.web import create_app
    return create_app({"env": "testing", "database_url": database_url,
                       "redis_url": redis_url, "public_base_url": PUBLIC_BASE,
                       "twilio_auth_token": AUTH_TOKEN, "secret_key": "test",
                       "twilio_api_base_url": twilio_api_base_url, **config})


def app_for(rt: Runtime, settings: Settings, **config: Any) -> Any:
    """The Flask app wired to the runtime under test (its own runtime closed)."""
    application = make_app(settings.database_url, settings.redis_url,
                           settings.twilio_api_base_url, **config)
    application.extensions["holdless"].close()
    application.extensions["holdless"] = rt
    runtime.use(rt)
    return application


@pytest.fixture
def app(rt: Runtime, settings: Settings) -> Any:
    """The Flask app, wired to the runtime under test."""
    return app_for(rt, settings)


@pytest.fixture
def client(app: Any) -> Any:
    """A plain test client (unsigned requests)."""
    return app.test_client()


class SignedTwilioClient:
    """Posts webhooks signed exactly as Twilio signs them."""

    def __init__(self, client: Any, token: str = AUTH_TOKEN) -> None:
        self.client, self.validator = client, RequestValidator(token)

    def post(self, path: str, data: dict[str, str]) -> Any:
        """POST `data` to `path`, signed for the public URL."""
        signature = self.validator.compute_signature(PUBLIC_BASE + path, data)
        return self.client.post(path, data=data, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def twilio(client: Any) -> SignedTwilioClient:
    """A client that signs its requests as Twilio does."""
    return SignedTwilioClient(client)


@pytest.fixture
def worker(rt: Runtime) -> Any:
    """Runs the queued jobs to completion in this process (a burst of the real RQ worker)."""
    from entrypoints.worker import HoldlessWorker

    class BurstWorker(HoldlessWorker):
        """Without RQ's command channel: a burst has no one to send it commands, and
        stopping its listener thread can wait out the thread's 60 s poll (RQ's
        sleep_time) when the burst ends as the subscription is still being set up."""

        def subscribe(self) -> None:
            """No command channel for a burst."""

        def unsubscribe(self) -> None:
            """Nothing was subscribed."""

    def drain() -> None:
        BurstWorker([rt.jobs], connection=rt.jobs_redis).work(burst=True)

    return drain


SOAK_TIMEOUT_SECONDS = 1200  # the longest soak test (the 500-caller rush) takes minutes


def pytest_configure(config: pytest.Config) -> None:
    """Register the `soak` marker: tests over a minute, run by `make soak` only."""
    config.addinivalue_line("markers", "soak: runs for more than a minute; `make soak` runs it")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave soak tests out unless asked for with `-m soak`; those asked for may run up to
    SOAK_TIMEOUT_SECONDS instead of the suite's per-test timeout (pyproject.toml)."""
    if "soak" in (config.getoption("-m") or ""):
        for item in items:
            if "soak" in item.keywords:
                item.add_marker(pytest.mark.timeout(SOAK_TIMEOUT_SECONDS))
        return
    skip = pytest.mark.skip(reason="soak test: run with `make soak`")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@contextlib.contextmanager
def app_on(database_url: str, redis_url: str, twilio_api_base_url: str
           ) -> Iterator[tuple[Any, Runtime]]:
    """An app and its runtime on the given stores, emptied and installed as the current
    runtime for the duration (for tests that stop, proxy or restart a store)."""
    from tests.helpers import reset_stores
    app = make_app(database_url, redis_url, twilio_api_base_url)
    rt = app.extensions["holdless"]
    previous = runtime.use(rt)
    reset_stores(rt)
    try:
        yield app, rt
    finally:
        runtime.use(previous)
        rt.close()


@pytest.fixture
def own_redis(tmp_path: Path, settings: Settings, frozen_clock: clock.FrozenClock
              ) -> Iterator[tuple[Any, Runtime, Any]]:
    """An app and runtime on a redis-server subprocess the test stops and starts (AOF on)."""
    from tests.faults import RedisServer
    if not RedisServer.available():
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path, aof=True).start()
    with app_on(settings.database_url, server.url, settings.twilio_api_base_url) as (app, rt):
        yield app, rt, server
    server.stop()


"""The unit tier is pure logic: no database, no Redis, no processes, no network.

A unit test that requests a store fixture (directly or through another fixture) fails
before any fixture is set up; one that opens a socket or starts a process fails at once,
saying so. Such a test belongs in tests/integration or tests/system.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

# The fixtures of tests/conftest.py and tests/system/conftest.py that stand up a store,
# a server or a process; the others there are pure (the frozen clock, and the check of the
# Twilio stand-in's traffic, which only reads what stand-ins reported).
PURE_FIXTURES = frozenset({"frozen_clock", "twilio_contract"})
STORE_FIXTURES = frozenset({
    "database_url", "redis_url", "twilio_api", "settings", "rt", "r", "app", "client",
    "twilio", "worker", "own_redis", "live_app", "browser",
})


class NotAUnitTest(AssertionError):
    """Raised when a unit test reaches for a store, the network or a process."""


def store_fixtures_requested(item: pytest.Item) -> list[str]:
    """The store fixtures `item` needs, directly or through its other fixtures."""
    return sorted(STORE_FIXTURES.intersection(getattr(item, "fixturenames", ())))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a unit test that requests a store fixture, before the store is started."""
    if needed := store_fixtures_requested(item):
        pytest.fail(f"{item.nodeid} is in the unit tier but requests {', '.join(needed)}: "
                    "move it to tests/integration (or tests/system)", pytrace=False)


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NotAUnitTest(f"a unit test must not {what}: move it to tests/integration "
                           "(or tests/system)")
    return refuse


@pytest.fixture(autouse=True)
def _no_network_or_processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every unit test runs with sockets unable to connect or listen and no subprocesses."""
    monkeypatch.setattr(socket.socket, "connect", _refuse("connect a socket"))
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse("connect a socket"))
    monkeypatch.setattr(socket.socket, "bind", _refuse("bind a socket (serve)"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a process"))
    yield

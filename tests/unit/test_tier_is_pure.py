"""The unit tier's guard (tests/unit/conftest.py) has teeth: store fixtures, sockets and
processes are refused, and no test collected in the unit tier asks for a store."""

from __future__ import annotations

import ast
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.unit.conftest import (
    PURE_FIXTURES,
    STORE_FIXTURES,
    NotAUnitTest,
    pytest_runtest_setup,
)

UNIT = Path(__file__).resolve().parent


def test_a_unit_test_asking_for_a_store_fixture_fails_naming_it() -> None:
    item = SimpleNamespace(nodeid="tests/unit/test_x.py::test_y",
                           fixturenames=["frozen_clock", "support", "rt", "redis_url"])
    with pytest.raises(pytest.fail.Exception, match="requests redis_url, rt: move it"):
        pytest_runtest_setup(item)  # type: ignore[arg-type]


def test_a_unit_test_with_only_pure_fixtures_passes_the_guard() -> None:
    item = SimpleNamespace(nodeid="tests/unit/test_x.py::test_y",
                           fixturenames=["frozen_clock", "tmp_path", "monkeypatch"])
    pytest_runtest_setup(item)  # type: ignore[arg-type]


def _fixtures_defined_in(conftest: Path) -> set[str]:
    def is_fixture(decorator: ast.expr) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return isinstance(target, ast.Attribute) and target.attr == "fixture"
    return {node.name for node in ast.walk(ast.parse(conftest.read_text()))
            if isinstance(node, ast.FunctionDef) and any(map(is_fixture, node.decorator_list))}


def test_every_shared_fixture_but_the_pure_ones_is_guarded() -> None:
    shared = (_fixtures_defined_in(UNIT.parent / "conftest.py")
              | _fixtures_defined_in(UNIT.parent / "system" / "conftest.py"))
    assert shared - PURE_FIXTURES == STORE_FIXTURES


def test_no_collected_unit_test_requests_a_store(request: pytest.FixtureRequest) -> None:
    unit = [i for i in request.session.items if UNIT in Path(str(i.path)).parents]
    assert unit
    assert {i.nodeid: STORE_FIXTURES & set(i.fixturenames) for i in unit
            if STORE_FIXTURES & set(i.fixturenames)} == {}


def test_connecting_a_socket_fails_saying_why() -> None:
    with socket.socket() as s, pytest.raises(NotAUnitTest, match="must not connect a socket"):
        s.connect(("127.0.0.1", 6379))


def test_serving_on_a_socket_fails_saying_why() -> None:
    with socket.socket() as s, pytest.raises(NotAUnitTest, match="must not bind a socket"):
        s.bind(("127.0.0.1", 0))


def test_starting_a_process_fails_saying_why() -> None:
    with pytest.raises(NotAUnitTest, match="must not start a process"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)

"""PostgreSQL with a standby, as the app connects to it: a multi-host DATABASE_URL with
target_session_attrs (libpq tries the hosts in turn and keeps the one that takes writes),
DATABASE_SYNCHRONOUS_COMMIT on every session, and TCP keepalives that find a vanished server.
The failover itself, on real primary and standby processes, is the soak test
tests/system/test_failover.py."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.engine import make_url

from holdless.timeouts import DB_KEEPALIVES_IDLE_SECONDS
from models.base import Database


@pytest.fixture
def postgres_url(database_url: str) -> str:
    """The suite's database when it is PostgreSQL (CI's second run, DATABASE_URL)."""
    if not database_url.startswith("postgres"):
        pytest.skip("needs DATABASE_URL on PostgreSQL (CI's run on PostgreSQL sets it)")
    return database_url


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hosts_url(url: str, hosts: list[str], attrs: str) -> str:
    """`url` with libpq's host list and target_session_attrs in its query string."""
    parsed = make_url(url)
    return parsed.set(host=None, port=None, query={
        **parsed.query, "host": hosts, "target_session_attrs": attrs}).render_as_string(
            hide_password=False)


def _server_port(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(text("SELECT inet_server_port()")))


def test_multi_host_url_passes_over_a_host_that_does_not_answer_to_the_writable_one(
        postgres_url: str) -> None:
    live = make_url(postgres_url)
    hosts = [f"127.0.0.1:{closed_port()}", f"{live.host}:{live.port or 5432}"]
    db = Database(hosts_url(postgres_url, hosts, "read-write"))
    try:
        assert _server_port(db) == (live.port or 5432)
    finally:
        db.dispose()


def test_target_session_attrs_is_honoured_a_primary_is_no_standby(postgres_url: str) -> None:
    live = make_url(postgres_url)
    db = Database(hosts_url(postgres_url, [f"{live.host}:{live.port or 5432}"], "standby"))
    try:
        with pytest.raises(sqlalchemy.exc.OperationalError):
            _server_port(db)
    finally:
        db.dispose()


@pytest.mark.parametrize("level", ["remote_apply", "local"])
def test_database_synchronous_commit_is_every_sessions_level(postgres_url: str,
                                                             level: str) -> None:
    db = Database(postgres_url, synchronous_commit=level)
    try:
        with db.session() as s:
            assert s.scalar(text("SHOW synchronous_commit")) == level
            assert s.scalar(text("SELECT source FROM pg_settings "
                                 "WHERE name = 'synchronous_commit'")) == "client"
    finally:
        db.dispose()


def test_without_database_synchronous_commit_sessions_keep_the_servers_level(
        postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        with db.session() as s:
            source = s.scalar(text("SELECT source FROM pg_settings "
                                   "WHERE name = 'synchronous_commit'"))
        assert source != "client"  # the server's configuration (or its default) decides
    finally:
        db.dispose()


def test_connections_carry_tcp_keepalives_that_find_a_vanished_server(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        with db.engine.connect() as conn:
            params = conn.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
        assert params["keepalives"] == "1"
        assert params["keepalives_idle"] == str(DB_KEEPALIVES_IDLE_SECONDS)
    finally:
        db.dispose()

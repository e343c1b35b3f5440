"""The declarative base, a UTC-preserving datetime type, and the session factory."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, UOWTransaction, sessionmaker
from sqlalchemy.types import TypeDecorator

from holdless.timeouts import (
    DB_POOL_OVERFLOW,
    DB_POOL_SIZE,
    DB_POOL_TIMEOUT_SECONDS,
    DB_STATEMENT_TIMEOUT_SECONDS,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    postgres_connect_args,
)

log = logging.getLogger(__name__)

# The widest integer (and id) every database here stores: PostgreSQL's `integer`.
MAX_STORED_INT = 2**31 - 1

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every Holdless table."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store as UTC; refuse naive datetimes, which would be ambiguous."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL with NORMAL: a commit survives the process crashing (not the machine losing
    # power); no fsync per commit, which otherwise dominated every webhook's time.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.close()


def make_engine(url: str, statement_timeout: float | None = DB_STATEMENT_TIMEOUT_SECONDS,
                synchronous_commit: str = "") -> Engine:
    """An engine for `url`, with SQLite tuned for several processes and every wait bounded
    (holdless.timeouts; `statement_timeout` None: statements unbounded, for migrations);
    PostgreSQL's commits wait for standbys as `synchronous_commit` says (empty: the server's
    setting). Statement parameters (phone numbers among them) never appear in SQL logs or in
    database error messages."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = (postgres_connect_args(statement_timeout, synchronous_commit)
                    if url.startswith("postgres") else {})
    return create_engine(url, pool_pre_ping=True, pool_size=DB_POOL_SIZE,
                         max_overflow=DB_POOL_OVERFLOW, pool_timeout=DB_POOL_TIMEOUT_SECONDS,
                         connect_args=connect_args, hide_parameters=True)


# session.info key: the watched tables a session wrote since its last commit (a rollback
# does not clear it: at worst a later commit reports a change that did not happen).
_WROTE = "holdless.wrote"


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, synchronous_commit: str = "") -> None:
        self.url = url
        self.engine = make_engine(url, synchronous_commit=synchronous_commit)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._watchers: list[tuple[frozenset[str], Callable[[], None]]] = []

    def watch(self, tables: frozenset[str], changed: Callable[[], None]) -> None:
        """Call `changed` after every commit of this database's sessions that wrote to one
        of `tables` (rows added, changed or deleted through a session, ORM or bulk)."""
        if not self._watchers:
            event.listen(self.sessions, "after_flush", self._flushed)
            event.listen(self.sessions, "do_orm_execute", self._executed)
            event.listen(self.sessions, "after_commit", self._committed)
        self._watchers.append((tables, changed))

    def _note(self, session: Session, tables: set[str]) -> None:
        watched = {t for t in tables if any(t in w for w, _ in self._watchers)}
        if watched:
            session.info.setdefault(_WROTE, set()).update(watched)

    def _flushed(self, session: Session, _flush: UOWTransaction) -> None:
        rows = (*session.new, *session.dirty, *session.deleted)
        self._note(session, {getattr(r, "__tablename__", "") for r in rows})

    def _executed(self, state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            table = getattr(state.statement, "table", None)
            self._note(state.session, {getattr(table, "name", "")})

    def _committed(self, session: Session) -> None:
        wrote = session.info.pop(_WROTE, set())
        for tables, changed in self._watchers:
            if wrote & tables:
                try:
                    changed()
                except Exception:  # the change is committed; a watcher's failure must not undo
                    log.exception("after-commit watcher failed for %s", sorted(wrote & tables))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

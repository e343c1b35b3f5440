"""A store that accepts connections and then stalls (neither answers nor refuses).

Twilio waits 15 s for a webhook's answer, then requests the number's Fallback URL or plays
its own "application error" (twilio.com/docs/api/errors/11205). Holdless bounds every wait
on its stores (holdless/timeouts.py), so a caller's webhook answers within 5 s with the
outage apology (ivr/outage.py) whatever Redis or the database does, and service resumes
when the store does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sqlite3
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
import sqlalchemy.exc
from sqlalchemy import text

from holdless.migrate import upgrade
from holdless.timeouts import (
    DB_CONNECT_TIMEOUT_SECONDS,
    DB_LOCK_TIMEOUT_SECONDS,
    DB_STATEMENT_TIMEOUT_SECONDS,
    REDIS_SOCKET_TIMEOUT_SECONDS,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    WEBHOOK_BUDGET_SECONDS,
)
from queueing import lines
from simulator import PhoneNetwork, TwilioRestStandIn
from simulator.stack import LiveServer
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE, SignedTwilioClient, app_for, app_on
from tests.faults import PausableProxy, StatementOutage
from tests.helpers import call_form, seed_queues, twiml

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "holdless_stalled_store"
# How long the test itself waits for an answer before calling the webhook hung (Twilio
# would have given up at 15 s).
HUNG_AFTER_SECONDS = 20


def redis_proxy_target(url: str) -> tuple[str, int] | str:
    """Where a stalling proxy in front of the Redis at `url` forwards to."""
    if url.startswith("unix://"):
        return url.removeprefix("unix://").split("?")[0]
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


def timed_post(twilio: SignedTwilioClient, path: str, form: dict[str, str]
               ) -> tuple[ET.Element | None, float]:
    """POST a webhook; its TwiML and how long it took (None: no answer within
    HUNG_AFTER_SECONDS, the request is left running in its thread)."""
    answer: list[Any] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: answer.append(twilio.post(path, form)), daemon=True)
    thread.start()
    thread.join(HUNG_AFTER_SECONDS)
    took = time.monotonic() - started
    return (twiml(answer[0]) if answer else None), took


def timed_call(action: Callable[[], None]) -> tuple[BaseException | None, float]:
    """Run `action`; what it raised and how long it took (a hang: an AssertionError after
    HUNG_AFTER_SECONDS, the action left running in its thread)."""
    raised: list[BaseException | None] = []

    def run() -> None:
        try:
            action()
            raised.append(None)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            raised.append(error)

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HUNG_AFTER_SECONDS)
    assert raised, f"still waiting after {HUNG_AFTER_SECONDS}s"
    return raised[0], time.monotonic() - started


def is_apology(root: ET.Element | None) -> bool:
    """The outage apology: spoken words, then a pause and a retry (or, on hold, keep holding)."""
    return root is not None and [c.tag for c in root][:2] == ["Say", "Pause"] and (
        "sorry" in (root[0].text or ""))


@pytest.fixture
def redis_stalls(settings, redis_url, frozen_clock) -> Iterator[tuple[Any, Any, PausableProxy]]:
    """An app whose Redis (the suite's: embedded Valkey by default) sits behind a stalling
    proxy."""
    proxy = PausableProxy(redis_proxy_target(redis_url))
    with app_on(settings.database_url, proxy.url(), settings.twilio_api_base_url) as (app, rt):
        yield app, rt, proxy
    proxy.close()


def test_redis_that_accepts_then_stalls_callers_hear_the_apology_within_5s_not_twilios_error(
        redis_stalls):
    app, rt, proxy = redis_stalls
    twilio = SignedTwilioClient(app.test_client())
    seed_queues(rt, ("support", "Support", None))
    first = call_form(from_="+12125550180")
    assert twiml(twilio.post("/voice/incoming", first)).find("Enqueue") is not None
    proxy.stall()
    second = call_form(from_="+12125550181")
    answers = [timed_post(twilio, "/voice/incoming", second),
               timed_post(twilio, "/voice/hold", first),
               timed_post(twilio, "/voice/incoming?retry=1", second)]
    proxy.resume()
    for root, took in answers:
        assert is_apology(root), ET.tostring(root) if root is not None else "no answer"
        assert took < WEBHOOK_BUDGET_SECONDS, f"answered after {took:.1f}s"
    root = twiml(twilio.post("/voice/incoming?retry=1", second))
    assert root.find("Enqueue") is not None and "second in line" in ET.tostring(root, "unicode")
    assert [e.call_sid for e in lines.waiting(rt.live, "support")] == [
        first["CallSid"], second["CallSid"]]
    print("redis stalled: answers after " + ", ".join(f"{t:.2f}s" for _, t in answers))


def test_a_stalled_redis_command_of_the_runtime_fails_within_its_socket_timeout(redis_stalls):
    _app, rt, proxy = redis_stalls
    rt.live.ping()
    rt.jobs_redis.ping()
    proxy.stall()
    try:
        for client in (rt.live, rt.jobs_redis):
            started = time.monotonic()
            with pytest.raises(redis.exceptions.TimeoutError):
                client.get("hl:anything")
            assert time.monotonic() - started < REDIS_SOCKET_TIMEOUT_SECONDS + 0.5
    finally:
        proxy.resume()


# -- PostgreSQL behind a stalling proxy (where PostgreSQL runs on 127.0.0.1:5432) ------------

@pytest.fixture
def postgres_stalls(redis_url, twilio_api, frozen_clock
                    ) -> Iterator[tuple[Any, Any, PausableProxy]]:
    """An app on PostgreSQL reached through a stalling proxy (skipped without PostgreSQL)."""
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (PG_DB,)).fetchone():
                conn.execute(f"CREATE DATABASE {PG_DB}")
    except psycopg.Error:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    upgrade(f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}")
    proxy = PausableProxy(("127.0.0.1", 5432))
    url = proxy.url("postgresql+psycopg", f"/{PG_DB}").replace("://", "://postgres@")
    with app_on(url, redis_url, twilio_api.base_url) as (app, rt):
        yield app, rt, proxy
    proxy.close()


def test_postgres_that_accepts_then_stalls_callers_hear_the_apology_within_5s_not_twilios_error(
        postgres_stalls):
    app, rt, proxy = postgres_stalls
    twilio = SignedTwilioClient(app.test_client())
    seed_queues(rt, ("support", "Support", None))
    first = call_form(from_="+12125550182")
    assert twiml(twilio.post("/voice/incoming", first)).find("Enqueue") is not None
    proxy.stall()
    second = call_form(from_="+12125550183")
    answers = [timed_post(twilio, "/voice/incoming", second),
               timed_post(twilio, "/voice/incoming?retry=1", second)]
    proxy.resume()
    for root, took in answers:
        assert is_apology(root), ET.tostring(root) if root is not None else "no answer"
        assert took < WEBHOOK_BUDGET_SECONDS, f"answered after {took:.1f}s"
    root = twiml(twilio.post("/voice/incoming?retry=2", second))
    assert root.find("Enqueue") is not None
    print("postgres stalled: answers after " + ", ".join(f"{t:.2f}s" for _, t in answers))


# -- the number's Fallback URL ---------------------------------------------------------------

def test_fallback_url_answers_an_apology_and_one_retry_while_every_store_hangs(redis_stalls):
    app, rt, proxy = redis_stalls
    twilio = SignedTwilioClient(app.test_client())
    outage = StatementOutage(rt.db.engine)
    proxy.stall()
    outage.start()
    try:
        failed = f"{PUBLIC_BASE}/voice/menu?attempt=1"
        form = call_form(from_="+12125550184", ErrorCode="11205", ErrorUrl=failed)
        root, took = timed_post(twilio, "/voice/fallback", form)
        assert outage.seen == 0  # not one statement
        again, _ = timed_post(twilio, "/voice/fallback", {
            **form, "ErrorUrl": retry_path_of(root)})
    finally:
        proxy.resume()
        outage.end()
        outage.remove()
    assert root is not None and took < 1, took
    assert [c.tag for c in root] == ["Say", "Pause", "Redirect"] and "sorry" in root[0].text
    assert root.find("Redirect").text == f"{PUBLIC_BASE}/voice/menu?attempt=1&fallback=1"
    assert again is not None and [c.tag for c in again] == ["Say", "Hangup"]
    assert "call again" in again[0].text


def retry_path_of(root: ET.Element | None) -> str:
    """The URL an apology's Redirect sends the call to."""
    assert root is not None and root.find("Redirect") is not None
    return root.find("Redirect").text or ""


# -- each limit of the database does what it says ----------------------------------------------

def test_postgres_connection_to_a_server_that_accepts_then_stalls_gives_up_within_2s(
        postgres_stalls):
    _app, rt, proxy = postgres_stalls
    rt.db.dispose()  # no pooled connection: the next one is opened through the stall
    proxy.stall()
    try:
        error, took = timed_call(lambda: rt.db.engine.connect().close())
    finally:
        proxy.resume()
    assert isinstance(error, sqlalchemy.exc.OperationalError), error
    assert took < DB_CONNECT_TIMEOUT_SECONDS + 0.5, took


def query(rt: Any, sql: str) -> Callable[[], None]:
    """Run `sql` on a connection of the app's pool."""
    def run() -> None:
        with rt.db.engine.connect() as conn:
            conn.execute(text(sql))
    return run


def test_postgres_statement_running_past_3s_is_cancelled(postgres_stalls):
    _app, rt, _proxy = postgres_stalls
    error, took = timed_call(query(rt, "SELECT pg_sleep(10)"))
    assert isinstance(error, sqlalchemy.exc.OperationalError), error
    assert "statement timeout" in str(error) and took < DB_STATEMENT_TIMEOUT_SECONDS + 0.5


def test_postgres_wait_for_a_lock_held_elsewhere_ends_within_2s(postgres_stalls):
    _app, rt, _proxy = postgres_stalls
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{PG_DB}") as holder:
        holder.execute("LOCK TABLE agents IN ACCESS EXCLUSIVE MODE")  # held until closed
        error, took = timed_call(query(rt, "SELECT count(*) FROM agents"))
    assert isinstance(error, sqlalchemy.exc.OperationalError), error
    assert "lock timeout" in str(error) and took < DB_LOCK_TIMEOUT_SECONDS + 0.5, took


def test_sqlite_locked_by_another_process_callers_hear_the_apology_within_5s(rt, twilio):
    if rt.db.engine.dialect.name != "sqlite":
        pytest.skip("the suite runs on PostgreSQL (its limits are tested above)")
    seed_queues(rt, ("support", "Support", None))
    holder = sqlite3.connect(rt.db.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, and not finishing
    try:
        root, took = timed_post(twilio, "/voice/incoming", call_form(from_="+12125550185"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert is_apology(root), ET.tostring(root) if root is not None else "no answer"
    assert SQLITE_BUSY_TIMEOUT_SECONDS <= took < WEBHOOK_BUDGET_SECONDS, took


# -- through the stand-in: what the caller hears --------------------------------------------

@contextlib.contextmanager
def served(app: Any, stall_paths: frozenset[str] = frozenset(), stall_seconds: float = 0.0,
           **number: Any) -> Iterator[tuple[PhoneNetwork, str]]:
    """`app` on a real port (requests to `stall_paths` held `stall_seconds` first: a web
    process that hangs) and a phone network calling it, its number configured by `number`."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    def hanging(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") in stall_paths and "fallback=1" not in environ.get(
                "QUERY_STRING", ""):
            time.sleep(stall_seconds)
        return app(environ, start_response)

    server = LiveServer()
    app.config["HOLDLESS"] = dataclasses.replace(app.config["HOLDLESS"],
                                                 public_base_url=server.base_url)
    app.extensions["holdless"].settings = app.config["HOLDLESS"]
    server.start(hanging)
    with TwilioRestStandIn(auth_token=AUTH_TOKEN) as standin:
        net = PhoneNetwork(server.base_url, AUTH_TOKEN, standin, speed=20, **number)
        try:
            yield net, server.base_url
        finally:
            net.close()
            server.stop()


def test_through_the_stand_in_a_stalled_redis_gives_the_caller_the_apology_never_error_11205(
        redis_stalls):
    app, rt, proxy = redis_stalls
    seed_queues(rt, ("support", "Support", None))
    with served(app, voice_fallback_url="/voice/fallback") as (net, _base):
        proxy.stall()
        started = time.monotonic()
        caller = net.place_call("+12125550186", "+12125550000", status_url=None)
        caller.wait_until(lambda c: "technical problem" in c.said(), timeout=10)
        heard_after = time.monotonic() - started
        proxy.resume()
        caller.wait_until(lambda c: "in line" in c.said(), timeout=10)
        caller.hangup()
    assert heard_after < WEBHOOK_BUDGET_SECONDS, heard_after
    assert caller.errors == []  # no 11205, no fallback, no application error
    print(f"stand-in: apology heard {heard_after:.2f}s after the call came in")


def test_through_the_stand_in_a_hung_web_process_hands_the_call_to_the_fallback_url_which_retries(
        rt, settings):
    app = app_for(rt, settings)
    seed_queues(rt, ("support", "Support", None))
    with served(app, frozenset({"/voice/incoming"}), stall_seconds=2.0, webhook_timeout=1.0,
                voice_fallback_url="/voice/fallback") as (net, base):
        caller = net.place_call("+12125550187", "+12125550000", status_url=None)
        caller.wait_until(lambda c: "in line" in c.said(), timeout=10)
        caller.hangup()
    said = caller.said()
    assert said.index("try once more") < said.index("in line")
    assert [(e.kind, e.url, e.fatal) for e in caller.errors] == [
        ("http-11205", f"{base}/voice/incoming", False)]


# -- the messaging webhook: Twilio waits for it 15 s too ---------------------------------------

PG_TEXTS_DB = "holdless_stalled_texts"


def _recreate(database: str, *, drop_only: bool = False) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {database}")


@pytest.fixture
def postgres_stalls_for_texts(redis_url, twilio_api, frozen_clock
                              ) -> Iterator[tuple[Any, Any, PausableProxy]]:
    """An app on a PostgreSQL database of its own behind a stalling proxy, dropped
    afterwards (skipped without PostgreSQL)."""
    try:
        _recreate(PG_TEXTS_DB)
    except psycopg.Error:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    upgrade(f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_TEXTS_DB}")
    proxy = PausableProxy(("127.0.0.1", 5432))
    url = proxy.url("postgresql+psycopg", f"/{PG_TEXTS_DB}").replace("://", "://postgres@")
    try:
        with app_on(url, redis_url, twilio_api.base_url) as (app, rt):
            yield app, rt, proxy
    finally:
        proxy.resume()
        proxy.close()
        _recreate(PG_TEXTS_DB, drop_only=True)


def test_a_text_while_postgres_stalls_is_answered_within_5s_asking_to_send_it_again(
        postgres_stalls_for_texts):
    app, _rt, proxy = postgres_stalls_for_texts
    twilio = SignedTwilioClient(app.test_client())
    form = {"MessageSid": "SM" + "3" * 32, "AccountSid": "AC" + "0" * 32,
            "From": "+12125550186", "To": "+12125550100", "Body": "NOCALL"}
    proxy.stall()
    root, took = timed_post(twilio, "/sms/incoming", form)
    proxy.resume()
    assert root is not None, "no answer: Twilio would have given up at 15 s"
    assert took < WEBHOOK_BUDGET_SECONDS, f"answered after {took:.1f}s"
    assert root.find("Message").text == ("Sorry, we could not act on your message just now. "
                                         "Please send it again in a few minutes.")

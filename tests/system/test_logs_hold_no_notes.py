"""No log line holds a full phone number or any text an agent typed, over a whole journey run
end to end: the app on a real HTTP server (so its request log is written), the production
worker running the jobs, the phone network placing and answering calls, and agents working
through the console API over HTTP.

The journey: a known caller picks a queue from the menu and is answered by Alice, who types a
draft and a final note, flags the caller and warm-transfers them to Bob with a reason; Bob
adds a note and cold-transfers them to the sales queue with a reason; Carol answers, adds a
note, and the caller hangs up; each agent wraps up with a closing note. A second caller books
a callback, and Alice calls them back and wraps up with a note. Every logger is captured at
DEBUG throughout (the app's, rq, werkzeug, SQLAlchemy's statements and rows, twilio, urllib3).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from admin import directory
from entrypoints import runtime
from entrypoints.runtime import Runtime
from holdless import clock
from holdless.settings import Settings
from models import Base
from models.callbacks import COMPLETED as CALLBACK_COMPLETED
from models.callbacks import Callback
from models.console import Note, Transfer, WrapUp
from models.entities import Caller, Queue
from simulator import Answer, PhoneNetwork, TwilioRestStandIn, answer_when
from simulator.call import VirtualCall
from simulator.stack import JobPump, LiveServer
from tests.concurrency_stack import ConsoleAgent
from tests.conftest import AUTH_TOKEN
from tests.daytime import daytime_clock, daytime_clock_spec
from tests.system.test_logs_hold_no_numbers import LOGGERS, forbidden

PASSWORD = "correct horse battery"
SPEED = 20.0
OUR_NUMBER = "+12125550000"
KNOWN_CALLER = "+12125550123"
CALLBACK_CALLER = "+16465550199"
NUMBERS = [KNOWN_CALLER, CALLBACK_CALLER, OUR_NUMBER]
# Everything agents type, each with a word that appears nowhere else.
TYPED = {"draft": "Draft about the quokka invoice",
         "note": "Refund promised for the marmot order",
         "warm": "Billing question about the narwhal plan",
         "bob": "Checked the axolotl account",
         "cold": "Needs sales for the pangolin upgrade",
         "carol": "Sold the wombat bundle",
         "close-alice": "Closing words on the ocelot case",
         "close-bob": "Closing on the tapir file",
         "close-carol": "Closing on the capybara file",
         "callback": "Called back about the okapi bill"}


class DebugJobPump(JobPump):
    """The production worker in threads, logging at DEBUG (the pump's default is WARNING)."""

    def _work(self, worker: Any) -> None:
        while not self._stop.is_set():
            worker.work(burst=False, logging_level="DEBUG", max_idle_time=1)


@dataclasses.dataclass
class Journey:
    """The running stack, the phone network and the three agents' consoles."""

    rt: Runtime
    network: PhoneNetwork
    desks: dict[str, ConsoleAgent]
    ids: dict[str, int]


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Wait (real seconds) until `check()` gives something truthy; return it."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.05)
    return found


@pytest.fixture
def journey(settings: Settings, twilio_api: TwilioRestStandIn) -> Iterator[Journey]:
    """The app served over HTTP at its own public URL, a DEBUG job pump, the network."""
    from entrypoints.web import create_app
    previous_clock, previous_rt = clock.use(daytime_clock()), runtime.use(None)
    server = LiveServer()
    config = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)
              if f.name != "extra"}
    config.update(public_base_url=server.base_url, wrap_up_seconds=3600,
                  clock=daytime_clock_spec(),
                  secure_cookies=False)
    app = create_app(config)
    rt: Runtime = app.extensions["holdless"]
    rt.live.flushdb()
    with rt.db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    server.start(app)
    pump = DebugJobPump(rt).start()
    network = PhoneNetwork(server.base_url, AUTH_TOKEN, twilio_api, speed=SPEED,
                           play_seconds=20, hold_music_seconds=20)
    try:
        yield Journey(rt, network, {}, _seed(rt, server.base_url))
    finally:
        network.close()
        pump.stop()
        server.stop()
        rt.close()
        clock.use(previous_clock)
        runtime.use(previous_rt)


def _seed(rt: Runtime, base_url: str) -> dict[str, int]:
    with rt.db.session() as s:
        directory.create_queue(s, "support", "Support", "1")
        directory.create_queue(s, "sales", "Sales", "2")
        s.add(Caller(number=KNOWN_CALLER, name="Grace Hopper", account_ref="ACC-42"))
        s.flush()
        s.scalar(select(Queue).where(Queue.slug == "support")).callback_threshold_seconds = 0
        return {name: directory.create_agent(s, name.title(), name, f"client:{name}", queues,
                                             "agent", PASSWORD).id
                for name, queues in (("alice", ["support"]), ("bob", []), ("carol", ["sales"]))}


def _desk(j: Journey, name: str, base_url: str) -> ConsoleAgent:
    desk = ConsoleAgent(name, PASSWORD, [base_url])
    desk.sign_in()
    j.desks[name] = desk
    j.network.register_endpoint(f"client:{name}", desk.answer)  # stays until hung up
    return desk


def _post(desk: ConsoleAgent, path: str, body: dict[str, Any], expect: int = 200) -> Any:
    reply = desk._send(path, body)
    assert reply.status_code == expect, (path, reply.status_code, reply.text[:200])
    return reply.json()


def _picks_up(desk: ConsoleAgent) -> VirtualCall:
    call = desk.inbox.get(timeout=10)
    call.wait_until(lambda c: c.joined_conference is not None, timeout=10)
    return call


def _current(desk: ConsoleAgent, phase: str) -> int:
    def found() -> int:
        body = desk.session.get(desk._url("/api/me/current"), timeout=10).json()
        now = body.get("interaction") or {}
        return int(now["id"]) if now.get("phase") == phase else 0
    return eventually(found)


def _wrap_up(desk: ConsoleAgent, interaction_id: int, note: str) -> None:
    path = f"/api/interactions/{interaction_id}/wrap-up"
    eventually(lambda: desk._send(path, {"disposition": "resolved", "note": note})
               .status_code == 200)


def _run(j: Journey, base_url: str) -> None:
    alice, bob, carol = (_desk(j, n, base_url) for n in ("alice", "bob", "carol"))
    alice.go_available()
    caller = j.network.place_call(KNOWN_CALLER, OUR_NUMBER, keypresses=answer_when(
        {"called back": None, "press 1": "1"}))
    a_call = _picks_up(alice)
    first = _current(alice, "connected")
    base = f"/api/interactions/{first}"
    assert alice.session.put(alice._url(f"{base}/notes/draft"), json={"text": TYPED["draft"]},
                             headers={"X-CSRFToken": alice.token}, timeout=10).status_code == 200
    _post(alice, f"{base}/notes", {"text": TYPED["note"]}, 201)
    _post(alice, f"{base}/flag-difficult", {"difficult": True})
    bob.go_available()
    _post(alice, f"{base}/transfer", {"mode": "warm", "to_agent_id": j.ids["bob"],
                                      "reason": TYPED["warm"]}, 202)
    b_call = _picks_up(bob)
    a_call.hangup()
    _book_callback(j)  # while Alice, the only agent of support, is in wrap-up
    _wrap_up(alice, first, TYPED["close-alice"])
    assert _current(bob, "connected") == first
    _post(bob, f"{base}/notes", {"text": TYPED["bob"]}, 201)
    carol.go_available()
    _post(bob, f"{base}/transfer", {"mode": "cold", "to_queue": "sales",
                                    "reason": TYPED["cold"]}, 202)
    b_call.hangup()  # the caller is back in line; Bob puts the phone down
    _wrap_up(bob, first, TYPED["close-bob"])
    _picks_up(carol)
    assert _current(carol, "connected") == first
    _post(carol, f"{base}/notes", {"text": TYPED["carol"]}, 201)
    caller.hangup()
    _wrap_up(carol, first, TYPED["close-carol"])
    _callback_journey(j, alice)


def _book_callback(j: Journey) -> None:
    j.network.register_endpoint(CALLBACK_CALLER, Answer.human(after=1))
    booker = j.network.place_call(CALLBACK_CALLER, OUR_NUMBER, keypresses=answer_when(
        {"called back": "1", "to confirm": "1", "press 1": "1"}))
    booker.wait_ended(timeout=10)
    assert "You're booked." in booker.said()


def _callback_journey(j: Journey, alice: ConsoleAgent) -> None:
    agent_call = _picks_up(alice)
    customer = j.network.wait_for_call(
        lambda c: c.to == CALLBACK_CALLER and c.joined_conference is not None, timeout=10)
    agent_call.hangup()
    customer.wait_ended(timeout=10)
    _wrap_up(alice, _current(alice, "wrap-up"), TYPED["callback"])
    with j.rt.db.session() as s:
        assert s.scalar(select(Callback)).status == CALLBACK_COMPLETED


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, captured."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def test_no_log_line_of_a_journey_with_notes_and_transfers_holds_a_number_or_typed_text(
        journey, every_log):
    _run(journey, journey.network.app.base_url.rstrip("/"))
    with journey.rt.db.session() as s:  # the journey did what it says
        notes = {n.text for n in s.scalars(select(Note))}
        assert {TYPED["note"], TYPED["bob"], TYPED["carol"], TYPED["close-alice"]} <= notes
        assert sorted(t.mode for t in s.scalars(select(Transfer))) == ["cold", "warm"]
        assert len(s.scalars(select(WrapUp)).all()) == 4
    lines = [r.getMessage() + (r.exc_text or "") for r in every_log.records]
    names = {r.name.split(".")[0] for r in every_log.records}
    assert {"werkzeug", "rq", "sqlalchemy", "webhooks"} <= names  # the capture saw them all
    assert any("/api/interactions/" in line for line in lines)
    number_leaks = [(n, line) for n in NUMBERS for line in lines
                    for pattern in forbidden(n) if pattern.search(line)]
    assert number_leaks == []
    words = {key: text.split()[-2] for key, text in TYPED.items()}  # quokka, marmot, …
    text_leaks = [(key, line) for key, word in words.items() for line in lines if word in line]
    assert text_leaks == []
    print(f"log check: {len(lines)} log lines from {sorted(names)} hold no number or typed text")

"""No log line holds a caller's full phone number, whatever the caller's path does.

Every logger is captured at DEBUG (the app's, rq's worker, werkzeug's request log from a
real HTTP server, SQLAlchemy's statement log, twilio's and urllib3's) while callers go
through the menu, wait, are offered, answered, wrapped up, hang up, send hostile input,
and meet a database outage.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from models.entities import Caller, Leg
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE
from tests.faults import StatementOutage, drain
from tests.helpers import call_form, make_available, seed_agent, seed_queues

NUMBERS = ["+12125550123", "+442079460958", "+33142685300", "+16465550199", "+12125550188"]
LOGGERS = ["", "rq", "rq.worker", "werkzeug", "sqlalchemy.engine", "twilio", "urllib3",
           "webhooks", "ivr", "queueing", "callbacks", "holdless"]


def forbidden(number: str) -> list[re.Pattern[str]]:
    """A number as it could appear: E.164 digits, with or without '+', or national digits."""
    digits = number.lstrip("+")
    national = digits[1:] if digits.startswith("1") else digits[2:]
    return [re.compile(re.escape(d)) for d in {digits, national}]


class LiveServer:
    """The app on a real werkzeug HTTP server, so its request log is written too."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.validator = RequestValidator(AUTH_TOKEN)

    def post(self, path: str, form: dict[str, str]) -> int:
        """POST `form` signed as Twilio would; returns the status code."""
        signature = self.validator.compute_signature(PUBLIC_BASE + path, form)
        request = urllib.request.Request(self.base + path, data=urlencode(form).encode(),
                                         headers={"X-Twilio-Signature": signature})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            error.close()
            return int(error.code)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def live(app) -> Iterator[LiveServer]:
    """A real HTTP server in front of the app."""
    server = LiveServer(app)
    yield server
    server.close()


@pytest.fixture
def every_log(caplog) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, captured."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def _journey(rt, live: LiveServer) -> None:
    seed_queues(rt, ("sales", "Sales", "1"), ("support", "Support", "2"))
    with rt.db.session() as s:
        s.add(Caller(number=NUMBERS[0], name="Grace Hopper"))
    agent_id = seed_agent(rt, "alice", ["support"], contact=NUMBERS[4])
    forms = [call_form(from_=n) for n in NUMBERS[:4]]
    for form in forms:
        assert live.post("/voice/incoming", form) == 200
        assert live.post("/voice/menu?attempt=1", {**form, "Digits": "2"}) == 200
        assert live.post("/voice/hold", form) == 200
    assert live.post("/voice/menu?attempt=1", {**forms[0], "Digits": "<Dial>"}) == 200
    make_available(rt, agent_id)
    drain(rt)
    with rt.db.session() as s:
        leg = s.scalar(select(Leg))
    agent = call_form(sid=leg.call_sid, from_=NUMBERS[4])
    assert live.post(f"/voice/agent/whisper?leg={leg.id}", agent) == 200
    drain(rt)
    assert live.post(f"/voice/status/agent?leg={leg.id}", {**agent, "CallStatus": "completed"}) \
        == 204
    drain(rt)
    assert live.post("/voice/status", {**forms[1], "CallStatus": "completed"}) == 204
    assert live.post("/voice/status", {**forms[0], "CallStatus": "completed"}) == 204
    assert live.post("/voice/incoming", call_form(sid="CA123", from_=NUMBERS[2])) == 400
    assert live.post("/voice/status", call_form(from_=NUMBERS[3], CallStatus="completed")) \
        == 404
    outage = StatementOutage(rt.db.engine)
    outage.start()
    try:
        assert live.post("/voice/incoming", call_form(from_=NUMBERS[2])) == 200
        assert live.post("/voice/status", {**forms[2], "CallStatus": "completed"}) == 202
    finally:
        outage.end()
        outage.remove()


def test_no_log_line_of_the_callers_path_holds_a_full_phone_number(rt, live, every_log,
                                                                    twilio_api):
    _journey(rt, live)
    lines = [r.getMessage() + (r.exc_text or "") for r in every_log.records]
    names = {r.name.split(".")[0] for r in every_log.records}
    assert {"werkzeug", "rq", "ivr", "webhooks"} <= names  # the capture saw them all
    assert any("POST /voice/incoming" in line for line in lines)
    assert any("…0123" in line for line in lines)  # masked numbers are logged, as intended
    leaks = [(number, line) for number in NUMBERS for line in lines
             for pattern in forbidden(number) if pattern.search(line)]
    assert leaks == []
    print(f"log check: {len(lines)} log lines from {sorted(names)} hold no full number")


def test_holdless_own_log_lines_mask_numbers_even_without_the_redaction_net(
        rt, live, every_log, twilio_api):
    plain = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        _journey(rt, live)
    finally:
        logging.setLogRecordFactory(plain)
    ours = [r.getMessage() for r in every_log.records
            if r.name.split(".")[0] in ("ivr", "webhooks", "queueing", "callbacks", "holdless")]
    assert ours
    assert [line for number in NUMBERS for line in ours
            for pattern in forbidden(number) if pattern.search(line)] == []


@pytest.mark.parametrize(("text", "expected"), [
    ("call from +12125550123 joined", "call from …0123 joined"),
    ("Row (1, '442079460958', 'Grace')", "Row (1, '…0958', 'Grace')"),
    ("job connect-12 took 0:00:00.034196s", "job connect-12 took 0:00:00.034196s"),
    ("agent 7 is available", "agent 7 is available"),
])
def test_redaction_keeps_last_four_digits_of_number_like_runs_only(text, expected):
    from holdless.logs import redact
    assert redact(text) == expected

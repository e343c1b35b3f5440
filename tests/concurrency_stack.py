"""The production stack for concurrency tests, and the people who use it.

`BalancedStack`: two web processes (the Procfile's gunicorn command) behind one public URL,
two RQ workers (the Procfile's worker command), real Redis and a real database, and the
Twilio REST stand-in. `BalancedAppClient` is the load balancer: it signs each webhook for the
public URL, as Twilio does, and delivers it to the web processes in turn, noting when each
answer came back. `ConsoleAgent` is an agent at the console: signs in over HTTP, goes
available, and wraps up each call through the agent API once the phone call ends.
"""

from __future__ import annotations

import itertools
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from bench.stack import Stack
from simulator.call import VirtualCall
from simulator.endpoints import Answer
from simulator.webhooks import AppClient, WebhookError, WebhookResponse
from tests.daytime import daytime_clock_spec

PUBLIC_BASE = "http://holdless-lb.test"
# Real seconds a request to a web process may take before the balancer gives up on it.
DELIVERY_TIMEOUT = 60.0
# Agents wrap up by hand in these tests: automatic wrap-up ends far after any test.
WRAP_UP_SECONDS = 3600
# The stand-in's account places 1 call per virtual second (Twilio's default), and the rushes
# run the phone network 20 virtual seconds to the real one: 20 calls per real second, which
# the app (on a real-speed clock) is told, as an account sets TWILIO_CALLS_PER_SECOND. Left
# at 1, the 500-caller soak rush waited on the pacer (810 dials) past its limit.
ACCOUNT_CALLS_PER_SECOND = 20


class BalancedStack(Stack):
    """`bench.stack.Stack` with every web process behind one public URL (plain http, so the
    session cookie is not Secure here) and wrap-up ended only by the agent."""

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every process: the bench stack's, in development mode."""
        env = super().env()
        env.update(extra)
        env.update(HOLDLESS_ENV="development", SESSION_COOKIE_SECURE="0",
                   PUBLIC_BASE_URL=PUBLIC_BASE, HOLDLESS_WRAP_UP_SECONDS=str(WRAP_UP_SECONDS),
                   # a working afternoon, whatever the hour the suite runs at
                   HOLDLESS_CLOCK=daytime_clock_spec(),
                   TWILIO_CALLS_PER_SECOND=str(ACCOUNT_CALLS_PER_SECOND))
        return env

    @property
    def web_urls(self) -> list[str]:
        """Where each web process listens."""
        return [web.base_url for web in self.webs]


@dataclass(frozen=True)
class Delivery:
    """One webhook the balancer delivered: for which call, where, and when it was answered."""

    call_sid: str
    path: str
    web: str
    answered: float
    status: int
    enqueued: bool


class BalancedAppClient(AppClient):
    """Signs webhooks for the public URL and hands them to the web processes in turn."""

    def __init__(self, webs: list[str], auth_token: str) -> None:
        """Balance over `webs` (base URLs of the web processes)."""
        super().__init__(PUBLIC_BASE, auth_token)
        self.webs = webs
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self.deliveries: list[Delivery] = []

    def send(self, url: str, params: dict[str, str], method: str = "POST") -> WebhookResponse:
        """Sign for `url` (public) and deliver to the next web process."""
        method = (method or "POST").upper()
        if method == "GET":
            sep = "&" if urlsplit(url).query else "?"
            url = url + sep + urlencode(params) if params else url
        signed = params if method == "POST" else {}
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, signed)}
        web = self.webs[next(self._turn) % len(self.webs)]
        target = web + url.removeprefix(PUBLIC_BASE)
        try:
            reply = requests.request(method, target, data=signed or None, headers=headers,
                                     timeout=DELIVERY_TIMEOUT)
        except requests.RequestException as error:
            raise WebhookError(url, f"request failed: {type(error).__name__}") from error
        with reply:
            body = reply.text
            delivery = Delivery(params.get("CallSid", ""), urlsplit(url).path, web, time.time(),
                                reply.status_code, "<Enqueue" in body)
            with self._lock:
                self.deliveries.append(delivery)
            if reply.status_code >= 400:
                raise WebhookError(url, f"HTTP {reply.status_code}", reply.status_code)
            return WebhookResponse(reply.status_code, body)

    def spread(self) -> dict[str, int]:
        """How many webhooks each web process answered."""
        with self._lock:
            counts = {web: 0 for web in self.webs}
            for d in self.deliveries:
                counts[d.web] += 1
            return counts

    def first_enqueued(self) -> dict[str, float]:
        """For each call: when the first answer putting it in a line (<Enqueue>) came back."""
        with self._lock:
            found: dict[str, float] = {}
            for d in self.deliveries:
                if d.enqueued and d.call_sid not in found:
                    found[d.call_sid] = d.answered
            return found

    def last_answered(self) -> dict[str, float]:
        """For each call: when the last answer to any of its webhooks came back."""
        with self._lock:
            found: dict[str, float] = {}
            for d in self.deliveries:
                found[d.call_sid] = max(found.get(d.call_sid, 0.0), d.answered)
            return found

    def failures(self) -> list[Delivery]:
        """Webhooks answered with an HTTP error."""
        with self._lock:
            return [d for d in self.deliveries if d.status >= 400]


@dataclass
class ConsoleAgent:
    """One agent at the console, talking to the web processes over HTTP like the browser."""

    username: str
    password: str
    webs: list[str]
    session: requests.Session = field(default_factory=requests.Session)
    inbox: queue.Queue[VirtualCall] = field(default_factory=queue.Queue)
    freed_at: list[float] = field(default_factory=list)
    """When each request that made me free (available, or a wrap-up) was sent."""
    wrapped: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    token: str = ""
    _turn: Any = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        # One connection per request: a kept-alive connection the server has just closed
        # would be reset under the client (a race of HTTP keep-alive, not of the app).
        self.session.headers["Connection"] = "close"

    def _url(self, path: str) -> str:
        return self.webs[next(self._turn) % len(self.webs)] + path

    def sign_in(self) -> None:
        """Sign in through the form (CSRF token from the page) and read the console's token."""
        page = self.session.get(self._url("/sign-in"), timeout=DELIVERY_TIMEOUT).text
        form_token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert form_token, page[:200]
        reply = self.session.post(self._url("/sign-in"), allow_redirects=False,
                                  timeout=DELIVERY_TIMEOUT,
                                  data={"username": self.username, "password": self.password,
                                        "csrf_token": form_token.group(1)})
        assert reply.status_code == 302, (reply.status_code, reply.text[:200])
        console = self.session.get(self._url("/console"), timeout=DELIVERY_TIMEOUT).text
        meta = re.search(r'name="csrf-token" content="([^"]+)"', console)
        assert meta, console[:200]
        self.token = meta.group(1)

    def _send(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.session.post(self._url(path), json=body, timeout=DELIVERY_TIMEOUT,
                                 headers={"X-CSRFToken": self.token})

    def go_available(self) -> None:
        """Press Available."""
        self.freed_at.append(time.time())
        reply = self._send("/api/me/state", {"state": "available"})
        if reply.status_code != 200:
            self.errors.append(f"available: {reply.status_code} {reply.text[:100]}")

    def answer(self, call: VirtualCall) -> Answer:
        """The phone rings: pick up at once (the network's answer rule)."""
        self.inbox.put(call)
        return Answer.human(after=1)

    def work(self, stop: threading.Event, settle_seconds: float = 30.0) -> None:
        """Wrap up each call once it ends, until `stop` is set."""
        while not stop.is_set():
            try:
                call = self.inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            while not call.ended and not stop.is_set():
                time.sleep(0.02)
            if not stop.is_set():
                self._wrap_up(settle_seconds)

    def _wrap_up(self, settle_seconds: float) -> None:
        """Wait for the console to show the call in wrap-up, then wrap it up."""
        deadline = time.monotonic() + settle_seconds
        while time.monotonic() < deadline:
            reply = self.session.get(self._url("/api/me/current"), timeout=DELIVERY_TIMEOUT)
            body = reply.json() if reply.status_code == 200 else {}
            current = body.get("interaction") or {}
            if body.get("state") == "wrap-up" and current.get("id"):
                self.freed_at.append(time.time())
                done = self._send(f"/api/interactions/{current['id']}/wrap-up",
                                  {"disposition": "resolved"})
                if done.status_code == 200:
                    self.wrapped.append(int(current["id"]))
                    return
                self.freed_at.pop()
                if done.status_code != 409:  # 409: the leg's end is still being recorded
                    self.errors.append(f"wrap-up: {done.status_code} {done.text[:100]}")
                    return
            elif reply.status_code != 200:
                self.errors.append(f"current: {reply.status_code} {reply.text[:100]}")
                return
            time.sleep(0.05)
        self.errors.append("the console never showed the ended call in wrap-up")


def web_log_lines(workdir: Path, needle: str) -> list[str]:
    """Lines of the stack's process logs holding `needle`."""
    return [line for log in sorted(workdir.glob("*.log"))
            for line in log.read_text(errors="replace").splitlines() if needle in line]

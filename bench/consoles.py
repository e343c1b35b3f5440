"""What open consoles cost the web tier: N consoles polling /api/me/current every second
(the console before live updates) against N consoles holding a live stream
(/api/me/events) and fetching /api/me/current only when told of a change, beside the bare
Flask app answering the same N requests a second.

The figure is the web tier's CPU (every gunicorn process, from /proc) per second of the
run, and the requests it answered; the consoles run as threads in the benchmark process,
whose own CPU is not counted.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.security import generate_password_hash

from bench.stack import BARE_APP, Stack, Web
from models.entities import Agent
from queueing import push

PASSWORD = "bench console password"
TICKS = os.sysconf("SC_CLK_TCK")


def web_cpu_seconds(web: Web) -> float:
    """CPU seconds (user + system) used so far by the web process and its children."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if web.proc.pid in (pid, ppid):
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def add_agents(stack: Stack, count: int) -> list[tuple[int, str]]:
    """`count` agents who can sign in (one password hash shared: hashing is not measured)."""
    hashed = generate_password_hash(PASSWORD)
    with stack.rt.db.session() as s:
        rows = [Agent(name=f"Console {n}", username=f"console{n}", password_hash=hashed,
                      contact=f"client:console{n}") for n in range(count)]
        s.add_all(rows)
        s.flush()
        return [(a.id, a.username) for a in rows]


def sign_in(base_url: str, username: str) -> str:
    """A session cookie for `username` (the sign-in form, with its CSRF token)."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request("GET", "/sign-in")
    reply = conn.getresponse()
    page = reply.read().decode()
    cookie = reply.getheader("Set-Cookie", "").split(";")[0]
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    token = found.group(1) if found else ""
    body = f"username={username}&password={PASSWORD.replace(' ', '+')}&csrf_token={token}"
    conn.request("POST", "/sign-in", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    reply = conn.getresponse()
    reply.read()
    conn.close()
    return reply.getheader("Set-Cookie", "").split(";")[0] or cookie


@dataclass
class Tally:
    """What the consoles saw during one run."""

    requests: int = 0
    errors: int = 0
    updates: int = 0
    refused: int = 0
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fetched(self, seconds: float, ok: bool) -> None:
        """One /api/me/current answered (or not)."""
        with self.lock:
            self.requests += 1
            self.errors += 0 if ok else 1
            self.latencies.append(seconds)

    def summary(self, duration: float, cpu: float) -> dict[str, Any]:
        """The run's figures."""
        lat = sorted(self.latencies) or [0.0]
        return {"requests": self.requests, "rps": self.requests / duration,
                "errors": self.errors, "updates": self.updates, "refused": self.refused,
                "cpu_seconds": cpu, "cores": cpu / duration,
                "p50_ms": statistics.median(lat) * 1000,
                "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000}


def fetch(conn: http.client.HTTPConnection, path: str, cookie: str, tally: Tally) -> None:
    """One GET, timed, on a kept-alive connection."""
    started = time.monotonic()
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "Accept": "application/json"})
        reply = conn.getresponse()
        reply.read()
        tally.fetched(time.monotonic() - started, reply.status == 200)
    except (OSError, http.client.HTTPException):
        conn.close()
        tally.fetched(time.monotonic() - started, False)


def poller(base: str, path: str, cookie: str, until: float, tally: Tally) -> None:
    """A console of old: one request a second until `until`."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    next_at = time.monotonic() + random.random()
    while (now := time.monotonic()) < until:
        time.sleep(max(0.0, next_at - now))
        fetch(conn, path, cookie, tally)
        next_at += 1.0
    conn.close()


def streamer(base: str, cookie: str, until: float, tally: Tally, ready: threading.Event
             ) -> None:
    """A console with live updates: holds the stream, fetches its state on each update."""
    url = urlsplit(base)
    stream = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    api = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    stream.request("GET", "/api/me/events", headers={"Cookie": cookie})
    reply = stream.getresponse()
    if reply.status != 200:
        with tally.lock:
            tally.refused += 1
        ready.set()
        return
    ready.set()
    while time.monotonic() < until:
        try:
            line = reply.fp.readline()
        except (OSError, http.client.HTTPException):
            break
        if line.startswith(b"data:") and b'"resync"' not in line:
            with tally.lock:
                tally.updates += 1
            fetch(api, "/api/me/current", cookie, tally)
    stream.close()
    api.close()


def measure(web: Web, workers: list[threading.Thread], duration: float) -> float:
    """Run the console threads for `duration` s; the web tier's CPU seconds meanwhile."""
    before = web_cpu_seconds(web)
    for thread in workers:
        thread.start()
    time.sleep(duration)
    cpu = web_cpu_seconds(web) - before
    for thread in workers:
        thread.join(duration + 30)
    return cpu


def consoles_benchmark(stack: Stack, consoles: int = 200, duration: float = 10.0,
                       update_every: float = 30.0) -> dict[str, Any]:
    """The bare app at `consoles` requests a second, then Holdless with `consoles` polling
    consoles, then with `consoles` live consoles, each told of a change every
    `update_every` seconds on average."""
    bare_web = stack.start_web(BARE_APP)
    tally = Tally()
    until = time.monotonic() + duration
    bare = measure(bare_web, [threading.Thread(target=_bare_poller, args=(
        bare_web.base_url, until, tally)) for _ in range(consoles)], duration)
    results = {"consoles": consoles, "duration": duration, "update_every": update_every,
               "bare": tally.summary(duration, bare)}
    stack.stop_processes()

    web = stack.start_web()
    people = add_agents(stack, consoles)
    cookies = [sign_in(web.base_url, username) for _, username in people]
    tally = Tally()
    until = time.monotonic() + duration
    polled = measure(web, [threading.Thread(target=poller, args=(
        web.base_url, "/api/me/current", c, until, tally)) for c in cookies], duration)
    results["poll"] = tally.summary(duration, polled)

    tally, ready = Tally(), [threading.Event() for _ in cookies]
    until = time.monotonic() + duration + 5
    threads = [threading.Thread(target=streamer, args=(web.base_url, c, until, tally, r))
               for c, r in zip(cookies, ready, strict=True)]
    for thread in threads:
        thread.start()
    for event in ready:
        event.wait(30)
    time.sleep(2)  # every stream open and listening before the measured window
    publisher = threading.Thread(target=_publish, args=(
        stack, [a for a, _ in people], time.monotonic() + duration, consoles / update_every))
    cpu = measure(web, [publisher], duration)
    results["push"] = tally.summary(duration, cpu)
    for thread in threads:
        thread.join(30)
    stack.stop_processes()
    return results


def _bare_poller(base: str, until: float, tally: Tally) -> None:
    """The bare app asked once a second, as a polling console asks Holdless."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    next_at = time.monotonic() + random.random()
    while (now := time.monotonic()) < until:
        time.sleep(max(0.0, next_at - now))
        started = time.monotonic()
        try:
            conn.request("POST", "/api/me/current", b"", {"Content-Length": "0"})
            reply = conn.getresponse()
            reply.read()
            tally.fetched(time.monotonic() - started, reply.status == 200)
        except (OSError, http.client.HTTPException):
            conn.close()
            tally.fetched(time.monotonic() - started, False)
        next_at += 1.0
    conn.close()


def _publish(stack: Stack, agent_ids: list[int], until: float, per_second: float) -> None:
    """Changes for random consoles at `per_second` (as commits on their calls would)."""
    rng = random.Random(15)
    while time.monotonic() < until:
        agent_id = rng.choice(agent_ids)
        push.publish(stack.rt, push.agent_audience(agent_id), push.CHANGED,
                     {"table": "legs"})
        time.sleep(rng.expovariate(per_second))


def rows(c: dict[str, Any]) -> list[str]:
    """Markdown rows for the figures' table."""
    bare, poll, live = c["bare"], c["poll"], c["push"]
    n = c["consoles"]
    return [
        f"| bare Flask, {n} requests a second | {bare['cores']:.2f} cores "
        f"({bare['rps']:.0f} req/s) | – | 1 | – |",
        f"| {n} consoles polling /api/me/current each second | {poll['cores']:.2f} cores "
        f"({poll['rps']:.0f} req/s, p99 {poll['p99_ms']:.0f} ms, {poll['errors']} errors) | "
        f"bare {bare['cores']:.2f} cores | {poll['cores'] / max(bare['cores'], 1e-9):.1f} | – |",
        f"| {n} live consoles (a change each {c['update_every']:.0f} s on average) | "
        f"{live['cores']:.2f} cores ({live['updates']} updates, {live['rps']:.1f} req/s, "
        f"{live['refused']} streams refused) | polling {poll['cores']:.2f} cores | "
        f"{live['cores'] / max(poll['cores'], 1e-9):.2f} of polling | far below polling |",
    ]

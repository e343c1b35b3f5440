"""Bounded load on loopback: signed Twilio webhooks sent by wrk (or a Python fallback).

Twilio signs the URL plus every form field with HMAC-SHA1, so each request is signed in
advance here and the load generator only replays them: wrk cycles through a file of
signed requests with `bench/wrk_signed.lua` (one wrk thread, so each request is sent at
most once), stopping after the last one or at the time limit, whichever comes first.
When wrk is not installed, a threaded Python client with keep-alive connections does the
same (slower: it competes with the server for the same cores).
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

LUA = Path(__file__).with_name("wrk_signed.lua")
ACCOUNT_SID = "AC" + "0" * 32
# A bound on any one load run, whatever the caller asks for.
MAX_DURATION_SECONDS = 120.0


@dataclass(frozen=True)
class Signed:
    """One request ready to send: path, urlencoded body, X-Twilio-Signature."""

    path: str
    body: str
    signature: str


@dataclass(frozen=True)
class LoadResult:
    """What one load run achieved."""

    tool: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    exhausted: bool = False
    """Every prepared request was sent before the time was up (wrk then still counts the
    whole duration, so the rate is understated)."""

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def call_sid(n: int, salt: int = 0) -> str:
    """A CallSid in Twilio's shape, distinct for each (salt, n)."""
    return f"CA{salt:08x}{n:024x}"


def caller_number(n: int) -> str:
    """A distinct North American number for caller n."""
    return f"+1212{2_000_000 + n % 7_000_000:07d}"


def incoming_form(sid: str, number: str) -> dict[str, str]:
    """The fields Twilio posts to the voice URL for a new inbound call."""
    form = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": sid,
            "CallStatus": "ringing", "Direction": "inbound", "From": number, "Caller": number,
            "To": "+12125550000", "Called": "+12125550000"}
    for side in ("From", "Caller", "To", "Called"):
        form.update({f"{side}City": "NEW YORK", f"{side}Country": "US", f"{side}State": "NY",
                     f"{side}Zip": "10001"})
    return form


def hold_form(sid: str, number: str, position: int) -> dict[str, str]:
    """The fields Twilio posts to an Enqueue waitUrl on each turn of the hold loop."""
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": sid,
            "CallStatus": "in-progress", "Direction": "inbound", "From": number,
            "To": "+12125550000", "QueueSid": "QU" + "0" * 32, "QueuePosition": str(position),
            "QueueTime": "30", "AvgQueueTime": "60", "CurrentQueueSize": str(position)}


def sign_all(base_url: str, path: str, forms: Iterable[dict[str, str]],
             token: str) -> list[Signed]:
    """Sign each form as Twilio would for a POST to `base_url + path`."""
    validator = RequestValidator(token)
    url = base_url + path
    return [Signed(path, urlencode(f), validator.compute_signature(url, f)) for f in forms]


def run_load(base_url: str, requests: list[Signed], *, connections: int, duration: float,
             rate: float | None = None, tool: str = "auto") -> LoadResult:
    """Send each request at most once within `duration` seconds (paced to `rate` req/s if
    given) over `connections` keep-alive connections; wrk when available."""
    duration = min(duration, MAX_DURATION_SECONDS)
    if not requests:
        raise ValueError("no requests to send")
    if tool == "wrk" or (tool == "auto" and shutil.which("wrk")):
        return _run_wrk(base_url, requests, connections, duration, rate)
    return _run_python(base_url, requests, connections, duration, rate)


def _pace_ms(connections: int, rate: float | None) -> int:
    """wrk's per-connection delay (whole ms) that holds the total near `rate` req/s."""
    return 0 if not rate else max(1, round(connections * 1000.0 / rate))


def _run_wrk(base_url: str, requests: list[Signed], connections: int, duration: float,
             rate: float | None) -> LoadResult:
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
        f.writelines(f"{r.path}\t{r.body}\t{r.signature}\n" for r in requests)
        script_input = f.name
    seconds = max(1, round(duration))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(LUA), base_url, "--", script_input, str(_pace_ms(connections, rate))]
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True,
                             timeout=seconds + 30).stdout
    finally:
        Path(script_input).unlink(missing_ok=True)
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    figures = json.loads(line.removeprefix("BENCH "))
    return LoadResult("wrk", figures["requests"], figures["duration_us"] / 1e6,
                      figures["p50_us"] / 1000.0, figures["p99_us"] / 1000.0,
                      figures["errors"] + figures["non2xx"],
                      exhausted=figures["requests"] >= len(requests))


def _run_python(base_url: str, requests: list[Signed], connections: int, duration: float,
                rate: float | None) -> LoadResult:
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    lock, cursor = threading.Lock(), iter(requests)
    latencies: list[float] = []
    errors = [0]
    start = time.perf_counter()
    deadline = start + duration
    gap = connections / rate if rate else 0.0

    def take() -> Signed | None:
        with lock:
            return next(cursor, None)

    def client() -> None:
        conn = http.client.HTTPConnection(host, parts.port, timeout=10)
        mine: list[float] = []
        while time.perf_counter() < deadline and (req := take()) is not None:
            sent = time.perf_counter()
            try:
                conn.request("POST", req.path, req.body, {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": req.signature})
                answer = conn.getresponse()
                answer.read()
                ok = answer.status < 400
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, parts.port, timeout=10)
                ok = False
            done = time.perf_counter()
            mine.append(done - sent) if ok else None
            if not ok:
                with lock:
                    errors[0] += 1
            if gap:
                time.sleep(max(0.0, gap - (done - sent)))
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 30)
    elapsed = time.perf_counter() - start
    sent = len(latencies) + errors[0]
    return LoadResult("python", sent, elapsed, percentile(latencies, 50) * 1000,
                      percentile(latencies, 99) * 1000, errors[0], exhausted=sent >= len(requests))


def percentile(values: list[float], pct: float) -> float:
    """The `pct` percentile (nearest rank) of `values`; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100.0 * len(ordered) + 0.5) - 1))
    return ordered[rank]

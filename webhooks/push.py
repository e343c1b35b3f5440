"""Server-sent events: each web process listens to Redis once and streams live updates
(queueing.push) to its open pages.

Why server-sent events on gunicorn's threads (Procfile `--threads`), and not a poll: an
open stream costs its page one idle thread waiting on an in-process queue, a heartbeat
line every PUSH_HEARTBEAT_SECONDS, and one small write per update; a poll costs a full
request (session, database, JSON) every second whether anything changed or not. The
streams hold threads, so each process serves at most `push_streams` of them
(HOLDLESS_PUSH_STREAMS) and always keeps threads for webhooks: the Procfile's default
thread count is that cap plus WEB_RESERVED_THREADS. A page refused (503) retries after
a while, and a stream ends after PUSH_STREAM_SECONDS (the browser reconnects at once),
so streams spread again over processes after a restart. docs/architecture.md.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis
from flask import Response, jsonify

from queueing import keys

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

PUSH_HEARTBEAT_SECONDS = 15.0
PUSH_STREAM_SECONDS = 300.0
RETRY_MS = 3000  # the browser's wait before reconnecting a dropped stream
MAX_QUEUED = 100  # updates kept for a page that reads slowly; past it the page resyncs
LISTEN_POLL_SECONDS = 1.0
IDLE_LISTENER_SECONDS = 5.0  # a process with no open page stops listening


class Hub:
    """One process's Redis listener, handing each update to the pages of its audience."""

    def __init__(self, r: redis.Redis, capacity: int) -> None:
        """Listen on `r` (lazily) and serve at most `capacity` streams at once."""
        self.redis, self.capacity = r, capacity
        self._lock = threading.Lock()
        self._pages: dict[str, set[queue.Queue[str | None]]] = {}
        self._inboxes: set[queue.Queue[str | None]] = set()
        self._thread: threading.Thread | None = None

    @property
    def _open(self) -> int:
        return len(self._inboxes)

    def attach(self, audiences: list[str]) -> queue.Queue[str | None] | None:
        """A queue receiving the updates of `audiences`; None when the process is full."""
        with self._lock:
            if self._open >= self.capacity:
                return None
            inbox: queue.Queue[str | None] = queue.Queue(MAX_QUEUED)
            self._inboxes.add(inbox)
            for audience in audiences:
                self._pages.setdefault(audience, set()).add(inbox)
            if self._thread is None:
                self._thread = threading.Thread(target=self._listen, daemon=True,
                                                name="push-listener")
                self._thread.start()
            return inbox

    def detach(self, inbox: queue.Queue[str | None]) -> None:
        """Stop serving `inbox` (again: nothing happens)."""
        with self._lock:
            if inbox not in self._inboxes:
                return
            self._inboxes.discard(inbox)
            for audience in [a for a, pages in self._pages.items() if inbox in pages]:
                self._pages[audience].discard(inbox)
                if not self._pages[audience]:
                    del self._pages[audience]

    def deliver(self, channel: str, data: str) -> None:
        """Hand one update to every page of the channel's audience."""
        audience = channel.removeprefix(keys.push_channel(""))
        with self._lock:
            pages = list(self._pages.get(audience, ()))
        for inbox in pages:
            try:
                inbox.put_nowait(data)
            except queue.Full:  # a page far behind: tell it to fetch everything again
                _replace_with_resync(inbox)

    def _listen(self) -> None:
        """Deliver updates until no page has been open for IDLE_LISTENER_SECONDS."""
        while True:
            try:
                self._listen_while_needed()
            except redis.RedisError as exc:
                log.warning("live updates: Redis listener lost (%s); retrying",
                            type(exc).__name__)
                time.sleep(LISTEN_POLL_SECONDS)
                continue
            with self._lock:
                if not self._open:  # checked under the lock `attach` takes: no page is lost
                    self._thread = None
                    return

    def _listen_while_needed(self) -> None:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.psubscribe(keys.PUSH_PATTERN)
            self._resync_all()  # updates may have been missed while not listening
            idle_since: float | None = None
            while idle_since is None or time.monotonic() - idle_since < IDLE_LISTENER_SECONDS:
                found = pubsub.get_message(timeout=LISTEN_POLL_SECONDS)
                if found is not None:
                    self.deliver(str(found["channel"]), str(found["data"]))
                idle_since = None if self._open else (idle_since or time.monotonic())
        finally:
            pubsub.close()

    def _resync_all(self) -> None:
        with self._lock:
            pages = {inbox for group in self._pages.values() for inbox in group}
        for inbox in pages:
            _replace_with_resync(inbox)


RESYNC = '{"topic":"resync","data":{}}'


def _replace_with_resync(inbox: queue.Queue[str | None]) -> None:
    """Empty a page's queue and leave one "resync" update (fetch the whole state)."""
    try:
        while True:
            inbox.get_nowait()
    except queue.Empty:
        pass
    with contextlib.suppress(queue.Full):
        inbox.put_nowait(RESYNC)


_HUBS: dict[int, Hub] = {}
_HUBS_LOCK = threading.Lock()


def hub_for(rt: Runtime) -> Hub:
    """This process's hub for `rt`'s Redis."""
    with _HUBS_LOCK:
        hub = _HUBS.get(id(rt))
        if hub is None or hub.redis is not rt.live:
            hub = _HUBS[id(rt)] = Hub(rt.live, rt.settings.push_streams)
        return hub


def event_stream(hub: Hub, inbox: queue.Queue[str | None], beat: Beat | None = None,
                 clock: Any = time.monotonic) -> Iterator[str]:
    """The text/event-stream body: updates as they come, heartbeats between them (each
    also calls `beat.alive`), for at most PUSH_STREAM_SECONDS; the page is detached when
    the stream ends or breaks."""
    every = beat.every if beat is not None else PUSH_HEARTBEAT_SECONDS
    try:
        yield f"retry: {RETRY_MS}\n: open\n\n"
        ends = clock() + PUSH_STREAM_SECONDS
        next_beat = clock() + every
        while (left := ends - clock()) > 0:
            try:
                data = inbox.get(timeout=max(0.0, min(next_beat - clock(), left)))
            except queue.Empty:
                data = ""
            if clock() >= next_beat:
                next_beat = clock() + every
                if beat is not None:
                    beat.alive()
                yield ": heartbeat\n\n"
            if data:
                yield f"data: {data}\n\n"
    finally:
        hub.detach(inbox)


@dataclass(frozen=True)
class Beat:
    """What an open page's stream calls every `every` seconds while it is open."""

    every: float
    alive: Callable[[], None]


def stream_response(rt: Runtime, audiences: list[str], beat: Beat | None = None) -> Any:
    """Server-sent events of `audiences` for the page asking (503 when this process
    already serves its most streams: the page retries later); `beat` is called at once and
    while the page stays."""
    hub = hub_for(rt)
    inbox = hub.attach(audiences)
    if inbox is None:
        reply = jsonify(error="Service Unavailable",
                        detail="too many live pages on this server; retrying shortly")
        reply.status_code = 503
        reply.headers["Retry-After"] = str(RETRY_MS // 1000)
        return reply
    if beat is not None:
        beat.alive()
    response = Response(event_stream(hub, inbox, beat), mimetype="text/event-stream")
    response.call_on_close(lambda: hub.detach(inbox))  # also when the body never started
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a buffering proxy would hold the updates
    return response

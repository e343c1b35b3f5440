"""Live updates: what the domain publishes through Redis reaches the open pages of its
audience as server-sent events, a commit tells the pages its rows concern, and a web
process serves at most HOLDLESS_PUSH_STREAMS pages at once."""

from __future__ import annotations

import json
import time
from typing import Any

from models.console import Note
from queueing import push
from tests.console_helpers import Desk, route_call_to, seed_people
from webhooks import push as web_push


def listening(rt: Any, stream: Any) -> None:
    """Read the stream's opening and wait (30 s at most) until this process listens."""
    assert next(iter(stream.response)).startswith(b"retry:")
    deadline = time.monotonic() + 30
    while rt.live.pubsub_numpat() < 1:
        assert time.monotonic() < deadline, "the process never listened to Redis"
        time.sleep(0.01)


def updates(response: Any, wanted: int, limit: int = 12) -> list[dict[str, Any]]:
    """The first `wanted` updates of an event stream (resyncs left out), reading at most
    `limit` chunks (a heartbeat every 15 s ends a stream that stays silent)."""
    found: list[dict[str, Any]] = []
    chunks = iter(response.response)
    for _ in range(limit):
        chunk = next(chunks)
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        for line in text.splitlines():
            if line.startswith("data: "):
                update = json.loads(line.removeprefix("data: "))
                if update["topic"] != "resync":
                    found.append(update)
        if len(found) >= wanted:
            return found
    return found


def test_an_update_published_for_an_agent_reaches_their_open_console_and_no_one_else(rt, app):
    people = seed_people(rt)
    alice, bob = Desk(app, "alice"), Desk(app, "bob")
    alice_stream = alice.client.get("/api/me/events", buffered=False)
    bob_stream = bob.client.get("/api/me/events", buffered=False)
    assert alice_stream.status_code == 200
    assert alice_stream.mimetype == "text/event-stream"
    listening(rt, alice_stream)
    next(iter(bob_stream.response))
    push.publish(rt, push.agent_audience(people["bob"]), "hello", {"to": "bob"})
    push.publish(rt, push.agent_audience(people["alice"]), "hello", {"to": "alice"})
    assert updates(alice_stream, 1) == [{"topic": "hello", "data": {"to": "alice"}}]
    assert updates(bob_stream, 1) == [{"topic": "hello", "data": {"to": "bob"}}]
    alice_stream.close()
    bob_stream.close()


def test_a_note_committed_on_an_interaction_tells_the_pages_showing_it(rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    alice = Desk(app, "alice")
    stream = alice.client.get(f"/api/me/events?interaction={interaction.id}", buffered=False)
    listening(rt, stream)
    with rt.db.session() as s:
        s.add(Note(interaction_id=interaction.id, agent_id=people["bob"], text="x",
                   draft=False, created_at=rt.clock.now(), updated_at=rt.clock.now()))
    got = updates(stream, 1)
    assert {"topic": "changed", "data": {"table": "notes"}} in got
    stream.close()


def test_a_page_may_follow_only_an_interaction_its_agent_may_see(rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    bob = Desk(app, "bob")
    assert bob.get(f"/api/me/events?interaction={interaction.id}").status_code == 403
    refused = bob.get("/api/me/events?interaction=abc")
    assert refused.status_code == 400
    assert "interaction" in refused.json["detail"]


def test_push_streams_setting_bounds_the_live_pages_one_process_serves(rt, app):
    seed_people(rt)
    web_push._HUBS.clear()
    rt.settings = rt.settings.with_overrides({"push_streams": 1})
    alice, bob = Desk(app, "alice"), Desk(app, "bob")
    first = alice.client.get("/api/me/events", buffered=False)
    assert first.status_code == 200
    second = bob.get("/api/me/events")
    assert second.status_code == 503
    assert second.headers["Retry-After"]
    assert "too many live pages" in second.json["detail"]
    first.close()  # the page goes: its place is free again
    third = bob.client.get("/api/me/events", buffered=False)
    assert third.status_code == 200
    third.close()
    web_push._HUBS.clear()

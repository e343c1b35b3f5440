"""The board's live updates: a commit that changes what the board shows (an agent's state, a
call, a supervisor on a call) tells every open board, and agents may not open the stream."""

from __future__ import annotations

from tests.console_helpers import Desk, seed_people
from tests.helpers import make_available
from tests.integration.test_push import listening, updates


def test_an_agent_becoming_available_tells_the_open_boards_and_agents_cannot_listen(rt, app):
    people = seed_people(rt)
    sam = Desk(app, "sam")
    stream = sam.client.get("/api/board/events", buffered=False)
    assert stream.status_code == 200 and stream.mimetype == "text/event-stream"
    listening(rt, stream)
    make_available(rt, people["alice"])
    assert updates(stream, 1) == [{"topic": "changed", "data": {"table": "agents"}}]
    stream.close()
    refused = Desk(app, "alice").client.get("/api/board/events", buffered=False)
    assert refused.status_code == 403
    refused.close()

"""Small helpers shared by tests: call forms, seeded queues and agents, XML parsing."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from typing import Any

from admin import directory
from entrypoints.runtime import Runtime
from queueing import dispatch


def call_sid() -> str:
    """A fresh CallSid in Twilio's shape."""
    return "CA" + secrets.token_hex(16)


def call_form(sid: str | None = None, from_: str = "+12125550123", **extra: str) -> dict[str, str]:
    """The fields Twilio posts for an inbound call."""
    form = {"CallSid": sid or call_sid(), "AccountSid": "AC" + "0" * 32, "From": from_,
            "To": "+12125550000", "CallStatus": "ringing", "Direction": "inbound",
            "ApiVersion": "2010-04-01"}
    form.update(extra)
    return form


def twiml(response: Any) -> ET.Element:
    """The TwiML document of a response, parsed."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.get_data(as_text=True))


def verbs(root: ET.Element) -> list[str]:
    """The top-level verbs of a TwiML document, in order."""
    return [child.tag for child in root]


def spoken(root: ET.Element) -> str:
    """Everything the document says, joined."""
    return " ".join((e.text or "") for e in root.iter("Say"))


def seed_queues(rt: Runtime, *specs: tuple[str, str, str | None]) -> None:
    """Create queues (slug, name, digit)."""
    with rt.db.session() as s:
        for slug, name, digit in specs:
            directory.create_queue(s, slug, name, digit)


def seed_agent(rt: Runtime, username: str, queues: list[str], contact: str | None = None) -> int:
    """Create an agent serving `queues`; returns the id."""
    with rt.db.session() as s:
        agent = directory.create_agent(s, username.title(), username,
                                       contact or f"client:{username}", queues)
        return agent.id


def make_available(rt: Runtime, agent_id: int) -> None:
    """The agent presses Available."""
    dispatch.set_state(rt, agent_id, "available")


def reset_stores(rt: Runtime) -> None:
    """Empty Redis and every table, as the `rt` fixture does (for each Hypothesis example)."""
    from models import Base
    rt.live.flushdb()
    with rt.db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())

"""Helpers for console and API tests: agents with passwords, signing in, a routed call."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from admin import directory
from entrypoints.runtime import Runtime
from models.entities import Interaction, Leg
from models.presence import DEFAULT_NOT_READY_REASONS
from queueing import not_ready
from tests.helpers import call_form, make_available

PASSWORD = "correct horse battery"


def seed_people(rt: Runtime) -> dict[str, int]:
    """Support queue; alice and bob (agents), sam (supervisor), all with PASSWORD; the
    not-ready reasons the migration gives a new contact center."""
    with rt.db.session() as s:
        not_ready.save_reasons(s, list(DEFAULT_NOT_READY_REASONS))
        directory.create_queue(s, "support", "Support", None)
        directory.create_queue(s, "sales", "Sales", None)
        people = {}
        for username, role, queues in (("alice", "agent", ["support"]), ("bob", "agent", []),
                                       ("sam", "supervisor", [])):
            agent = directory.create_agent(s, f"{username.title()} Agent", username,
                                           f"client:{username}", queues, role, PASSWORD)
            people[username] = agent.id
        return people


def seed_people_and_admin(rt: Runtime) -> dict[str, int]:
    """Support and sales queues; alice, bob (agents), sam (supervisor), ada (admin)."""
    people = seed_people(rt)
    with rt.db.session() as s:
        people["ada"] = directory.create_agent(s, "Ada Admin", "ada", "client:ada", [],
                                               "admin", PASSWORD).id
    return people


def csrf_token(client: Any) -> str:
    """The CSRF token of the client's session, as the console page carries it."""
    page = client.get("/console").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, page[:300]
    return found.group(1)


class Desk:
    """One agent's signed-in API client (sends the CSRF header on changes)."""

    def __init__(self, app: Any, username: str) -> None:
        self.client = app.test_client()
        page = self.client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        reply = self.client.post("/sign-in", data={"username": username, "password": PASSWORD,
                                                   "csrf_token": token})
        assert reply.status_code == 302, reply.get_data(as_text=True)
        self.token = csrf_token(self.client)

    def get(self, path: str) -> Any:
        """GET a JSON path."""
        return self.client.get(path)

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A state-changing JSON request with the CSRF header."""
        return self.client.open(path, method=method, json=body or {},
                                headers={"X-CSRFToken": self.token})


def route_call_to(rt: Runtime, twilio: Any, worker: Any, agent_id: int,
                  from_: str = "+12125550123") -> tuple[dict[str, str], Interaction, Leg]:
    """A caller rings, the agent is offered them, answers and hears the whisper."""
    make_available(rt, agent_id)
    form = call_form(from_=from_)
    twilio.post("/voice/incoming", form)
    worker()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == agent_id).order_by(Leg.id.desc()))
        interaction = leg.interaction
    twilio.post(f"/voice/agent/whisper?leg={leg.id}", call_form(sid=leg.call_sid,
                                                                from_="+12125550000"))
    worker()
    return form, interaction, leg

"""Demo data for a newcomer's first `make run` (development only)."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin import config, directory
from admin.audit import Actor
from models.entities import ROLE_ADMIN, ROLE_SUPERVISOR, Agent

DEMO_AGENTS: tuple[tuple[str, str, str, list[str], str], ...] = (
    ("Alice Agent", "alice", "client:alice", ["sales", "support"], "agent"),
    ("Bob Agent", "bob", "client:bob", ["support"], "agent"),
    ("Sam Supervisor", "sam", "client:sam", ["sales", "support"], ROLE_SUPERVISOR),
    ("Ada Admin", "admin", "client:admin", [], ROLE_ADMIN),
)


def seed(s: Session, defaults: directory.QueueDefaults = directory.BUILT_IN_DEFAULTS
         ) -> dict[str, str]:
    """Create the demo queues (starting from `defaults`) and people once; returns usernames
    and their new passwords."""
    if s.scalar(select(Agent).limit(1)) is not None:
        return {}
    directory.create_queue(s, "sales", "Sales", "1", defaults=defaults)
    directory.create_queue(s, "support", "Support", "2", defaults=defaults)
    passwords = {}
    for name, username, contact, queues, role in DEMO_AGENTS:
        passwords[username] = secrets.token_urlsafe(9)
        directory.create_agent(s, name, username, contact, queues, role, passwords[username])
    return passwords


def reset_passwords(s: Session, actor: str) -> dict[str, str]:
    """Give each demo person still here and active a new password (audited as `actor`);
    returns usernames and their new passwords, to print again."""
    passwords = {}
    for _name, username, _contact, _queues, _role in DEMO_AGENTS:
        agent = s.scalar(select(Agent).where(Agent.username == username))
        if agent is None or not agent.active:
            continue
        passwords[username] = secrets.token_urlsafe(9)
        config.save_agent(s, Actor.operator(actor), username, {"password": passwords[username]})
    return passwords

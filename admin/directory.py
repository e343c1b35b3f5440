"""Creating queues and agents (used by the CLI, the demo seed and tests)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from models.entities import ROLE_ADMIN, ROLE_AGENT, ROLE_SUPERVISOR, Agent, AgentQueue, Queue

ROLES = (ROLE_AGENT, ROLE_SUPERVISOR, ROLE_ADMIN)


@dataclass(frozen=True)
class QueueDefaults:
    """What a new queue starts with, unless told otherwise (the settings HOLDLESS_TIME_ZONE,
    HOLDLESS_BUSY_THRESHOLD_SECONDS and HOLDLESS_CALLBACK_THRESHOLD_SECONDS)."""

    time_zone: str = "America/New_York"
    busy_threshold_seconds: int = 600
    callback_threshold_seconds: int = 120


BUILT_IN_DEFAULTS = QueueDefaults()


class DirectoryError(ValueError):
    """A queue or agent could not be created as asked; the message says why."""


def create_queue(s: Session, slug: str, name: str, digit: str | None = None,
                 time_zone: str | None = None,
                 defaults: QueueDefaults = BUILT_IN_DEFAULTS) -> Queue:
    """A new queue; refuses a taken slug or digit."""
    if not slug.isidentifier() or not slug.islower():
        raise DirectoryError("queue slug must be lower-case letters, digits and underscores")
    if digit is not None and (len(digit) != 1 or not digit.isdigit()):
        raise DirectoryError("menu digit must be one digit 0-9")
    taken = (Queue.slug == slug) | ((Queue.digit == digit) & Queue.digit.is_not(None))
    if s.scalar(select(Queue).where(taken)):
        raise DirectoryError(f"queue {slug!r} or digit {digit!r} already exists")
    queue = Queue(slug=slug, name=name, digit=digit, time_zone=time_zone or defaults.time_zone,
                  greeting="", busy_threshold_seconds=defaults.busy_threshold_seconds,
                  callback_threshold_seconds=defaults.callback_threshold_seconds)
    s.add(queue)
    s.flush()
    return queue


def create_agent(s: Session, name: str, username: str, contact: str, queues: list[str],
                 role: str = ROLE_AGENT, password: str = "") -> Agent:
    """A new agent serving `queues` (slugs); refuses unknown queues or a taken username."""
    if role not in ROLES:
        raise DirectoryError(f"role must be one of {', '.join(ROLES)}")
    if not contact.startswith("client:") and not contact.startswith("+"):
        raise DirectoryError("contact must be client:<identity> or a number in +E.164 form")
    if s.scalar(select(Agent).where(Agent.username == username)):
        raise DirectoryError(f"username {username!r} is taken")
    found = {q.slug: q for q in s.scalars(select(Queue).where(Queue.slug.in_(queues)))}
    missing = sorted(set(queues) - set(found))
    if missing:
        raise DirectoryError(f"unknown queue(s): {', '.join(missing)}")
    agent = Agent(name=name, username=username, contact=contact, role=role,
                  password_hash=generate_password_hash(password) if password else "")
    agent.queue_links = [AgentQueue(queue=found[q]) for q in queues]
    s.add(agent)
    s.flush()
    return agent

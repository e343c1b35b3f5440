"""Agents' states: the database records them, Redis holds them live, routing follows."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from entrypoints.runtime import Runtime
from models.entities import AGENT_STATES, AVAILABLE, BUSY, OFFLINE, WRAP_UP, Agent, AgentQueue
from queueing.presence import StateRefused

log = logging.getLogger(__name__)

# What an agent (or an admin for them) may ask for, from each state.
ALLOWED_BY_AGENT = {
    AVAILABLE: (OFFLINE, AVAILABLE, WRAP_UP),
    OFFLINE: (OFFLINE, AVAILABLE, WRAP_UP),
}

__all__ = ["StateRefused", "load_agent", "set_state", "UnknownAgent", "BadState"]


class UnknownAgent(LookupError):
    """No agent with that id or username."""


class BadState(ValueError):
    """Not a state an agent can be put in."""


def load_agent(s: Session, key: int | str) -> Agent:
    """The agent with that id or username, with their queues."""
    query = select(Agent).options(selectinload(Agent.queue_links).selectinload(AgentQueue.queue))
    column = Agent.id if isinstance(key, int) or str(key).isdigit() else Agent.username
    value = int(key) if column is Agent.id else key
    agent = s.scalar(query.where(column == value))
    if agent is None:
        raise UnknownAgent(str(key))
    return agent


def set_state(rt: Runtime, agent_id: int, state: str) -> str:
    """An agent asks to be available or offline (or ends wrap-up); routes when they free up."""
    if state not in (AVAILABLE, OFFLINE):
        raise BadState(f"state must be one of: available, offline (not {state!r})")
    return change(rt, agent_id, state, ALLOWED_BY_AGENT[state], reset_misses=True)


def change(rt: Runtime, agent_id: int, state: str, expected: tuple[str, ...],
           reset_misses: bool = False, route: bool = True) -> str:
    """Move an agent from one of `expected` to `state`, in Redis then the database."""
    if state not in AGENT_STATES:
        raise BadState(state)
    with rt.db.session() as s:
        agent = load_agent(s, agent_id)
        queues = agent.queue_slugs
        rt.presence.set_state(agent.id, state, rt.clock.time(), queues, expected)
        agent.state, agent.state_since = state, rt.clock.now()
        if reset_misses:
            agent.missed_offers = 0
    log.info("agent %s is %s", agent_id, state)
    if state == AVAILABLE and route:
        from queueing import dispatch
        dispatch.route_and_offer(rt, queues)
    return state


def system_change(rt: Runtime, agent_id: int, state: str) -> None:
    """Move an agent as the system decides (busy → wrap-up, wrap-up → available)."""
    expected = {WRAP_UP: (BUSY, WRAP_UP), AVAILABLE: (BUSY, WRAP_UP), OFFLINE: AGENT_STATES}
    change(rt, agent_id, state, expected.get(state, AGENT_STATES))

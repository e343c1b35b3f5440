"""Agents' states: the database records them, Redis holds them live, routing follows."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.entities import (
    AGENT_STATES,
    AVAILABLE,
    NOT_READY,
    OFFLINE,
    WRAP_UP,
    Agent,
    AgentQueue,
)
from queueing import keys
from queueing.presence import StateRefused

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

OFFLINE_REASON_MAX = 200  # the column's width

# What an agent (or an admin for them) may ask for, from each state.
ALLOWED_BY_AGENT = {
    AVAILABLE: (OFFLINE, AVAILABLE, WRAP_UP, NOT_READY),
    OFFLINE: (OFFLINE, AVAILABLE, WRAP_UP, NOT_READY),
}

__all__ = ["ALLOWED_BY_AGENT", "BadState", "StateRefused", "UnknownAgent", "change", "load_agent",
           "serve_current_queues", "take_offline"]


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


def change(rt: Runtime, agent_id: int, state: str, expected: tuple[str, ...],
           reset_misses: bool = False, reason: str = "", not_ready: str = "") -> list[str]:
    """Move an agent from one of `expected` to `state`, in Redis then the database; returns
    the agent's queues. `reason`: why the system takes them offline (kept until they or an
    admin change their state); `not_ready`: the reason of a not-ready agent. Routing after
    an agent frees up is queueing.dispatch's step."""
    if state not in AGENT_STATES:
        raise BadState(state)
    with rt.db.session() as s:
        agent = load_agent(s, agent_id)
        queues = agent.queue_slugs
        rt.presence.set_state(agent.id, state, rt.clock.time(), queues, expected)
        agent.state, agent.state_since = state, rt.clock.now()
        agent.not_ready_reason = not_ready if state == NOT_READY else ""
        if reset_misses:
            agent.missed_offers = 0
        if reason or reset_misses or state != OFFLINE:
            agent.offline_reason = reason[:OFFLINE_REASON_MAX] if state == OFFLINE else ""
    log.info("agent %s is %s", agent_id, state)
    return queues


def take_offline(rt: Runtime, agent_id: int, reason: str,
                 expected: tuple[str, ...] = AGENT_STATES) -> bool:
    """The system takes an agent offline and says why (shown to admins and to the agent);
    False when they were no longer in one of `expected`."""
    try:
        change(rt, agent_id, OFFLINE, expected, reason=reason)
    except StateRefused as refused:
        log.info("agent %s not taken offline: already %s", agent_id, refused.current)
        return False
    log.warning("agent %s taken offline: %s", agent_id, reason)
    return True


def serve_current_queues(rt: Runtime, agent_id: int) -> list[str] | None:
    """After an admin changes the queues an agent serves: their live presence serves the
    queues the database now lists, at once, in the same state since the same moment (an
    available agent keeps their place among the idle). Returns the queues when the agent
    is available (routing may pair them now), else None."""
    for _attempt in range(3):  # a state change in between: read it again
        state, since = rt.live.hmget(keys.agent(agent_id), ["state", "since"])
        if state is None or state == OFFLINE:
            return None  # their next state change reads their queues
        with rt.db.session() as s:
            queues = load_agent(s, agent_id).queue_slugs
        moment = float(since) if since is not None else rt.clock.time()
        try:
            rt.presence.set_state(agent_id, str(state), moment, queues, (str(state),))
        except StateRefused:
            continue
        log.info("agent %s now serves %s", agent_id, ",".join(queues) or "no queue")
        return queues if state == AVAILABLE else None
    return None

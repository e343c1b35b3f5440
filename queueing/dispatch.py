"""Turning the router's pairs into offers: recorded in the database, then handed to the worker."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from holdless import tasks
from models.entities import (
    AGENT_STATES,
    AVAILABLE,
    BUSY,
    OFFERED,
    OFFLINE,
    WRAP_UP,
    Agent,
    Assignment,
    Interaction,
)
from models.states import advance
from queueing import agents, keys, lines
from queueing.limits import REROUTES_AFTER_REFUSAL
from queueing.presence import StateRefused
from queueing.routing import Pair

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)


def route_and_offer(rt: Runtime, queues: list[str]) -> list[int]:
    """Pair free agents with waiting entries among `queues`; returns the new assignment ids."""
    return offer_all(rt, rt.router.route(queues, rt.clock.time()))


def queues_changed(rt: Runtime, agent_id: int) -> list[int]:
    """An admin changed the queues an agent serves: they serve the new ones at once, and a
    free agent is offered whoever waits in them; returns the new assignment ids."""
    queues = agents.serve_current_queues(rt, agent_id)
    return route_and_offer(rt, queues) if queues else []


def offer_all(rt: Runtime, pairs: list[Pair]) -> list[int]:
    """Offer every pair the router made; returns the new assignment ids. A pairing the
    database refuses is undone and routing runs again over its queues (a bounded number of
    times), so a refused agent never leaves a caller waiting beside another free agent."""
    latest = [(p, offer(rt, p)) for p in pairs]
    made = [a for _, a in latest if a is not None]
    for _ in range(REROUTES_AFTER_REFUSAL):
        refused = sorted({p.queue for p, a in latest if a is None})
        if not refused:
            break
        latest = [(p, offer(rt, p)) for p in rt.router.route(refused, rt.clock.time())]
        made += [a for _, a in latest if a is not None]
    return made


def offer(rt: Runtime, pair: Pair) -> int | None:
    """Record one pairing (unique per agent and per entry), then enqueue its connect job."""
    entry = lines.load(rt.live, pair.entry_id)
    try:
        assignment_id = _record(rt, pair, entry)
    except (IntegrityError, StaleDataError):
        log.error("pairing of agent %s with %s refused by the database (or the call moved "
                  "on meanwhile); undone", pair.agent_id, pair.entry_id)
        undo(rt, pair)
        return None
    except Exception:
        undo_live(rt, pair)  # the database is unreachable: nothing was recorded, undo Redis
        raise
    # a live caller's agent is rung before a batch of callbacks' agents (dials are paced)
    rt.enqueue(tasks.RING_AGENT, assignment_id, job_id=f"connect-{assignment_id}",
               urgent=entry is not None and entry.kind == lines.CALLER)
    return assignment_id


def _record(rt: Runtime, pair: Pair, entry: lines.Entry | None) -> int:
    with rt.db.session() as s:
        assignment = Assignment(
            agent_id=pair.agent_id, entry=pair.entry_id, queue_slug=pair.queue,
            interaction_id=(entry.interaction_id or None) if entry else None,
            joined_at=pair.joined, created_at=rt.clock.now(),
            active_agent_id=pair.agent_id, active_entry=pair.entry_id)
        s.add(assignment)
        agent = s.get(Agent, pair.agent_id)
        if agent is not None:
            agent.state, agent.state_since = BUSY, rt.clock.now()
        if assignment.interaction_id:
            interaction = s.get(Interaction, assignment.interaction_id)
            if interaction is not None:
                advance(interaction, OFFERED)
        s.flush()
        return assignment.id


def undo(rt: Runtime, pair: Pair) -> None:
    """Put a pairing back: the entry at its original place, the agent free again."""
    entry = lines.load(rt.live, pair.entry_id)
    if entry is not None:
        lines.join(rt.live, entry)
    agents.change(rt, pair.agent_id, AVAILABLE, (BUSY,))


def undo_live(rt: Runtime, pair: Pair) -> None:
    """Put a pairing back in Redis only (the database could not record it, so it still
    says the agent is available and the caller waiting): entry at its place, agent idle."""
    entry = lines.load(rt.live, pair.entry_id)
    if entry is not None:
        lines.join(rt.live, entry)
    queues = str(rt.live.hget(keys.agent(pair.agent_id), "queues") or "")
    with contextlib.suppress(StateRefused):
        rt.presence.set_state(pair.agent_id, AVAILABLE, rt.clock.time(),
                              [q for q in queues.split(",") if q], (BUSY,))


def set_state(rt: Runtime, agent_id: int, state: str) -> str:
    """An agent asks to be available or offline (or ends wrap-up); routes when they free up."""
    if state not in (AVAILABLE, OFFLINE):
        raise agents.BadState(f"state must be one of: available, offline (not {state!r})")
    return change_state(rt, agent_id, state, agents.ALLOWED_BY_AGENT[state], reset_misses=True)


def change_state(rt: Runtime, agent_id: int, state: str, expected: tuple[str, ...],
                 reset_misses: bool = False, route: bool = True) -> str:
    """Move an agent from one of `expected` to `state`; when they become available (and
    `route`), pair them with whoever waits in their queues."""
    queues = agents.change(rt, agent_id, state, expected, reset_misses)
    if state == AVAILABLE and rt.live.zcard(keys.escalations()):
        # Escalations wait for a supervisor: the worker sees whether this is one.
        rt.enqueue(tasks.OFFER_ESCALATION, agent_id, job_id=None)
    if state == AVAILABLE and route:
        route_and_offer(rt, queues)
    return state


def system_change(rt: Runtime, agent_id: int, state: str) -> None:
    """Move an agent as the system decides (busy → wrap-up, wrap-up → available)."""
    expected = {WRAP_UP: (BUSY, WRAP_UP), AVAILABLE: (BUSY, WRAP_UP), OFFLINE: AGENT_STATES}
    change_state(rt, agent_id, state, expected.get(state, AGENT_STATES))

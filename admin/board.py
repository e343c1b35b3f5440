"""The live board: per queue, who waits and for how long, what a new caller would hear,
and the agents by state (Redis presence first, the database's record when Redis has none)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models.entities import AGENT_STATES, Agent, AgentQueue, Queue
from queueing import keys, lines, stats
from queueing.estimate import WaitEstimate, estimate_wait

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime


@dataclass(frozen=True)
class AgentLine:
    """One agent on the board: name, live state and seconds in it (None when unknown)."""

    id: int
    name: str
    state: str
    seconds_in_state: float | None


@dataclass(frozen=True)
class QueueBoard:
    """One queue's live figures."""

    slug: str
    name: str
    waiting: int
    oldest_wait_seconds: float | None
    new_caller_estimate: WaitEstimate
    agents_by_state: dict[str, int]
    agents: tuple[AgentLine, ...]


def agent_line(rt: Runtime, agent: Agent) -> AgentLine:
    """An agent's live state from their Redis presence hash, else the database's record."""
    live = rt.live.hmget(keys.agent(agent.id), ["state", "since"])
    state, since = live[0], live[1]
    now = rt.clock.time()
    if state is None:
        started = agent.state_since.timestamp() if agent.state_since else None
        return AgentLine(agent.id, agent.name, agent.state,
                         None if started is None else now - started)
    return AgentLine(agent.id, agent.name, str(state),
                     None if since is None else now - float(since))


def queue_board(rt: Runtime, queue: Queue, agents: list[Agent]) -> QueueBoard:
    """The live figures of `queue`, whose agents are `agents`."""
    waiting = lines.length(rt.live, queue.slug)
    oldest = lines.oldest_joined(rt.live, queue.slug)
    estimate = estimate_wait(waiting + 1, stats.queue_stats(rt.live, rt.presence, queue.slug))
    rows = tuple(sorted((agent_line(rt, a) for a in agents), key=lambda a: a.name))
    counts = {state: sum(a.state == state for a in rows) for state in AGENT_STATES}
    return QueueBoard(
        slug=queue.slug, name=queue.name, waiting=waiting,
        oldest_wait_seconds=None if oldest is None else max(rt.clock.time() - oldest, 0.0),
        new_caller_estimate=estimate, agents_by_state=counts, agents=rows)


def board(rt: Runtime) -> list[QueueBoard]:
    """The live figures of every active queue, menu order."""
    with rt.db.session() as s:
        queues = list(s.scalars(select(Queue).where(Queue.active.is_(True))
                                .order_by(Queue.digit, Queue.id)))
        links = s.scalars(select(AgentQueue).options(selectinload(AgentQueue.agent)))
        serving: dict[int, list[Agent]] = {}
        for link in links:
            serving.setdefault(link.queue_id, []).append(link.agent)
        return [queue_board(rt, q, serving.get(q.id, [])) for q in queues]

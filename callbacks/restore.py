"""Restoring what Redis lost beyond the lines: agents' presence, the offers under way and the
jobs that drive them, all from the database (see callbacks.reconcile).

Everything here is safe on a healthy Redis: an agent whose live state exists is left alone,
a job that still exists is not enqueued again, and every job re-enqueued is one that is
itself safe to run twice (a leg already dialled is never dialled again).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rq.job import Job
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from holdless import tasks
from ivr import booking
from models.callbacks import Callback, CallbackAttempt
from models.entities import (
    AVAILABLE,
    BUSY,
    OFFERED,
    OFFLINE,
    WAITING,
    WRAP_UP,
    Agent,
    AgentQueue,
    Assignment,
    Interaction,
    Leg,
)
from models.states import advance
from queueing import escalations, keys, lines, priority, transfers
from queueing.limits import RECONCILE_OFFER_GRACE_SECONDS
from queueing.presence import StateRefused

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Restored:
    """What a pass restored: agents' live states, records of entries offered to agents,
    jobs re-enqueued, and offered callers whose offer had ended returned to waiting."""

    agents: int
    offers: int
    jobs: int
    offers_put_back: int


def restore(rt: Runtime, lost: bool) -> Restored:
    """Rebuild lost presence, and return callers whose offer ended to waiting; when Redis
    lost its data (`lost`), also the records of entries offered to agents and the lost
    jobs of offers under way. No routing here."""
    offers, rewritten = _open_offers(rt, rewrite=lost)
    agents = _restore_presence(rt, offers)
    jobs = (_restore_connect_jobs(rt, offers) + _restore_customer_dials(rt)
            + escalations.restore_waits(rt)) if lost else 0
    put_back = _put_back_dropped_offers(rt)
    result = Restored(agents, rewritten, jobs, put_back)
    if agents or rewritten or jobs or put_back:
        log.warning("restored from the database: %s", result)
    return result


def _open_offers(rt: Runtime, rewrite: bool) -> tuple[dict[int, Assignment], int]:
    """Open assignments by agent; with `rewrite`, the record of each entry still offered
    (caller not yet answered, callback still open) is written back if it was lost."""
    rewritten = 0
    with rt.db.session() as s:
        found = list(s.scalars(select(Assignment).where(Assignment.ended_at.is_(None),
                                                        Assignment.active_agent_id.is_not(None))))
        for assignment in found:
            entry = _entry_of(s, assignment) if rewrite else None
            if entry is not None and not rt.live.exists(keys.entry(entry.id)):
                lines.remember(rt.live, entry)  # so a missed offer can put it back in line
                rt.live.hset(keys.entry(entry.id), "agent", str(assignment.agent_id))
                rewritten += 1
        s.expunge_all()
    return {a.agent_id: a for a in found}, rewritten


def _entry_of(s: Session, assignment: Assignment) -> lines.Entry | None:
    """The entry of an offer, while a missed offer would put it back in line (with the agent
    who cold-transferred the caller to a queue, if one did)."""
    callback_id = booking.callback_id_of(assignment.entry)
    if callback_id is not None:
        callback = s.get(Callback, callback_id)
        return booking.entry_for(callback) if callback is not None and callback.is_open else None
    interaction = s.get(Interaction, assignment.interaction_id or 0)
    if interaction is None or interaction.status != OFFERED:
        return None
    sender = transfers.senders(s, [interaction.id]).get(interaction.id, 0)
    return lines.Entry(assignment.entry, assignment.queue_slug, lines.CALLER,
                       assignment.joined_at, interaction.call_sid, interaction.id,
                       bonus=priority.caller_bonus(interaction), sender=sender)


def _restore_presence(rt: Runtime, offers: dict[int, Assignment]) -> int:
    """Give every signed-in agent with no live state the state the database records: busy
    while they hold an offer or a call leg, wrap-up (ended on time) or available."""
    with rt.db.session() as s:
        found = list(s.scalars(select(Agent).where(Agent.state != OFFLINE).options(
            selectinload(Agent.queue_links).selectinload(AgentQueue.queue))))
        on_legs = set(s.scalars(select(Leg.agent_id).where(Leg.ended_at.is_(None),
                                                           Leg.agent_id.is_not(None))))
        wanted = [(a.id, a.state, a.state_since, a.queue_slugs) for a in found]
    restored = 0
    for agent_id, state, since_at, queues in wanted:
        if rt.live.exists(keys.agent(agent_id)):
            continue  # live state present: Redis knows better than the database
        since = since_at.timestamp() if since_at is not None else rt.clock.time()
        busy = agent_id in offers or agent_id in on_legs
        live_state = BUSY if busy else (WRAP_UP if state == WRAP_UP else AVAILABLE)
        with contextlib.suppress(StateRefused):  # the agent acted meanwhile: theirs wins
            rt.presence.set_state(agent_id, live_state, since, queues, (OFFLINE,))
            restored += 1
            if agent_id in offers:
                rt.live.hset(keys.agent(agent_id), "entry", offers[agent_id].entry)
            if live_state == WRAP_UP:
                _schedule_wrap_up_end(rt, agent_id, since)
    return restored


def _schedule_wrap_up_end(rt: Runtime, agent_id: int, since: float) -> None:
    ends = since + rt.settings.wrap_up_seconds
    rt.enqueue(tasks.END_WRAP_UP, agent_id, repr(since), job_id=f"wrap-up-end-{agent_id}-"
               f"{int(since * 1000)}", delay=max(0.0, ends - rt.clock.time()))


def _restore_connect_jobs(rt: Runtime, offers: dict[int, Assignment]) -> int:
    """Re-enqueue the ring-agent job of every open offer that never rang anyone, if lost."""
    with rt.db.session() as s:
        ids = [a.id for a in offers.values()]
        legs = {leg.assignment_id: leg for leg in s.scalars(
            select(Leg).where(Leg.assignment_id.in_(ids)))} if ids else {}
        attempted = set(s.scalars(select(CallbackAttempt.assignment_id).where(
            CallbackAttempt.assignment_id.in_(ids)))) if ids else set()
        pending = [a.id for a in offers.values()
                   if a.id not in attempted and _not_dialled(rt, legs.get(a.id))]
    return _enqueue_lost(rt, tasks.RING_AGENT, "connect", pending)


def _not_dialled(rt: Runtime, leg: Leg | None) -> bool:
    if leg is None:
        return True
    return not (leg.call_sid or leg.status != "dialling" or leg.ended_at is not None
                or rt.live.exists(keys.leg_call(leg.id)))


def _restore_customer_dials(rt: Runtime) -> int:
    """Re-enqueue the customer's dial of every callback attempt whose agent answered but
    whose customer was never dialled, if that job was lost (the dial claims its one call).
    Not when the customer left a message: the agent hears it first, and that webhook dials."""
    with rt.db.session() as s:
        waiting = list(s.scalars(select(CallbackAttempt.id).join(Callback).where(
            CallbackAttempt.outcome == "", CallbackAttempt.agent_answered_at.is_not(None),
            CallbackAttempt.customer_dialled_at.is_(None), Callback.recording_url.is_(None))))
    return _enqueue_lost(rt, tasks.DIAL_CUSTOMER, "cb-dial", waiting)


def _enqueue_lost(rt: Runtime, task: tasks.Task, prefix: str,
                  ids: Iterable[int]) -> int:
    """Enqueue `task` for each id whose job (`prefix`-id, its fixed id) no longer exists;
    returns how many were enqueued."""
    lost = [i for i in ids if not Job.exists(f"{prefix}-{i}", connection=rt.jobs_redis)]
    for i in lost:
        rt.enqueue(task, i, job_id=f"{prefix}-{i}")
    return len(lost)


def _put_back_dropped_offers(rt: Runtime) -> int:
    """Callers recorded as offered whose offer ended (and no leg is live) a while ago: the
    step that returns them to waiting was lost. Return them to waiting; the line rebuild
    then puts them back at their place."""
    cutoff = rt.clock.now() - timedelta(seconds=RECONCILE_OFFER_GRACE_SECONDS)
    with rt.db.session() as s:
        offered = list(s.scalars(select(Interaction.id).where(Interaction.status == OFFERED)))
    moved = 0
    for interaction_id in offered:
        with contextlib.suppress(StaleDataError), rt.db.session() as s:
            interaction = s.get(Interaction, interaction_id)
            if interaction is not None and interaction.status == OFFERED \
                    and _offer_dropped(s, interaction_id, cutoff):
                advance(interaction, WAITING)
                s.flush()  # compare-and-set: a caller who moved on meanwhile is left alone
                moved += 1
    return moved


def _offer_dropped(s: Session, interaction_id: int, cutoff: datetime) -> bool:
    assignments = list(s.scalars(select(Assignment).where(
        Assignment.interaction_id == interaction_id)))
    if any(a.ended_at is None for a in assignments):
        return False
    if s.scalar(select(Leg.id).where(Leg.interaction_id == interaction_id,
                                     Leg.ended_at.is_(None))) is not None:
        return False
    ended = [a.ended_at for a in assignments if a.ended_at is not None]
    return not ended or max(ended) < cutoff

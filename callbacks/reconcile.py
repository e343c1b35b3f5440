"""Rebuilding the live lines from the database, after Redis lost them (or to check them).

The database holds every promise: each open callback goes back at its original place
(its score is the moment the customer first joined), and each live caller still waiting
too. Joining keeps an entry's existing place, so reconciling a healthy Redis changes
nothing. Agents' presence, the records of offers under way and their lost jobs come back
too (callbacks.restore). A callback that may not ring now (its queue closed, its customer's
quiet hours) is held until its next allowed moment instead (callbacks.window). Runs when
the worker starts, then on a schedule, and at once when
a worker's maintenance pass finds the reconciler's marker gone (Redis lost its data) or
written on another server than the primary now (a failover: the replica promoted may lack
the last writes before it).
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks import placing, restore, sweeper, window
from holdless import tasks
from ivr import booking
from models.callbacks import BOOKED, OPEN_STATUSES, Callback, CallbackAttempt
from models.entities import WAITING, Assignment, Interaction
from queueing import dispatch, keys, lines, overflow, priority, transfers
from queueing.limits import (
    CALLBACK_STUCK_ATTEMPT_SECONDS,
    RECONCILE_INTERVAL_SECONDS,
    RECONCILE_LIVE_MAX_AGE_SECONDS,
    RECONCILE_LOCK_SECONDS,
)

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

STUCK = "stuck: no call placed"


@dataclass(frozen=True)
class Rebuilt:
    """What a reconcile pass put back in line (entries that were missing), the stale
    entries it took out, the agents' live states and the lost jobs it restored."""

    callbacks: int
    callers: int
    removed: int
    agents: int = 0
    jobs: int = 0


def settle_stuck_attempts(rt: Runtime) -> int:
    """The watchdog: close as failed every attempt that has placed no customer call
    CALLBACK_STUCK_ATTEMPT_SECONDS after it began (its worker died between recording it and
    dialling), counting it as a try; the retry policy then goes on. Settling sets the
    attempt's outcome, so a late run of its dial job places no call."""
    cutoff = rt.clock.now() - timedelta(seconds=CALLBACK_STUCK_ATTEMPT_SECONDS)
    with rt.db.session() as s:
        stuck = list(s.scalars(select(CallbackAttempt).where(
            CallbackAttempt.outcome == "", CallbackAttempt.call_sid.is_(None),
            CallbackAttempt.customer_answered_at.is_(None),
            CallbackAttempt.started_at < cutoff)))
        for attempt in stuck:
            callback = attempt.callback
            callback.attempts = max(callback.attempts, attempt.number)
        ids = [attempt.id for attempt in stuck]
    for attempt_id in ids:
        log.warning("callback attempt %s stuck without a call; closed as failed", attempt_id)
        placing.customer_failed(rt, attempt_id, STUCK)
    return len(ids)


def reconcile(rt: Runtime, lost: bool = False) -> Rebuilt:
    """Settle stuck attempts, restore presence (and, when Redis `lost` its data, the offers
    under way and their jobs), then put every open callback and every waiting caller back
    at their place; route."""
    settle_stuck_attempts(rt)
    overflow.publish(rt.live, rt.db)  # the overflow routes, lost with Redis
    restored = restore.restore(rt, lost)
    _hold_for_hours(rt)
    with rt.db.session() as s:
        busy = {str(e) for e in s.scalars(select(Assignment.active_entry)
                                          .where(Assignment.active_entry.is_not(None)))}
        due, later = _due_callbacks(s, rt, busy)
        callers = _waiting_callers(s, rt, busy)
    for callback_id, at in later:  # a lost scheduled job comes back (one per moment)
        booking.schedule_due(rt, callback_id, at)
    back = {entry.id for entry in due + callers if lines.join(rt.live, entry)}
    removed = _remove_closed_callbacks(rt)
    queues = sorted({e.queue for e in due + callers})
    if queues:
        dispatch.route_and_offer(rt, queues)
    result = Rebuilt(sum(e.id in back for e in due), sum(e.id in back for e in callers),
                     removed, restored.agents, restored.jobs)
    log.info("reconciled lines: %s", result)
    return result


def _hold_for_hours(rt: Runtime) -> None:
    """Hold the open callbacks that may not ring now (queue closed, customer's quiet hours)
    until their next allowed moment, queue by queue, before the lines are rebuilt."""
    with rt.db.session() as s:
        queue_ids = sorted(set(s.scalars(select(Callback.queue_id).where(
            Callback.status.in_(OPEN_STATUSES)))))
    for queue_id in queue_ids:
        window.hold(rt, queue_id)


def _due_callbacks(s: Session, rt: Runtime, busy: set[str]
                   ) -> tuple[list[lines.Entry], list[tuple[int, datetime]]]:
    """Open callbacks due in line now, and those waiting for a retry or a slot (with when)."""
    now = rt.clock.now()
    found = s.scalars(select(Callback).where(Callback.status.in_(OPEN_STATUSES)))
    under_way = set(s.scalars(select(CallbackAttempt.callback_id).where(
        CallbackAttempt.outcome == "")))
    entries, later = [], []
    for callback in found:
        if booking.entry_id(callback.id) in busy or callback.id in under_way:
            continue  # an attempt is under way (the watchdog settles one that is stuck)
        if callback.next_attempt_at is not None and callback.next_attempt_at > now:
            later.append((callback.id, callback.next_attempt_at))
            continue  # waiting for its retry or its slot: not in line before then
        callback.status, callback.next_attempt_at = BOOKED, None  # a stalled attempt too
        callback.held_for = None
        entries.append(booking.entry_for(callback))
    return entries, later


def _waiting_callers(s: Session, rt: Runtime, busy: set[str]) -> list[lines.Entry]:
    """Live callers the database records as waiting (lately), with the agent who
    cold-transferred each back to a queue, if one did: never offered back to them."""
    since = rt.clock.now() - timedelta(seconds=RECONCILE_LIVE_MAX_AGE_SECONDS)
    found = s.scalars(select(Interaction).where(
        Interaction.status == WAITING, Interaction.queue_id.is_not(None),
        Interaction.joined_at.is_not(None), Interaction.created_at >= since,
        Interaction.outcome != booking.CALLBACK_BOOKED)).all()
    sent_by = transfers.senders(s, [interaction.id for interaction in found])
    entries = []
    for interaction in found:
        entry_id = lines.caller_entry_id(interaction.id)
        if entry_id in busy or rt.live.exists(keys.capture(interaction.call_sid)):
            continue  # with an agent, or stepping out to book a callback
        assert interaction.queue is not None and interaction.joined_at is not None
        entries.append(lines.Entry(entry_id, interaction.queue.slug, lines.CALLER,
                                   interaction.joined_at, interaction.call_sid, interaction.id,
                                   bonus=priority.caller_bonus(interaction),
                                   sender=sent_by.get(interaction.id, 0)))
    return entries


def _remove_closed_callbacks(rt: Runtime) -> int:
    """Take out of the lines any callback the database says is closed (cancelled, done)."""
    found: dict[int, tuple[str, str]] = {}
    for queue in rt.live.smembers(keys.queues()):
        for entry_id in rt.live.zrange(keys.line(str(queue)), 0, -1):
            callback_id = booking.callback_id_of(str(entry_id))
            if callback_id is not None:
                found[callback_id] = (str(queue), str(entry_id))
    if not found:
        return 0
    with rt.db.session() as s:
        still_open = set(s.scalars(select(Callback.id).where(
            Callback.id.in_(found), Callback.status.in_(OPEN_STATUSES))))
    return sum(lines.leave(rt.live, *found[c]) for c in found if c not in still_open)


def reconcile_job(rt: Runtime) -> str:
    """Job: reconcile now, and again after the interval (one job per interval slot); the next
    one is scheduled first, so a pass failing in an outage does not end the schedule."""
    schedule_next(rt)
    result = reconcile(rt)
    return f"{result.callbacks} callback(s), {result.callers} caller(s) back in line"


def schedule_next(rt: Runtime) -> None:
    """Enqueue the next periodic reconcile (several workers share one job per slot)."""
    slot = int(rt.clock.time() // RECONCILE_INTERVAL_SECONDS) + 1
    rt.enqueue(tasks.RECONCILE, job_id=f"reconcile-{slot}", delay=RECONCILE_INTERVAL_SECONDS)


def at_worker_start(rt: Runtime) -> Rebuilt:
    """What a worker does first: rebuild the lines, and keep reconciling on a schedule."""
    lost = redis_lost(rt)  # or new: either way there is nothing live to keep
    _mark(rt, {"started": repr(time.time())})
    schedule_next(rt)
    result = reconcile(rt, lost)
    _mark(rt, _figures(result))
    return result


def redis_lost(rt: Runtime) -> bool:
    """Whether Redis lost its data since the last reconcile (the marker is gone), or another
    server answers as primary than the one that reconciled (a Sentinel failover, or a
    restart): writes of the last moments before it, not yet copied, may be gone."""
    seen = rt.live.hget(keys.reconciled(), "primary")
    if seen is None:
        return not rt.live.exists(keys.reconciled())
    return seen != primary_id(rt)


def primary_id(rt: Runtime) -> str:
    """The id of the Redis server answering now (INFO's run_id: new at every start, and
    each server of a replicated set has its own)."""
    return str(rt.live.info("server")["run_id"])


def reconcile_if_lost(rt: Runtime) -> Rebuilt | None:
    """Each maintenance pass: when Redis lost its data, reconcile at once (one worker at a
    time) and schedule the periodic reconcile and sweep again, since their jobs were lost too."""
    if not redis_lost(rt):
        return None
    token = secrets.token_hex(8)
    if not rt.live.set(keys.reconcile_lock(), token, nx=True, ex=RECONCILE_LOCK_SECONDS):
        return None  # another worker is on it
    try:
        # Marked first: a loss during this pass removes the mark, and the next pass sees it.
        _mark(rt, {"started": repr(time.time())})
        schedule_next(rt)
        sweeper.schedule_next(rt)  # the sweep's next job was lost with Redis too
        result = reconcile(rt, lost=True)
        _mark(rt, _figures(result))
    finally:
        if rt.live.get(keys.reconcile_lock()) == token:
            rt.live.delete(keys.reconcile_lock())
    log.warning("Redis had lost its data (or another server became primary); reconciled "
                "from the database: %s", result)
    return result


def _figures(result: Rebuilt) -> dict[str, str]:
    return {"done": repr(time.time()), "callbacks": str(result.callbacks),
            "callers": str(result.callers), "agents": str(result.agents),
            "jobs": str(result.jobs)}


def _mark(rt: Runtime, fields: dict[str, str]) -> None:
    """Write the reconciler's marker (wall-clock times, so operators can read them) and the
    server it was written on."""
    fields = {**fields, "primary": primary_id(rt)}
    rt.live.hset(keys.reconciled(), mapping=fields)  # type: ignore[arg-type]

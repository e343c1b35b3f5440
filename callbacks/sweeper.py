"""The sweeper: hang-ups whose status callbacks were lost, found by asking Twilio.

Twilio does not retry a status callback. During a database outage longer than the job
retries (about 2 minutes), or while Redis is down too, a caller's or an agent leg's
`completed` is lost: a dead caller stays in line (and could be offered to an agent), an
agent stays busy. So, periodically, every call Holdless still thinks is live and has had
no news of for a while is fetched from Twilio; a call Twilio says has ended gets exactly
what its lost status callback would have applied, through the same functions the webhooks
call. A call still up is left alone; an unknown call or a Twilio error changes nothing.

The same pass adopts a call a killed worker placed without recording its sid (agent legs,
callback attempts): Twilio is asked for the calls placed to that contact since the leg was
written, so the call's end can be applied, and a leg with a call is never dialled again
(see callbacks/adoption.py, which the dial jobs ask before re-dialling).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from callbacks import adoption, agent_legs, call_ends
from holdless import tasks
from holdless.twilio_gateway import TwilioRestException
from models.callbacks import ATTEMPT_CONNECTED, ATTEMPT_FINISHED, CallbackAttempt
from models.entities import CONNECTED, OFFERED, WAITING, Agent, Interaction, Leg
from models.states import (
    AGENT_LEG,
    CALLBACK_AGENT,
    CALLBACK_CUSTOMER,
    CALLER_CALL,
    ENDED_CALL_STATUSES,
    SUPERVISOR_CALL,
)
from models.supervision import MonitoringSession
from queueing import dispatch, keys, lines, overflow, pages
from queueing.keys import KEY_PREFIX
from queueing.limits import (
    SWEEP_INTERVAL_SECONDS,
    SWEEP_MAX_CALLS_PER_JOB,
    SWEEP_MIN_AGE_SECONDS,
    SWEEP_RECHECK_SECONDS,
)

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

# A watched call is of one of models.states' kinds of call. Callers come first: applying a
# caller's end before their ringing agent's (the order Twilio reports them in) keeps the
# agent's unanswered leg from counting a miss.
# An attempt whose agent leg's end still matters (before it, or while the customer talks).
AGENT_LEG_OPEN = ("", ATTEMPT_CONNECTED)
CUSTOMER_CALL_OPEN = ("", ATTEMPT_CONNECTED, ATTEMPT_FINISHED)
CHECK_MEMORY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Watched:
    """A call Holdless thinks is live: what it belongs to, its sid (None: the dial's sid
    was never recorded), and whom it rings and since when (to find an unrecorded one)."""

    kind: str
    ident: int
    sid: str | None
    to: str = ""
    since: datetime | None = None

    @property
    def key(self) -> str:
        """A name for it, e.g. `leg:12`."""
        return f"{self.kind}:{self.ident}"


@dataclass
class Swept:
    """What one sweep did: calls asked about, ended ones applied, unrecorded calls adopted,
    calls Twilio did not know, Twilio errors, and whether calls were left for the next job."""

    asked: int = 0
    ended: int = 0
    adopted: int = 0
    unknown: int = 0
    errors: int = 0
    more: bool = False
    applied: list[str] = field(default_factory=list)
    finished: int = 0
    """Callers left alone in their conference whose call the sweep had ended."""


def sweep(rt: Runtime, limit: int = SWEEP_MAX_CALLS_PER_JOB) -> Swept:
    """Ask Twilio about up to `limit` calls we think are live (not asked about lately),
    and apply the end of each one that is over."""
    result = Swept()
    due = _not_checked_lately(rt, watched(rt))
    result.more = len(due) > limit
    for item in due[:limit]:
        _sweep_one(rt, item, result)
    result.finished = finish_left_alone(rt)
    if result.ended or result.adopted or result.unknown or result.errors or result.finished:
        log.info("sweep: asked %s, ended %s, adopted %s, unknown %s, errors %s",
                 result.asked, result.ended, result.adopted, result.unknown, result.errors)
    return result


def watched(rt: Runtime) -> list[Watched]:
    """Every call Holdless thinks is live and that is older than SWEEP_MIN_AGE_SECONDS:
    callers waiting, offered or talking; agent legs not ended; callback attempts whose
    agent or customer call has not reported its end; supervisors' phone legs of periods
    still open (the board would show them monitoring for ever)."""
    cutoff = rt.clock.now() - timedelta(seconds=SWEEP_MIN_AGE_SECONDS)
    with rt.db.session() as s:
        found = [Watched(CALLER_CALL, i.id, i.call_sid) for i in s.scalars(
            select(Interaction).where(Interaction.status.in_((WAITING, OFFERED, CONNECTED)),
                                      Interaction.created_at < cutoff)
            .order_by(Interaction.id))]
        contacts = {a.id: str(a.contact) for a in s.scalars(select(Agent))}
        for leg in s.scalars(select(Leg).where(Leg.ended_at.is_(None), Leg.started_at < cutoff)
                             .order_by(Leg.id)):
            sid = leg.call_sid or _noted_leg_call(rt, leg.id)
            found.append(Watched(AGENT_LEG, leg.id, sid, contacts.get(leg.agent_id or 0, ""),
                                 leg.started_at))
        attempts = list(s.scalars(select(CallbackAttempt).where(
            CallbackAttempt.started_at < cutoff, CallbackAttempt.outcome.in_(CUSTOMER_CALL_OPEN),
            or_(CallbackAttempt.outcome.in_(AGENT_LEG_OPEN),
                CallbackAttempt.ended_at.is_(None))).order_by(CallbackAttempt.id)))
        for attempt in attempts:
            if attempt.agent_id is not None and attempt.outcome in AGENT_LEG_OPEN:
                found.append(Watched(CALLBACK_AGENT, attempt.id, attempt.agent_call_sid,
                                     contacts.get(attempt.agent_id, ""), attempt.started_at))
        for attempt in attempts:
            dialled = attempt.customer_dialled_at
            if (dialled is not None and dialled < cutoff and attempt.ended_at is None
                    and attempt.outcome in CUSTOMER_CALL_OPEN):
                found.append(Watched(CALLBACK_CUSTOMER, attempt.id, attempt.call_sid,
                                     attempt.callback.number, dialled))
        found += [Watched(SUPERVISOR_CALL, row.id, row.call_sid) for row in s.scalars(
            select(MonitoringSession).where(MonitoringSession.ended_at.is_(None),
                                            MonitoringSession.call_sid.is_not(None),
                                            MonitoringSession.started_at < cutoff)
            .order_by(MonitoringSession.id))]
    return found


def left_alone(rt: Runtime) -> list[tuple[int, int | None]]:
    """Interactions still connected whose agent legs all ended over SWEEP_MIN_AGE_SECONDS
    ago, with the agent of the last leg: the leg's end was recorded, then a store failed (a
    Redis failover) before the agent's wrap-up and the job ending the caller's call were,
    and Twilio does not report it again."""
    cutoff = rt.clock.now() - timedelta(seconds=SWEEP_MIN_AGE_SECONDS)
    other = aliased(Leg)
    last_end = (select(func.max(other.ended_at)).where(other.interaction_id == Interaction.id)
                .correlate(Interaction).scalar_subquery())
    live_legs = select(Leg.interaction_id).where(Leg.ended_at.is_(None))
    with rt.db.session() as s:
        found = s.execute(select(Interaction.id, Leg.agent_id).join(
            Leg, (Leg.interaction_id == Interaction.id) & (Leg.ended_at == last_end)).where(
            Interaction.status == CONNECTED, Interaction.id.not_in(live_legs),
            last_end < cutoff).order_by(Interaction.id)).all()
    return [(interaction_id, agent_id) for interaction_id, agent_id in found]


def finish_left_alone(rt: Runtime) -> int:
    """End the call (or start the survey) of each caller left alone in their conference, and
    put their agent, still busy with them in Redis, in wrap-up: what the lost report would
    have done, once per caller (a survey under way keeps its interaction connected)."""
    finished = 0
    for interaction_id, agent_id in left_alone(rt):
        if not rt.live.set(keys.left_alone(interaction_id), "1", nx=True,
                           ex=CHECK_MEMORY_SECONDS):
            continue
        log.warning("sweep: interaction %s was left alone in its conference; ending it",
                    interaction_id)
        entry = lines.caller_entry_id(interaction_id)
        if agent_id is not None and rt.presence.current_entry(agent_id) == entry:
            agent_legs.wrap_up(rt, agent_id)
        rt.enqueue(tasks.FINISH_CALL, interaction_id, job_id=f"finish-{interaction_id}")
        finished += 1
    return finished


def _noted_leg_call(rt: Runtime, leg_id: int) -> str | None:
    sid = rt.live.get(keys.leg_call(leg_id))
    return str(sid) if sid else None


def _checked_key(item: Watched) -> str:
    return f"{KEY_PREFIX}swept:{item.key}"


def _not_checked_lately(rt: Runtime, items: list[Watched]) -> list[Watched]:
    if not items:
        return []
    marks = rt.live.mget([_checked_key(i) for i in items])
    recent = rt.clock.time() - SWEEP_RECHECK_SECONDS
    return [i for i, mark in zip(items, marks, strict=True) if mark is None or float(mark) < recent]


def settle(rt: Runtime, item: Watched) -> Swept:
    """Ask Twilio about one call now and apply its end if it is over, as a sweep would."""
    result = Swept()
    _sweep_one(rt, item, result)
    return result


def _sweep_one(rt: Runtime, item: Watched, result: Swept) -> bool:
    """Ask about one call and apply its end; False when Twilio could not say."""
    if item.key in result.applied:
        return True
    # asked about now, whatever the answer: the next ask waits SWEEP_RECHECK_SECONDS
    rt.live.set(_checked_key(item), rt.clock.time(), ex=CHECK_MEMORY_SECONDS)
    try:
        sid = item.sid or _adopt(rt, item, result)
        if sid is None:
            return True
        result.asked += 1
        state = rt.gateway.call_state(sid)
    except TwilioRestException as exc:
        result.errors += 1
        log.warning("sweep: Twilio error %s (HTTP %s) asking about %s; nothing changed",
                    exc.code, exc.status, item.key)
        return False
    if state is None:
        result.unknown += 1
        log.warning("sweep: Twilio does not know the call of %s; nothing changed", item.key)
    elif (status := state.status) in ENDED_CALL_STATUSES:
        if item.kind == AGENT_LEG and not _caller_settled_first(rt, item, result):
            return False
        log.warning("sweep: the call of %s ended (%s) with no status report; applying it",
                    item.key, status)
        call_ends.settle(rt, item.kind, item.ident, status, sid, state.ended)
        result.ended += 1
        result.applied.append(item.key)
    return True


def _caller_settled_first(rt: Runtime, leg: Watched, result: Swept) -> bool:
    """Whatever the order or the batch, a leg's caller is asked about (and their hang-up
    applied) before the leg's end, as Twilio would have reported them: an agent's leg
    cancelled because the caller hung up is then not the agent's miss. False (leave the
    leg for the next sweep) when Twilio could not say about the caller."""
    caller = _caller_of_leg(rt, leg.ident)
    return caller is None or _sweep_one(rt, caller, result)


def _caller_of_leg(rt: Runtime, leg_id: int) -> Watched | None:
    """The caller of a leg's interaction, while in line, offered or talking."""
    with rt.db.session() as s:
        interaction = s.scalar(select(Interaction).join(Leg).where(Leg.id == leg_id))
        if interaction is None or interaction.status not in (WAITING, OFFERED, CONNECTED):
            return None
        return Watched(CALLER_CALL, interaction.id, interaction.call_sid)




def _adopt(rt: Runtime, item: Watched, result: Swept) -> str | None:
    """Find and record the call a killed worker placed for this leg or attempt."""
    if not item.to or item.since is None:
        return None
    found = adoption.placed_call(rt, item.to, item.since)
    if found is None:
        return None
    sid = found.sid
    adoption.record_placed_call(rt, item.kind, item.ident, sid)
    result.adopted += 1
    log.warning("sweep: %s had a call at Twilio with no record of it; adopted", item.key)
    return sid








def sweep_job(rt: Runtime, part: int = 0) -> str:
    """Job: sweep; chain another job at once when calls were left over. The first job of a
    slot schedules the next slot's before sweeping, so a sweep failing through a long
    database outage (the very case it is for) does not end the schedule."""
    if part == 0:
        schedule_next(rt)
        pages.take_gone_offline(rt)  # agents whose console is gone past the grace period
        overflowing = overflow.sources(rt.live)
        if overflowing:  # entries (callbacks too) that have now waited long enough
            dispatch.route_and_offer(rt, overflowing)
    result = sweep(rt, SWEEP_MAX_CALLS_PER_JOB)
    if result.more:
        slot = int(rt.clock.time() // SWEEP_INTERVAL_SECONDS)
        rt.enqueue(tasks.SWEEP, part + 1, job_id=f"sweep-more-{slot}-{part + 1}")
    return f"asked {result.asked}, ended {result.ended}, adopted {result.adopted}"


def schedule_next(rt: Runtime) -> None:
    """Enqueue the next periodic sweep (several workers share one job per slot)."""
    slot = int(rt.clock.time() // SWEEP_INTERVAL_SECONDS) + 1
    rt.enqueue(tasks.SWEEP, job_id=f"sweep-{slot}", delay=SWEEP_INTERVAL_SECONDS)

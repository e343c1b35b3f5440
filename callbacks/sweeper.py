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
(see `placed_call`, which the connect job asks before re-dialling).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from callbacks.placing import CONNECTED as TALKING
from callbacks.placing import FINISHED
from entrypoints import runtime
from entrypoints.runtime import Runtime
from holdless.twilio_gateway import PlacedCall, TwilioRestException
from models.callbacks import CallbackAttempt
from models.entities import CONNECTED, OFFERED, WAITING, Agent, Interaction, Leg
from models.states import ENDED_CALL_STATUSES
from queueing import keys
from queueing.limits import (
    KEY_PREFIX,
    SWEEP_INTERVAL_SECONDS,
    SWEEP_MAX_CALLS_PER_JOB,
    SWEEP_MIN_AGE_SECONDS,
    SWEEP_RECHECK_SECONDS,
)

log = logging.getLogger(__name__)

# What a watched call is: a caller's call, an agent's leg, or a callback attempt's agent or
# customer call. Callers come first: applying a caller's end before their ringing agent's
# (the order Twilio reports them in) keeps the agent's unanswered leg from counting a miss.
CALLER, LEG, AGENT, CUSTOMER = "caller", "leg", "cb-agent", "cb-customer"
# An attempt whose agent leg's end still matters (before it, or while the customer talks).
AGENT_LEG_OPEN = ("", TALKING)
CUSTOMER_CALL_OPEN = ("", TALKING, FINISHED)
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


def sweep(rt: Runtime, limit: int = SWEEP_MAX_CALLS_PER_JOB) -> Swept:
    """Ask Twilio about up to `limit` calls we think are live (not asked about lately),
    and apply the end of each one that is over."""
    result = Swept()
    due = _not_checked_lately(rt, watched(rt))
    result.more = len(due) > limit
    for item in due[:limit]:
        _sweep_one(rt, item, result)
    if result.ended or result.adopted or result.unknown or result.errors:
        log.info("sweep: asked %s, ended %s, adopted %s, unknown %s, errors %s",
                 result.asked, result.ended, result.adopted, result.unknown, result.errors)
    return result


def watched(rt: Runtime) -> list[Watched]:
    """Every call Holdless thinks is live and that is older than SWEEP_MIN_AGE_SECONDS:
    callers waiting, offered or talking; agent legs not ended; callback attempts whose
    agent or customer call has not reported its end."""
    cutoff = rt.clock.now() - timedelta(seconds=SWEEP_MIN_AGE_SECONDS)
    with rt.db.session() as s:
        found = [Watched(CALLER, i.id, i.call_sid) for i in s.scalars(
            select(Interaction).where(Interaction.status.in_((WAITING, OFFERED, CONNECTED)),
                                      Interaction.created_at < cutoff)
            .order_by(Interaction.id))]
        contacts = {a.id: str(a.contact) for a in s.scalars(select(Agent))}
        for leg in s.scalars(select(Leg).where(Leg.ended_at.is_(None), Leg.started_at < cutoff)
                             .order_by(Leg.id)):
            sid = leg.call_sid or _noted_leg_call(rt, leg.id)
            found.append(Watched(LEG, leg.id, sid, contacts.get(leg.agent_id or 0, ""),
                                 leg.started_at))
        attempts = list(s.scalars(select(CallbackAttempt).where(
            CallbackAttempt.started_at < cutoff, CallbackAttempt.outcome.in_(CUSTOMER_CALL_OPEN),
            or_(CallbackAttempt.outcome.in_(AGENT_LEG_OPEN),
                CallbackAttempt.ended_at.is_(None))).order_by(CallbackAttempt.id)))
        for attempt in attempts:
            if attempt.agent_id is not None and attempt.outcome in AGENT_LEG_OPEN:
                found.append(Watched(AGENT, attempt.id, attempt.agent_call_sid,
                                     contacts.get(attempt.agent_id, ""), attempt.started_at))
        for attempt in attempts:
            dialled = attempt.customer_dialled_at
            if (dialled is not None and dialled < cutoff and attempt.ended_at is None
                    and attempt.outcome in CUSTOMER_CALL_OPEN):
                found.append(Watched(CUSTOMER, attempt.id, attempt.call_sid,
                                     attempt.callback.number, dialled))
    return found


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
        status = rt.gateway.call_status(sid)
    except TwilioRestException as exc:
        result.errors += 1
        log.warning("sweep: Twilio error %s (HTTP %s) asking about %s; nothing changed",
                    exc.code, exc.status, item.key)
        return False
    if status is None:
        result.unknown += 1
        log.warning("sweep: Twilio does not know the call of %s; nothing changed", item.key)
    elif status in ENDED_CALL_STATUSES:
        if item.kind == LEG and not _caller_settled_first(rt, item, result):
            return False
        log.warning("sweep: the call of %s ended (%s) with no status report; applying it",
                    item.key, status)
        apply_end(rt, item, status, sid)
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
        return Watched(CALLER, interaction.id, interaction.call_sid)


def apply_end(rt: Runtime, item: Watched, status: str, sid: str) -> None:
    """Apply a call's end exactly as its status callback would have."""
    from callbacks import agent_legs, customer_first, placing
    from ivr import calls
    if item.kind == CALLER:
        calls.caller_left(rt, sid)
    elif item.kind == LEG:
        agent_legs.agent_leg_status(rt, item.ident, status, sid)
    elif item.kind == AGENT:
        placing.agent_leg_status(rt, item.ident, status)
    else:
        customer_first.customer_call_status(rt, item.ident, status, sid)


def _adopt(rt: Runtime, item: Watched, result: Swept) -> str | None:
    """Find and record the call a killed worker placed for this leg or attempt."""
    if not item.to or item.since is None:
        return None
    found = placed_call(rt, item.to, item.since)
    if found is None:
        return None
    sid = found.sid
    record_placed_call(rt, item, sid)
    result.adopted += 1
    log.warning("sweep: %s had a call at Twilio with no record of it; adopted", item.key)
    return sid


def placed_call(rt: Runtime, to: str, since: datetime) -> PlacedCall | None:
    """A call placed to `to` since `since` that no leg or attempt has recorded (the oldest,
    if several), or None. Twilio errors raise."""
    placed = rt.gateway.calls_placed_to(to, since)
    if not placed:
        return None
    sids = [c.sid for c in placed]
    with rt.db.session() as s:
        known = set(s.scalars(select(Leg.call_sid).where(Leg.call_sid.in_(sids))))
        known |= set(s.scalars(select(Interaction.call_sid).where(Interaction.call_sid.in_(sids))))
        for column in (CallbackAttempt.agent_call_sid, CallbackAttempt.call_sid):
            known |= set(s.scalars(select(column).where(column.in_(sids))))
    free = [call for call in placed if call.sid not in known]
    return free[0] if free else None


def adopt_if_placed(rt: Runtime, kind: str, ident: int, to: str, since: datetime) -> bool:
    """Before ringing again a leg or a callback attempt's agent whose dial left no trace (its
    worker died mid-job, the `initiated` report lost): ask Twilio for a call placed to `to`
    since `since`. One found is adopted, and its end applied at once if it is over (as its
    lost status callback would have); True then, and nobody is rung twice. A Twilio error
    raises (the job is retried): never dial blind."""
    found = placed_call(rt, to, since)
    if found is None:
        log.warning("%s:%s was never dialled (worker lost mid-job); dialling", kind, ident)
        return False
    record_placed_call(rt, Watched(kind, ident, None), found.sid)
    log.warning("%s:%s was dialled by a worker lost mid-job; adopted its call (%s)", kind,
                ident, found.status)
    if found.status in ENDED_CALL_STATUSES:  # caller first, as a sweep would
        settle(rt, Watched(kind, ident, found.sid))
    return True


def record_placed_call(rt: Runtime, item: Watched, sid: str) -> None:
    """Record a found call as the leg's (or the attempt's agent or customer call)."""
    with rt.db.session() as s:
        if item.kind == LEG:
            leg = s.get(Leg, item.ident)
            if leg is not None and not leg.call_sid:
                leg.call_sid = sid
        else:
            attempt = s.get(CallbackAttempt, item.ident)
            if attempt is not None and item.kind == AGENT and not attempt.agent_call_sid:
                attempt.agent_call_sid = sid
            elif attempt is not None and item.kind == CUSTOMER and not attempt.call_sid:
                attempt.call_sid = sid
    if item.kind == LEG:
        from callbacks.jobs import LEG_CALL_MEMORY_SECONDS
        rt.live.set(keys.leg_call(item.ident), sid, ex=LEG_CALL_MEMORY_SECONDS)


def sweep_job(part: int = 0) -> str:
    """Job: sweep; chain another job at once when calls were left over. The first job of a
    slot schedules the next slot's before sweeping, so a sweep failing through a long
    database outage (the very case it is for) does not end the schedule."""
    rt = runtime.get()
    if part == 0:
        schedule_next(rt)
    result = sweep(rt, SWEEP_MAX_CALLS_PER_JOB)
    if result.more:
        slot = int(rt.clock.time() // SWEEP_INTERVAL_SECONDS)
        rt.enqueue(sweep_job, part + 1, job_id=f"sweep-more-{slot}-{part + 1}")
    return f"asked {result.asked}, ended {result.ended}, adopted {result.adopted}"


def schedule_next(rt: Runtime) -> None:
    """Enqueue the next periodic sweep (several workers share one job per slot)."""
    slot = int(rt.clock.time() // SWEEP_INTERVAL_SECONDS) + 1
    rt.enqueue(sweep_job, job_id=f"sweep-{slot}", delay=SWEEP_INTERVAL_SECONDS)

"""The live board supervisors watch: per queue, whether it is open and until when, who waits
and for how long, service level and abandon rate so far today, callbacks due, what a new
caller would be told, and each queue's alarms; per agent, their state (with why they are not
ready), how long in it, and the call they are on (queue, caller masked, talk time).

Agents' states come from Redis presence first, the database's record when Redis has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from admin import booked, reports
from holdless.zoned import zoned
from models.entities import (
    AGENT_STATES,
    NOT_READY,
    OFFLINE,
    ROLE_ADMIN,
    Agent,
    AgentQueue,
    Leg,
    Queue,
)
from models.supervision import MonitoringSession
from queueing import directory, hours, keys, lines, stats
from queueing.estimate import WaitEstimate, estimate_wait

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

NO_AGENT = "no agent signed in"
CLOSED = "closed"


@dataclass(frozen=True)
class AgentLine:
    """One agent on the board: name, live state (and why not ready), seconds in it (None
    when unknown), and the call they are on: queue, caller masked, talk seconds."""

    id: int
    name: str
    state: str
    seconds_in_state: float | None
    reason: str = ""
    queue: str | None = None
    caller: str | None = None
    talk_seconds: float | None = None
    interaction_id: int | None = None
    supervisors: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueBoard:
    """One queue's live figures and its alarms."""

    slug: str
    name: str
    waiting: int
    oldest_wait_seconds: float | None
    new_caller_estimate: WaitEstimate
    agents_by_state: dict[str, int]
    agents: tuple[AgentLine, ...]
    open: bool = True
    until: str | None = None
    time_zone: str = "UTC"
    status: str = "open"
    estimate_text: str = ""
    callbacks_waiting: int = 0
    service_level_percent: float | None = None
    abandon_percent: float | None = None
    offered_today: int = 0
    alerts: tuple[str, ...] = ()


def masked(number: str | None) -> str | None:
    """A caller's number as staff see it on the board: its last four digits only."""
    return None if not number else "…" + number[-4:]


def minutes(seconds: float) -> str:
    """A duration in plain words (`3 min 5 s`, `40 s`)."""
    whole = int(round(seconds))
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60} s"


def _why(agent: Agent, state: str) -> str:
    """Why an agent takes no calls: their not-ready reason, or why they were taken offline."""
    if state == NOT_READY:
        return agent.not_ready_reason
    return agent.offline_reason if state == OFFLINE else ""


def _presence(rt: Runtime, agent: Agent) -> tuple[str, float | None, str]:
    """(state, seconds in it, why not ready) from Redis presence, else the database."""
    state, since = rt.live.hmget(keys.agent(agent.id), ["state", "since"])
    now = rt.clock.time()
    if state is None:
        started = agent.state_since.timestamp() if agent.state_since else None
        return agent.state, None if started is None else now - started, _why(agent, agent.state)
    seconds = None if since is None else now - float(since)
    return str(state), seconds, _why(agent, str(state))


def agent_line(rt: Runtime, agent: Agent, leg: Leg | None = None,
               supervisors: tuple[str, ...] = ()) -> AgentLine:
    """An agent's row: live state, and the call of their open leg `leg` if any."""
    state, seconds, reason = _presence(rt, agent)
    if leg is None:
        return AgentLine(agent.id, agent.name, state, seconds, reason)
    call = leg.interaction
    talk = (None if leg.answered_at is None
            else max(rt.clock.time() - leg.answered_at.timestamp(), 0.0))
    return AgentLine(agent.id, agent.name, state, seconds, reason,
                     call.queue.name if call.queue is not None else None,
                     masked(call.caller_number), talk,
                     call.id if leg.answered_at is not None else None, supervisors)


def _open_legs(s: Session) -> dict[int, Leg]:
    """Each agent's newest open leg (ringing or talking)."""
    legs = s.scalars(select(Leg).options(selectinload(Leg.interaction)).where(
        Leg.ended_at.is_(None), Leg.agent_id.is_not(None)).order_by(Leg.id))
    return {leg.agent_id: leg for leg in legs if leg.agent_id is not None}


def _listeners(s: Session) -> dict[int, tuple[str, ...]]:
    """Per interaction, the supervisors on it now and how (`Sam (coach)`)."""
    rows = s.execute(select(MonitoringSession.interaction_id, Agent.name,
                            MonitoringSession.mode).join(
        Agent, Agent.id == MonitoringSession.supervisor_id).where(
        MonitoringSession.ended_at.is_(None)))
    found: dict[int, tuple[str, ...]] = {}
    for interaction_id, name, mode in rows:
        found[interaction_id] = (*found.get(interaction_id, ()), f"{name} ({mode})")
    return found


def agent_rows(rt: Runtime, s: Session) -> list[AgentLine]:
    """One row per agent and supervisor (not administrators), by name."""
    people = s.scalars(select(Agent).where(Agent.role != ROLE_ADMIN).order_by(Agent.name))
    legs, on_call = _open_legs(s), _listeners(s)
    rows = []
    for agent in people:
        leg = legs.get(agent.id)
        rows.append(agent_line(rt, agent, leg, on_call.get(leg.interaction_id, ())
                               if leg is not None else ()))
    return rows


def _when(moment: datetime, now: datetime, zone: str) -> str:
    """A moment in the queue's own zone, saying which: `17:00 CET` today, else
    `Tue 08 Dec 09:00 CET` (holdless.zoned, as every page shows time)."""
    same_day = moment.astimezone(ZoneInfo(zone)).date() == now.astimezone(ZoneInfo(zone)).date()
    return zoned(moment, zone, "time" if same_day else "day")


def _hours(s: Session, queue: Queue, now: datetime) -> tuple[bool, str | None, str]:
    """Whether the queue is open now, until when (its closing, or its next opening), and
    that in words in the queue's zone (`open until 17:00 CET`, `closed until Tue 08 Dec
    09:00 CET`)."""
    if not queue.hours:
        return True, None, "open (no hours set)"
    plan = directory.schedule(s, queue)
    if hours.is_open(plan, now):
        closes = hours.closing_time(plan, now)
        if closes is None:
            return True, None, "open"
        return True, closes.isoformat(), f"open until {_when(closes, now, queue.time_zone)}"
    opens = hours.next_opening(plan, now)
    if opens is None:
        return False, None, "closed, no opening in sight"
    return False, opens.isoformat(), f"closed until {_when(opens, now, queue.time_zone)}"


def _live_callers(rt: Runtime, slug: str) -> tuple[list[lines.Entry], int]:
    """The live callers of a line (callbacks are counted apart), and its callbacks."""
    entries = lines.waiting(rt.live, slug, limit=max(lines.length(rt.live, slug), 1))
    callers = [e for e in entries if e.kind == lines.CALLER]
    return callers, len(entries) - len(callers)


def _alerts(queue: Queue, oldest: float | None, level: float | None) -> tuple[str, ...]:
    """The queue's alarms that are over their threshold now, in plain words that stay the
    same while the alarm lasts (a screen reader hears each once)."""
    found = []
    limit = queue.alert_oldest_wait_seconds
    if limit is not None and oldest is not None and oldest > limit:
        found.append(f"{queue.name}: a caller has waited over {minutes(limit)}")
    floor = queue.alert_service_level_percent
    if floor is not None and level is not None and level < floor:
        found.append(f"{queue.name}: service level today under {floor}%")
    return tuple(found)


def _estimate_text(estimate: WaitEstimate, is_open: bool, staffed: int) -> str:
    if not is_open:
        return CLOSED
    if staffed == 0:
        return NO_AGENT
    return f"{minutes(estimate.seconds)} ({minutes(estimate.low)}–{minutes(estimate.high)})"


def _today(s: Session, queue: Queue, now: datetime) -> reports.Figures:
    """The queue's figures so far today (its own day, in its time zone)."""
    day = now.astimezone(ZoneInfo(queue.time_zone)).date()
    return reports.day_report(s, day, queue.slug).total


def queue_board(rt: Runtime, queue: Queue, agents: Iterable[Agent], s: Session) -> QueueBoard:
    """The live figures of `queue`, whose agents are `agents`."""
    now = rt.clock.now()
    callers, callbacks = _live_callers(rt, queue.slug)
    oldest = min((e.joined for e in callers), default=None)
    oldest_wait = None if oldest is None else max(rt.clock.time() - oldest, 0.0)
    figures = stats.queue_stats(rt.live, rt.presence, queue.slug)
    estimate = estimate_wait(len(callers) + callbacks + 1, figures)
    rows = tuple(sorted((agent_line(rt, a) for a in agents), key=lambda a: a.name))
    counts = {state: sum(a.state == state for a in rows) for state in AGENT_STATES}
    is_open, until, status = _hours(s, queue, now)
    today = _today(s, queue, now)
    level = today.service_level_percent
    abandon = 100.0 * today.abandoned / today.offered if today.offered else None
    return QueueBoard(
        slug=queue.slug, name=queue.name, waiting=len(callers), oldest_wait_seconds=oldest_wait,
        new_caller_estimate=estimate, agents_by_state=counts, agents=rows, open=is_open,
        until=until, time_zone=queue.time_zone, status=status,
        estimate_text=_estimate_text(estimate, is_open, figures.agents_serving),
        callbacks_waiting=callbacks, service_level_percent=level, abandon_percent=abandon,
        offered_today=today.offered, alerts=_alerts(queue, oldest_wait, level))


def board(rt: Runtime) -> list[QueueBoard]:
    """The live figures of every active queue, menu order."""
    with rt.db.session() as s:
        queues = list(s.scalars(select(Queue).where(Queue.active.is_(True))
                                .order_by(Queue.digit, Queue.id)))
        links = s.scalars(select(AgentQueue).options(selectinload(AgentQueue.agent)))
        serving: dict[int, list[Agent]] = {}
        for link in links:
            serving.setdefault(link.queue_id, []).append(link.agent)
        return [queue_board(rt, q, serving.get(q.id, []), s) for q in queues]


def live_board(rt: Runtime) -> dict[str, Any]:
    """The whole board as JSON-ready values: queues (with callbacks booked and dialling)
    and one row per agent."""
    queues = board(rt)
    with rt.db.session() as s:
        ids = {slug: i for slug, i in s.execute(select(Queue.slug, Queue.id))}
        counts = booked.open_counts(s)
        people = agent_rows(rt, s)
    return {"queues": [{**_plain(q), "callbacks": counts.get(ids.get(q.slug, 0),
                                                             {"booked": 0, "dialling": 0})}
                       for q in queues],
            "agents": [_plain(a) for a in people], "at": rt.clock.now().isoformat(),
            "time_zone": rt.settings.time_zone}


def _plain(row: Any) -> dict[str, Any]:
    """A board dataclass as JSON-ready values (agents inside a queue left out)."""
    values = {name: getattr(row, name) for name in row.__dataclass_fields__ if name != "agents"}
    for name, value in values.items():
        if isinstance(value, WaitEstimate):
            values[name] = {"seconds": value.seconds, "low": value.low, "high": value.high}
        elif isinstance(value, tuple):
            values[name] = list(value)
    return values

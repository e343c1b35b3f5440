"""Figures of a queue (or of every queue) over any range of local days: overall, per
30-minute interval for one day (per day for a longer range), and per agent.

Definitions (each call is an inbound interaction that joined a queue's line):
- day and interval: the call's `created_at` in its own queue's time zone; intervals are
  labelled by local wall time, so on the autumn DST day 01:00 and 01:30 hold two real
  half-hours each and in spring the skipped hour's intervals stay empty.
- offered: joined the line (`joined_at` set); callers who hung up in the menu are not offered.
- answered: an agent answered (`answered_at` set).
- abandoned: hung up while waiting or being offered (status abandoned, outcome "abandoned").
  A caller who booked a callback is not abandoned (the callback has its own outcome).
- service level: answered within the queue's `sl_target_seconds`, over all offered calls,
  in percent (abandons and calls still unanswered count against it).
- ASA: mean `wait_seconds` of answered calls.
- AHT: mean over answered calls of the talk time of every answered leg (answered → ended).
  Wrap-up time is not recorded in the database on main, so it is not included.
- first-contact resolution: answered calls from a known number after which that number did
  not call again (any queue) within 24 hours, over answered calls from known numbers.
- transfers per call: answered legs beyond the first, over answered calls.
- callbacks: counted apart (admin.booked.range_counts), never as abandoned calls.

Per agent (legs the agent answered whose call was offered in the range):
- handled: answered legs; AHT: mean talk time of those legs (answered → ended).
- missed offers: the agent's legs that rang and were not answered.
- transfers: transfers the agent started.
- survey: the callers who answered the survey about the agent, the share solved and the
  mean rating.
- wrap-up: the mean length of the agent's wrap-ups begun in the range (presence spells).
- not ready: seconds the agent spent not ready in the range, by reason (break, lunch...).
  An agent who took no call but was not ready in the range has a row of their own (their
  time counts though they handled nothing): in the report of every queue always, in one
  queue's report when they serve that queue (agent_queues, as it is now; an agent serving
  two queues shows their whole not-ready time in each, since a break is not taken from
  one queue; a deactivated agent serves none, so only the all-queues report lists them).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from models.console import Transfer
from models.entities import (
    ABANDONED,
    NOT_READY,
    WRAP_UP,
    Agent,
    AgentQueue,
    Interaction,
    Leg,
    Queue,
)
from models.presence import PresenceSpell
from models.survey import RATING, SOLVED, SurveyAnswer
from queueing import not_ready

INTERVAL_MINUTES = 30
REPEAT_WINDOW = timedelta(hours=24)
LABELS = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1440, INTERVAL_MINUTES))


@dataclass(frozen=True)
class CallFacts:
    """What one offered call contributes to the figures."""

    interval: str
    answered: bool
    abandoned: bool
    wait_seconds: float | None
    within_target: bool
    handle_seconds: float | None
    transfers: int
    resolved: bool | None
    """No repeat call within 24 h (None: number unknown or not answered)."""


@dataclass(frozen=True)
class Figures:
    """The figures of a set of calls (a day or an interval)."""

    offered: int
    answered: int
    abandoned: int
    service_level_percent: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    fcr_percent: float | None
    transfers_per_call: float | None


@dataclass(frozen=True)
class Report:
    """A range's figures for a queue (or all queues), overall and per interval (30-minute
    intervals for one day, days for a longer range)."""

    day: date  # the first day
    queue: str
    total: Figures
    intervals: tuple[tuple[str, Figures], ...]
    last: date | None = None  # the last day (None: the first)
    zone: str = ""  # the zone its times are in ("" for all queues: each queue's own)

    @property
    def until(self) -> date:
        """The last day of the range."""
        return self.last or self.day

    @property
    def period(self) -> str:
        """The range in words: 2026-11-16, or 2026-11-09 to 2026-11-15."""
        if self.until == self.day:
            return self.day.isoformat()
        return f"{self.day.isoformat()} to {self.until.isoformat()}"


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def figures(calls: Sequence[CallFacts]) -> Figures:
    """The figures of `calls` as defined in this module's docstring."""
    answered = [c for c in calls if c.answered]
    known = [c for c in answered if c.resolved is not None]
    return Figures(
        offered=len(calls),
        answered=len(answered),
        abandoned=sum(c.abandoned for c in calls),
        service_level_percent=_percent(sum(c.within_target for c in calls), len(calls)),
        asa_seconds=_mean([c.wait_seconds for c in answered if c.wait_seconds is not None]),
        aht_seconds=_mean([c.handle_seconds for c in answered if c.handle_seconds is not None]),
        fcr_percent=_percent(sum(bool(c.resolved) for c in known), len(known)),
        transfers_per_call=_mean([float(c.transfers) for c in answered]),
    )


def _wait(call: Interaction) -> float | None:
    if call.wait_seconds is not None:
        return call.wait_seconds
    if call.answered_at is None or call.joined_at is None:
        return None
    return call.answered_at.timestamp() - call.joined_at


def talk(call: Interaction) -> tuple[float | None, int]:
    """Talk seconds over every answered leg (None while a leg is live) and transfers."""
    legs = [leg for leg in call.legs if leg.answered_at is not None]
    ended = [(leg.ended_at - leg.answered_at).total_seconds()
             for leg in legs if leg.ended_at is not None and leg.answered_at is not None]
    handle = sum(ended) if legs and len(ended) == len(legs) else None
    return handle, max(len(legs) - 1, 0)


def facts(call: Interaction, queue: Queue, repeats: dict[str, list[datetime]]) -> CallFacts:
    """The facts of one offered call, given every later call time per number."""
    local = call.created_at.astimezone(ZoneInfo(queue.time_zone))
    minute = (local.hour * 60 + local.minute) // INTERVAL_MINUTES * INTERVAL_MINUTES
    answered = call.answered_at is not None
    wait = _wait(call) if answered else None
    handle, transfers = talk(call) if answered else (None, 0)
    resolved = call.resolved_first if answered else None
    if answered and resolved is None and call.caller_number:
        horizon = call.created_at + REPEAT_WINDOW
        resolved = not any(call.created_at < t <= horizon
                           for t in repeats.get(call.caller_number, []))
    return CallFacts(
        interval=LABELS[minute // INTERVAL_MINUTES], answered=answered,
        abandoned=not answered and call.status == ABANDONED and call.outcome == "abandoned",
        wait_seconds=wait,
        within_target=answered and wait is not None and wait <= queue.sl_target_seconds,
        handle_seconds=handle, transfers=transfers, resolved=resolved)


def _queues(s: Session, slug: str | None) -> list[Queue]:
    query = select(Queue).order_by(Queue.id)
    return list(s.scalars(query if slug is None else query.where(Queue.slug == slug)))


def _offered_calls(s: Session, queues: list[Queue], day: date,
                   last: date | None = None) -> list[Interaction]:
    """Offered inbound calls whose local day (in their queue's zone) is `day` (to `last`)."""
    zones = {q.id: ZoneInfo(q.time_zone) for q in queues}
    last = last or day
    start = datetime.combine(day, datetime.min.time(), ZoneInfo("UTC")) - timedelta(days=1)
    end = datetime.combine(last, datetime.min.time(), ZoneInfo("UTC")) + timedelta(days=2)
    rows = s.scalars(select(Interaction).options(selectinload(Interaction.legs)).where(
        Interaction.queue_id.in_(zones), Interaction.kind == "inbound",
        Interaction.joined_at.is_not(None), Interaction.created_at >= start,
        Interaction.created_at < end).order_by(Interaction.created_at))
    return [c for c in rows if c.queue_id is not None
            and day <= c.created_at.astimezone(zones[c.queue_id]).date() <= last]


def _later_calls(s: Session, calls: list[Interaction]) -> dict[str, list[datetime]]:
    numbers = {c.caller_number for c in calls if c.caller_number}
    if not numbers:
        return {}
    first = min(c.created_at for c in calls)
    rows = s.execute(select(Interaction.caller_number, Interaction.created_at).where(
        Interaction.caller_number.in_(numbers), Interaction.kind == "inbound",
        Interaction.created_at > first,
        Interaction.created_at <= max(c.created_at for c in calls) + REPEAT_WINDOW))
    later: dict[str, list[datetime]] = defaultdict(list)
    for number, created in rows:
        if number:
            later[number].append(created)
    return later


def first_contact(s: Session, call: Interaction) -> bool | None:
    """Whether an answered call was resolved at first contact: no call from its number
    within 24 hours after it (None: unanswered, or no number known). What admin.retention
    keeps on the row before the number goes, so the day's figures stay the same."""
    if call.resolved_first is not None or call.answered_at is None or not call.caller_number:
        return call.resolved_first
    horizon = call.created_at + REPEAT_WINDOW
    repeat = s.scalar(select(Interaction.id).where(
        Interaction.caller_number == call.caller_number, Interaction.kind == "inbound",
        Interaction.created_at > call.created_at, Interaction.created_at <= horizon).limit(1))
    return repeat is None


def day_report(s: Session, day: date, queue: str | None = None) -> Report:
    """The figures of one local day for the queue with slug `queue`, or for every queue."""
    return period_report(s, day, day, queue)


def _day_of(call: Interaction, queue: Queue) -> str:
    return call.created_at.astimezone(ZoneInfo(queue.time_zone)).date().isoformat()


def period_report(s: Session, first: date, last: date, queue: str | None = None) -> Report:
    """The figures of the local days `first` to `last` for the queue with slug `queue`, or
    for every queue: per 30-minute interval for one day, per day for a longer range."""
    queues = _queues(s, queue)
    by_id = {q.id: q for q in queues}
    calls = _offered_calls(s, queues, first, last) if queues else []
    later = _later_calls(s, calls)
    labels = LABELS if first == last else tuple(
        (first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1))
    per_interval: dict[str, list[CallFacts]] = defaultdict(list)
    all_facts = []
    for call in calls:
        row = by_id.get(call.queue_id or 0)
        if row is None:
            continue
        fact = facts(call, row, later)
        all_facts.append(fact)
        per_interval[fact.interval if first == last else _day_of(call, row)].append(fact)
    zone = queues[0].time_zone if queue is not None and queues else ""
    return Report(day=first, queue=queue or "all", total=figures(all_facts),
                  intervals=tuple((label, figures(per_interval[label])) for label in labels),
                  last=last, zone=zone)


CSV_COLUMNS = ("interval", "offered", "answered", "abandoned", "service_level_percent",
               "asa_seconds", "aht_seconds", "fcr_percent", "transfers_per_call")


def _cell(value: float | int | None) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.2f}"


def _row(label: str, f: Figures) -> list[str]:
    return [label] + [_cell(x) for x in (f.offered, f.answered, f.abandoned,
                                           f.service_level_percent, f.asa_seconds,
                                           f.aht_seconds, f.fcr_percent, f.transfers_per_call)]


def to_csv(report: Report) -> str:
    """The report as CSV: one row per interval, then the day ("day" in the interval column)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for label, f in report.intervals:
        writer.writerow(_row(label, f))
    writer.writerow(_row("day", report.total))
    return out.getvalue()


def interval_chart(report: Report, target_percent: int | None = None) -> bytes:
    """The chart of `chart_figure` as a PNG."""
    figure = chart_figure(report, target_percent)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def chart_figure(report: Report, target_percent: int | None = None) -> Figure:
    """A chart that reads at a glance: calls offered, answered and abandoned per interval
    (or day) above, the service level as bars on its own 0–100 % axis below (green at or
    above the target, red below, the target dashed; no bar where no call was offered); an
    empty period says so, and no axis ever goes below zero."""
    figure = Figure(figsize=(12, 6), dpi=100)
    FigureCanvasAgg(figure)
    calls, level = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    labels = [label for label, _ in report.intervals]
    rows = [f for _, f in report.intervals]
    xs = list(range(len(rows)))
    calls.bar([x - 0.27 for x in xs], [f.offered for f in rows], 0.27, label="offered",
              color="#4a6fa5")
    calls.bar(xs, [f.answered for f in rows], 0.27, label="answered", color="#3c9d5d")
    calls.bar([x + 0.27 for x in xs], [f.abandoned for f in rows], 0.27, label="abandoned",
              color="#c0392b")
    calls.set_ylim(0, max([f.offered for f in rows] + [1]) * 1.15)
    calls.set_ylabel("calls")
    calls.legend(loc="upper left", ncols=3)
    if not report.total.offered:
        calls.text(0.5, 0.5, "No calls in this period", transform=calls.transAxes,
                   ha="center", va="center", fontsize=16, color="#555")
    percent = [0.0 if f.service_level_percent is None else f.service_level_percent
               for f in rows]
    goal = 0 if target_percent is None else target_percent
    colours = ["#3c9d5d" if p >= goal else "#c0392b" for p in percent]
    level.bar(xs, percent, 0.8, color=colours, label="service level (red: below target)")
    if target_percent is not None:
        level.axhline(target_percent, color="#1d2330", linestyle="--", linewidth=1.5,
                      label=f"target {target_percent}%")
    level.set_ylim(0, 105)
    level.set_ylabel("service level %")
    level.legend(loc="lower left", ncols=2)
    level.grid(axis="y", alpha=0.3)
    step = max(1, len(xs) // 24)
    level.set_xticks(xs[::step], labels[::step], rotation=90)
    level.set_xlim(-0.6, len(xs) - 0.4)
    where = f"times in {report.zone}" if report.zone else "each queue in its own time zone"
    calls.set_title(f"{report.queue}, {report.period} ({where})")
    figure.tight_layout()
    return figure


@dataclass(frozen=True)
class AgentSurvey:
    """One agent's post-call survey results for a day: how many callers answered, the share
    who said their issue was solved, and the mean rating (1 to 5)."""

    agent: str
    surveyed: int
    solved_percent: float | None
    mean_rating: float | None


def survey_by_agent(s: Session, day: date, queue: str | None = None,
                    last: date | None = None) -> list[AgentSurvey]:
    """Survey results per agent (the agent each answer is attached to) for the offered calls
    of the day (to `last`) of the queue with slug `queue`, or of every queue; by name."""

    queues = _queues(s, queue)
    ids = [c.id for c in _offered_calls(s, queues, day, last)] if queues else []
    rows: list[SurveyAnswer] = list(s.scalars(
        select(SurveyAnswer).where(SurveyAnswer.interaction_id.in_(ids)))) if ids else []
    per_agent: dict[str, list[SurveyAnswer]] = defaultdict(list)
    for row in rows:
        per_agent[row.agent.name if row.agent else "(no agent)"].append(row)
    results = []
    for name, answers in sorted(per_agent.items()):
        solved = [a.answer == 1 for a in answers if a.question == SOLVED]
        ratings = [float(a.answer) for a in answers if a.question == RATING]
        results.append(AgentSurvey(
            agent=name, surveyed=len({a.interaction_id for a in answers}),
            solved_percent=_percent(sum(solved), len(solved)), mean_rating=_mean(ratings)))
    return results


MISSED_LEGS = ("missed", "rejected")  # an offer the agent let ring out or turned down


@dataclass(frozen=True)
class AgentFigures:
    """One agent's figures over the calls offered in a range, and their time in it."""

    agent: str
    handled: int
    aht_seconds: float | None
    missed_offers: int
    transfers: int
    surveyed: int
    solved_percent: float | None
    mean_rating: float | None
    wrap_up_seconds: float | None = None  # mean wrap-up after a call (None: none ended)
    not_ready_seconds: dict[str, float] = field(default_factory=dict)  # by reason


def _time_spent(s: Session, agent_ids: list[int], start: datetime,
                end: datetime) -> dict[int, tuple[float | None, dict[str, float]]]:
    """Per agent: their mean wrap-up (spells begun in the range and ended) and their
    not-ready seconds by reason within it."""
    spells = s.scalars(select(PresenceSpell).where(
        PresenceSpell.agent_id.in_(agent_ids), PresenceSpell.state == WRAP_UP,
        PresenceSpell.started_at >= start, PresenceSpell.started_at < end,
        PresenceSpell.ended_at.is_not(None)))
    wraps: dict[int, list[float]] = defaultdict(list)
    for spell in spells:
        if spell.ended_at is not None:
            wraps[spell.agent_id].append((spell.ended_at - spell.started_at).total_seconds())
    return {agent_id: (_mean(wraps.get(agent_id, [])),
                       not_ready.seconds_by_reason(s, start, end, [agent_id]))
            for agent_id in agent_ids}


def _agent_legs(calls: list[Interaction]) -> dict[int, list[Leg]]:
    legs: dict[int, list[Leg]] = defaultdict(list)
    for call in calls:
        for leg in call.legs:
            if leg.agent_id is not None:
                legs[leg.agent_id].append(leg)
    return legs


def _talk_seconds(leg: Leg) -> float | None:
    if leg.answered_at is None or leg.ended_at is None:
        return None
    return (leg.ended_at - leg.answered_at).total_seconds()


def _not_ready_in(s: Session, start: datetime, end: datetime,
                  queues: list[Queue] | None) -> set[int]:
    """The agents who were not ready at some time between `start` and `end`; with
    `queues`, only those who serve one of them (agent_queues: the queues an agent serves,
    as they are now)."""
    query = select(PresenceSpell.agent_id).where(
        PresenceSpell.state == NOT_READY, PresenceSpell.started_at < end,
        or_(PresenceSpell.ended_at.is_(None), PresenceSpell.ended_at > start))
    if queues is not None:
        query = query.join(AgentQueue, AgentQueue.agent_id == PresenceSpell.agent_id).where(
            AgentQueue.queue_id.in_([q.id for q in queues]))
    return set(s.scalars(query))


def agent_figures(s: Session, first: date, last: date, queue: str | None = None,
                  zone: str = "UTC") -> list[AgentFigures]:
    """Per agent, by name: handled, AHT, missed offers, transfers started and survey, over
    the calls offered on the local days `first` to `last` (one queue, or every queue), and
    their mean wrap-up and not-ready time by reason over those days (in the queue's zone,
    or `zone` for every queue). Agents who only took breaks are listed too: in every
    queue's report anyone not ready in the range, in one queue's report those of them who
    serve that queue."""
    queues = _queues(s, queue)
    tz = ZoneInfo(queues[0].time_zone if queue is not None and queues else zone)
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tz)
    calls = _offered_calls(s, queues, first, last) if queues else []
    legs = _agent_legs(calls)
    ids = [c.id for c in calls]
    started: defaultdict[int, int] = defaultdict(int)
    if ids:
        for agent_id in s.scalars(select(Transfer.from_agent_id).where(
                Transfer.interaction_id.in_(ids))):
            started[agent_id] += 1
    present = _not_ready_in(s, start, end, queues if queue is not None else None)
    names = {a.id: a.name for a in s.scalars(select(Agent).where(
        Agent.id.in_(set(legs) | set(started) | present)))}
    surveys = {a.agent: a for a in survey_by_agent(s, first, queue, last)}
    spent = _time_spent(s, list(names), start, end)
    out = []
    for agent_id, name in sorted(names.items(), key=lambda pair: pair[1]):
        mine = legs.get(agent_id, [])
        talked = [t for t in (_talk_seconds(leg) for leg in mine) if t is not None]
        survey = surveys.get(name)
        out.append(AgentFigures(
            name, sum(leg.answered_at is not None for leg in mine), _mean(talked),
            sum(leg.status in MISSED_LEGS for leg in mine), started[agent_id],
            survey.surveyed if survey else 0, survey.solved_percent if survey else None,
            survey.mean_rating if survey else None, *spent[agent_id]))
    return out


AGENT_CSV_COLUMNS = ("agent", "handled", "aht_seconds", "wrap_up_seconds", "missed_offers",
                     "transfers", "surveyed", "solved_percent", "mean_rating")


def agents_csv(rows: list[AgentFigures]) -> str:
    """Per-agent figures as CSV, one row per agent, a not-ready column per reason seen."""
    reasons = sorted({reason for r in rows for reason in r.not_ready_seconds})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*AGENT_CSV_COLUMNS, *(f"not_ready_seconds:{r}" for r in reasons)])
    for r in rows:
        writer.writerow([r.agent] + [_cell(x) for x in (
            r.handled, r.aht_seconds, r.wrap_up_seconds, r.missed_offers, r.transfers,
            r.surveyed, r.solved_percent, r.mean_rating)]
            + [_cell(r.not_ready_seconds.get(reason, 0.0)) for reason in reasons])
    return out.getvalue()

"""What a simulated day amounted to, read back from the database: calls, answered,
abandoned, service level, speed of answer, agent utilisation, and how far the wait
announced to each caller was from the wait they actually had. As text and as a chart.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from rq.job import Job
from sqlalchemy import select

from entrypoints.runtime import Runtime
from models.callbacks import (
    CANCELLED,
    COMPLETED,
    OPEN_STATUSES,
    UNREACHABLE,
    Callback,
    CallbackAttempt,
)
from models.entities import ABANDONED, Agent, Assignment, Interaction, Leg
from queueing import keys
from simulator.scenario import Scenario
from simulator.strict import StrictFigures

# Service level: share of callers answered within this many seconds.
SL_TARGET_SECONDS = 20.0
CLOSED_OUTCOME, ABANDONED_OUTCOME = "closed", "abandoned"
# Above this much stack latency per hand-off (virtual seconds), the report warns.
LATENCY_WARNING_SECONDS = 10.0


@dataclass(frozen=True)
class CallRecord:
    """One inbound call as the database recorded it."""

    created: float
    status: str
    outcome: str
    answered: bool
    wait: float | None
    announced: float | None


@dataclass(frozen=True)
class IntervalFigures:
    """One interval of the day: its local start and what happened to its callers."""

    label: str
    calls: int
    answered: int
    abandoned: int
    service_level: float | None


@dataclass(frozen=True)
class CallbackFigures:
    """What became of the callbacks booked during the day. An open callback is tracked
    when it waits in its line, is being placed, or has its retry scheduled; an open one
    tracked nowhere is lost: nothing would ever call that customer back."""

    booked: int = 0
    completed: int = 0
    unreachable: int = 0
    cancelled: int = 0
    open_tracked: int = 0
    lost: int = 0


@dataclass(frozen=True)
class PromiseFigures:
    """How completed callbacks' first rings compared with what their customers were told at
    booking (the callback row's `promised_from`–`promised_by`): rung inside it, earlier, or
    later, and by how much the late ones were late (seconds past `promised_by`)."""

    rung: int = 0
    inside: int = 0
    early: int = 0
    late: tuple[float, ...] = ()

    @property
    def inside_share(self) -> float | None:
        """Share of the rung callbacks that rang inside what was said."""
        return self.inside / self.rung if self.rung else None

    @property
    def late_median(self) -> float | None:
        """How late the median late callback rang (seconds)."""
        return statistics.median(self.late) if self.late else None

    @property
    def late_p90(self) -> float | None:
        """How late the late callbacks rang, 90th percentile (nearest rank, seconds)."""
        if not self.late:
            return None
        ordered = sorted(self.late)
        return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]

    @property
    def late_most(self) -> float | None:
        """The latest of the late callbacks (seconds past what was said)."""
        return max(self.late) if self.late else None


Promised = tuple[datetime, datetime, datetime]
"""A callback's promise (earliest, latest) and the moment its customer's phone first rang."""


def promise_figures_of(promised: list[Promised]) -> PromiseFigures:
    """Count the rings inside, before and after what was said."""
    inside = early = 0
    late: list[float] = []
    for said_from, said_by, rang in promised:
        if rang < said_from:
            early += 1
        elif rang > said_by:
            late.append((rang - said_by).total_seconds())
        else:
            inside += 1
    return PromiseFigures(len(promised), inside, early, tuple(late))


def promise_figures(rt: Runtime, rang: dict[str, datetime]) -> PromiseFigures:
    """Completed callbacks: what their row says was promised against when the customer's phone
    first rang (`rang`: call sid to the moment the stand-in rang that phone)."""
    promised = []
    with rt.db.session() as s:
        found = s.scalars(select(Callback).where(Callback.status == COMPLETED,
                                                 Callback.promised_from.is_not(None)))
        for callback in found:
            rings = [rang[t.call_sid] for t in callback.tries if t.call_sid in rang]
            if rings and callback.promised_from is not None and callback.promised_by is not None:
                promised.append((callback.promised_from, callback.promised_by, min(rings)))
    return promise_figures_of(promised)


@dataclass(frozen=True)
class TextFigures:
    """The day's texts as Twilio saw them: customers who had opted out (STOP) before the
    day, texts created, and texts the app tried to send to an opted-out customer (created,
    or refused by Twilio with 21610): the last must be 0."""

    opted_out: int = 0
    sent: int = 0
    to_opted_out: int = 0


@dataclass
class DayReport:
    """The day's figures (seconds are virtual seconds)."""

    scenario: str
    speed: float
    real_seconds: float
    records: list[CallRecord]
    intervals: list[IntervalFigures]
    utilisation: dict[str, float] = field(default_factory=dict)
    handoffs: list[float] = field(default_factory=list)
    """Per answered call: seconds from the pairing with an agent to the agent answering
    (the agent's ring plus the stack's own latency, which a faster clock magnifies)."""
    ring_seconds: float = 0.0
    """How long virtual agents let the phone ring before answering."""
    planned: int = 0
    """Calls the scenario placed (each should be recorded as an interaction)."""
    app_errors: int = 0
    """Calls on which the app answered a webhook with an error or unusable TwiML (what the
    caller or agent heard as Twilio's application error)."""
    refused_reports: int = 0
    """Status callbacks the app refused (Twilio does not retry them; the sweeper then asks
    Twilio how the call ended): expected only while a store was down."""
    callbacks: CallbackFigures = field(default_factory=CallbackFigures)
    promises: PromiseFigures = field(default_factory=PromiseFigures)
    texts: TextFigures = field(default_factory=lambda: TextFigures())
    strict: StrictFigures = field(default_factory=StrictFigures)

    @property
    def stack_latency(self) -> float | None:
        """Mean seconds of each hand-off that are the stack's own latency, not the ring."""
        return None if not self.handoffs else statistics.fmean(self.handoffs) - self.ring_seconds

    @property
    def calls(self) -> int:
        """Inbound calls recorded."""
        return len(self.records)

    @property
    def answered(self) -> list[CallRecord]:
        """Calls an agent answered."""
        return [r for r in self.records if r.answered]

    @property
    def abandoned(self) -> list[CallRecord]:
        """Callers who hung up while waiting in line (or while being offered)."""
        return [r for r in self.records if r.status == ABANDONED and r.outcome == ABANDONED_OUTCOME]

    @property
    def left_in_menu(self) -> int:
        """Callers who hung up before joining a line."""
        return sum(1 for r in self.records
                   if r.status == ABANDONED and r.outcome != ABANDONED_OUTCOME)

    @property
    def closed(self) -> int:
        """Callers told the line was closed."""
        return sum(1 for r in self.records if r.outcome == CLOSED_OUTCOME)

    @property
    def service_level(self) -> float | None:
        """Answered within the target over answered plus abandoned in line (None: no one)."""
        return service_level(self.answered, self.abandoned)

    @property
    def asa(self) -> float | None:
        """Average speed of answer: mean wait of answered callers."""
        waits = [r.wait for r in self.answered if r.wait is not None]
        return statistics.fmean(waits) if waits else None

    @property
    def longest_wait(self) -> float | None:
        """The longest wait of an answered caller."""
        waits = [r.wait for r in self.answered if r.wait is not None]
        return max(waits) if waits else None

    @property
    def wait_errors(self) -> list[float]:
        """Announced minus actual wait of every answered caller (positive: we over-announced)."""
        return [r.announced - r.wait for r in self.answered
                if r.announced is not None and r.wait is not None]

    @property
    def mean_utilisation(self) -> float | None:
        """Utilisation over all agents (mean of theirs)."""
        return statistics.fmean(self.utilisation.values()) if self.utilisation else None


def service_level(answered: list[CallRecord], abandoned: list[CallRecord]) -> float | None:
    """Share answered within SL_TARGET_SECONDS of answered plus abandoned (None: no one)."""
    offered = len(answered) + len(abandoned)
    if not offered:
        return None
    quick = sum(1 for r in answered if r.wait is not None and r.wait <= SL_TARGET_SECONDS)
    return quick / offered


def load_records(rt: Runtime) -> list[CallRecord]:
    """Every inbound call of the database, oldest first."""
    with rt.db.session() as s:
        rows = s.scalars(select(Interaction).where(Interaction.kind == "inbound")
                         .order_by(Interaction.id))
        return [CallRecord(r.created_at.timestamp(), r.status, r.outcome,
                           r.answered_at is not None, r.wait_seconds, r.announced_wait)
                for r in rows]


def handoff_times(rt: Runtime) -> list[float]:
    """Seconds from each answered pairing to the agent's answer."""
    with rt.db.session() as s:
        rows = s.execute(select(Assignment.created_at, Interaction.answered_at)
                         .join(Interaction, Interaction.id == Assignment.interaction_id)
                         .where(Assignment.outcome == "answered",
                                Interaction.answered_at.is_not(None)))
        return [(answered - paired).total_seconds() for paired, answered in rows
                if answered is not None]


def agent_utilisation(rt: Runtime, scenario: Scenario, until: float) -> dict[str, float]:
    """Per agent: time offered, talking or wrapping up within their shifts over the time
    of those shifts, up to `until` virtual seconds after the start."""
    start = scenario.start.timestamp()
    spans: dict[str, list[tuple[float, float]]] = {}
    with rt.db.session() as s:
        names = {a.id: a.username for a in s.scalars(select(Agent))}
        for leg in s.scalars(select(Leg).where(Leg.agent_id.is_not(None))):
            finished = leg.ended_at.timestamp() - start if leg.ended_at else until
            wrap = scenario.wrap_up_seconds if leg.answered_at is not None else 0.0
            spans.setdefault(names[leg.agent_id or 0], []).append(
                (leg.started_at.timestamp() - start, finished + wrap))
    result = {}
    for agent in scenario.agents:
        shifts = [(max(b, 0.0), min(e, until)) for b, e in agent.shifts if b < until]
        staffed = sum(max(0.0, e - b) for b, e in shifts)
        busy = sum(_overlap(span, shift) for span in spans.get(agent.username, [])
                   for shift in shifts)
        result[agent.username] = busy / staffed if staffed else 0.0
    return result


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def intervals(records: list[CallRecord], scenario: Scenario) -> list[IntervalFigures]:
    """The day's figures per scenario interval (by the moment each call came in)."""
    start = scenario.start.timestamp()
    rows = []
    for index in range(len(scenario.arrivals)):
        begin = start + index * scenario.interval_seconds
        mine = [r for r in records if begin <= r.created < begin + scenario.interval_seconds]
        answered = [r for r in mine if r.answered]
        abandoned = [r for r in mine if r.status == ABANDONED and r.outcome == ABANDONED_OUTCOME]
        label = f"{datetime.fromtimestamp(begin, scenario.zone):%H:%M}"
        rows.append(IntervalFigures(label, len(mine), len(answered), len(abandoned),
                                    service_level(answered, abandoned)))
    return rows


def callback_figures(rt: Runtime) -> CallbackFigures:
    """The day's callbacks by final state, and how many open ones are tracked or lost."""
    with rt.db.session() as s:
        found = list(s.scalars(select(Callback)))
        under_way = set(s.scalars(select(CallbackAttempt.callback_id).where(
            CallbackAttempt.outcome == "")))
        offered = set(s.scalars(select(Assignment.entry).where(Assignment.ended_at.is_(None))))
        explained = set(s.scalars(select(CallbackAttempt.callback_id).where(
            CallbackAttempt.outcome != "")))
        still_open = [(c.id, c.queue.slug, c.next_attempt_at) for c in found
                      if c.status in OPEN_STATUSES]
        statuses = [c.status for c in found]
    tracked = sum(1 for c in still_open if c[0] in under_way or f"cb:{c[0]}" in offered
                  or _waiting_or_scheduled(rt, *c))
    unexplained = sum(1 for c in found if c.status == UNREACHABLE and c.id not in explained)
    return CallbackFigures(len(statuses), statuses.count(COMPLETED), statuses.count(UNREACHABLE),
                           statuses.count(CANCELLED), tracked,
                           len(still_open) - tracked + unexplained)


def _waiting_or_scheduled(rt: Runtime, callback_id: int, queue: str,
                          next_attempt: datetime | None) -> bool:
    if rt.live.zscore(keys.line(queue), f"cb:{callback_id}") is not None:
        return True
    return next_attempt is not None and Job.exists(
        f"cb-due-{callback_id}-{int(next_attempt.timestamp())}", connection=rt.jobs_redis)


def build(rt: Runtime, scenario: Scenario, speed: float, real_seconds: float,
          until: float, ring_seconds: float = 0.0) -> DayReport:
    """The report of the day just simulated on `rt`'s database."""
    records = load_records(rt)
    return DayReport(scenario.name, speed, real_seconds, records, intervals(records, scenario),
                     agent_utilisation(rt, scenario, until), handoff_times(rt), ring_seconds,
                     callbacks=callback_figures(rt))


@dataclass(frozen=True)
class ErrorSummary:
    """The distribution of announced-minus-actual waits (seconds)."""

    count: int
    mean: float
    mean_absolute: float
    median: float
    p10: float
    p90: float
    within_one_minute: float


def summarise_errors(errors: list[float]) -> ErrorSummary | None:
    """Bias, spread and share within ±60 s of the wait errors (None without any)."""
    if not errors:
        return None
    ordered = sorted(errors)
    deciles = statistics.quantiles(ordered, n=10) if len(ordered) > 1 else [ordered[0]] * 9
    return ErrorSummary(len(ordered), statistics.fmean(ordered),
                        statistics.fmean(abs(e) for e in ordered), statistics.median(ordered),
                        deciles[0], deciles[-1],
                        sum(1 for e in ordered if abs(e) <= 60) / len(ordered))


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def render_text(report: DayReport, speed_note: str = "") -> str:
    """The report as plain text; a warning first when the stack's latency distorted it."""
    lines = [
        f"Simulated day: {report.scenario} (speed x{report.speed:g}, "
        f"{report.real_seconds:.0f} s of real time)",
    ]
    if speed_note:
        lines.append(f"speed x{report.speed:g} {speed_note}")
    latency = report.stack_latency
    if latency is not None and latency > LATENCY_WARNING_SECONDS:
        keep = max(1.0, report.speed * LATENCY_WARNING_SECONDS / latency)
        lines += [f"WARNING: at x{report.speed:g} this machine's own latency added about "
                  f"{latency:.0f} s to every answered wait (a real second is "
                  f"{report.speed:g} here), so the waits, service level and estimate errors "
                  f"below are distorted; run again with --speed {keep:.0f} or lower."]
    lines += [
        "",
        f"calls                  {report.calls} (placed {report.planned}; "
        f"{report.app_errors} hit an application error; "
        f"{report.refused_reports} status report(s) refused)",
        f"answered               {len(report.answered)}",
        f"abandoned in line      {len(report.abandoned)}",
        f"hung up before a line  {report.left_in_menu}",
        f"told we are closed     {report.closed}",
        f"service level          {_pct(report.service_level)} answered within "
        f"{SL_TARGET_SECONDS:.0f} s (of answered + abandoned in line)",
        f"ASA                    {_secs(report.asa)} (longest {_secs(report.longest_wait)})",
        f"agent utilisation      {_pct(report.mean_utilisation)} (offered + talking + "
        "wrap-up over signed-in time)",
        f"offer to answer        {_secs(_mean(report.handoffs))} on average (the agent's "
        "ring plus the stack's latency, part of every answered wait)",
    ]
    lines += _error_lines(summarise_errors(report.wait_errors))
    lines += _callback_lines(report.callbacks)
    lines += _promise_lines(report.promises)
    lines += _strict_lines(report.strict)
    lines += [f"texts                  {report.texts.sent} sent; "
              f"{report.texts.to_opted_out} tried to the {report.texts.opted_out} "
              "customer(s) who had opted out (STOP)"]
    lines += ["", "interval  calls  answered  abandoned  service level"]
    lines += [f"{i.label:>8}  {i.calls:>5}  {i.answered:>8}  {i.abandoned:>9}  "
              f"{_pct(i.service_level):>13}" for i in report.intervals]
    lines += ["", "agent utilisation"]
    lines += [f"  {name:<12} {_pct(u)}" for name, u in sorted(report.utilisation.items())]
    return "\n".join(lines) + "\n"


def _callback_lines(figures: CallbackFigures) -> list[str]:
    return [
        f"callbacks booked       {figures.booked} (completed {figures.completed}, "
        f"unreachable {figures.unreachable}, cancelled {figures.cancelled}, "
        f"still open and tracked {figures.open_tracked})",
        f"lost callbacks         {figures.lost} (open, but in no line, placing or schedule)",
    ]


def _promise_lines(figures: PromiseFigures) -> list[str]:
    return [
        f"callback promises      {figures.rung} completed callback(s) rung: "
        f"{_pct(figures.inside_share)} inside what the customer was told, {figures.early} "
        f"earlier, {len(figures.late)} later (late by median {_secs(figures.late_median)}, "
        f"90th percentile {_secs(figures.late_p90)}, most {_secs(figures.late_most)})",
    ]


def _strict_lines(figures: StrictFigures) -> list[str]:
    return [
        f"callers stranded       {figures.stranded} (ended unanswered with no reason, or left "
        "in a line)",
        f"answered twice         {figures.answered_twice} (entries answered by two agents; "
        f"{figures.open_offers} offer(s) left open; {figures.dials_twice} dial(s) placed "
        "twice)",
        f"bridged to a machine   {figures.customers_bridged_to_machine} customer(s) of the "
        f"{figures.customers_machines} callback(s) a voicemail or fax answered; "
        f"{figures.voicemails_bridged} caller(s) of the {figures.agent_voicemails} agent "
        "call(s) their voicemail answered",
        f"Twilio's faults        {figures.refused_dials} dial(s) refused; {figures.cps_queued} "
        "call(s) queued by the calls-per-second limit",
    ]


def _error_lines(summary: ErrorSummary | None) -> list[str]:
    if summary is None:
        return ["wait announced vs actual: no answered caller had an announcement"]
    return [
        f"wait announced - actual, over {summary.count} answered callers:",
        f"  mean {summary.mean:+.0f} s, mean absolute {summary.mean_absolute:.0f} s, "
        f"median {summary.median:+.0f} s, 10th..90th percentile "
        f"{summary.p10:+.0f}..{summary.p90:+.0f} s, within a minute "
        f"{_pct(summary.within_one_minute)}",
    ]


def draw_chart(report: DayReport, path: Path) -> None:
    """A PNG: calls per interval, service level, announced vs actual wait, utilisation."""
    fig = Figure(figsize=(13, 9))
    axes = fig.subplots(2, 2)
    fig.suptitle(f"{report.scenario}: {report.calls} calls, {len(report.answered)} answered, "
                 f"{len(report.abandoned)} abandoned, SL {_pct(report.service_level)}, "
                 f"ASA {_secs(report.asa)}")
    _plot_intervals(axes[0][0], report)
    _plot_announced(axes[0][1], report)
    _plot_errors(axes[1][0], report)
    _plot_utilisation(axes[1][1], report)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _plot_intervals(ax: Axes, report: DayReport) -> None:
    labels = [i.label for i in report.intervals]
    xs = range(len(labels))
    ax.bar(xs, [i.answered for i in report.intervals], label="answered")
    ax.bar(xs, [i.abandoned for i in report.intervals],
           bottom=[i.answered for i in report.intervals], label="abandoned")
    ax.set_xticks(list(xs), labels, rotation=45)
    ax.set_ylabel("calls")
    ax.set_title("Calls per interval")
    ax.legend(loc="upper left")
    twin = ax.twinx()
    twin.plot(list(xs), [100 * (i.service_level or 0) for i in report.intervals], "k.-",
              label="service level")
    twin.set_ylim(0, 105)
    twin.set_ylabel(f"% answered within {SL_TARGET_SECONDS:.0f} s")


def _plot_announced(ax: Axes, report: DayReport) -> None:
    pairs = [(r.announced, r.wait) for r in report.answered
             if r.announced is not None and r.wait is not None]
    if pairs:
        announced, actual = zip(*pairs, strict=True)
        ax.scatter(announced, actual, s=8, alpha=0.6)
        top = max(max(announced), max(actual), 1.0)
        ax.plot([0, top], [0, top], "k--", linewidth=1, label="announced = actual")
        ax.legend(loc="upper left")
    ax.set_xlabel("announced wait (s)")
    ax.set_ylabel("actual wait (s)")
    ax.set_title("Announced vs actual wait (answered callers)")


def _plot_errors(ax: Axes, report: DayReport) -> None:
    errors = report.wait_errors
    if errors:
        ax.hist(errors, bins=30)
        ax.axvline(0, color="k", linewidth=1)
    ax.set_xlabel("announced - actual (s): right of 0 = told longer than it took")
    ax.set_ylabel("callers")
    ax.set_title("Wait estimate error")


def _plot_utilisation(ax: Axes, report: DayReport) -> None:
    names = sorted(report.utilisation)
    ax.barh(names, [100 * report.utilisation[n] for n in names])
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of signed-in time offered, talking or wrapping up")
    ax.set_title("Agent utilisation")


def write(report: DayReport, folder: Path) -> tuple[Path, Path]:
    """Write report.txt and report.png into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    text, chart = folder / "report.txt", folder / "report.png"
    text.write_text(render_text(report))
    draw_chart(report, chart)
    return text, chart

"""Wait-estimate benchmark: announced versus actual wait in a simulated queue.

A discrete-event simulation of one FIFO queue with c agents (exponential or lognormal
handle times, Poisson arrivals whose rate changes over a cycle, staffing that changes
over a cycle, callers whose exponential patience makes them hang up). Every caller who
finds all agents busy is told a wait by three predictors, each from what it may observe
at that moment; the wait actually lived is compared when the caller is answered. Callers
who hang up are excluded from the errors and counted apart.

    python -m bench.ewt [--seed N] [--callers N] [--out docs/wait-estimates.md]
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import math
import random
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ivr import wording
from queueing.estimate import (
    HIGH_QUANTILE,
    LOW_QUANTILE,
    QueueStats,
    WaitEstimate,
    estimate_wait,
    fold_handle_time,
    gamma_quantile,
)

DESCRIPTION = "Wait-estimate benchmark: announced versus actual wait in a simulated queue."
DEFAULT_SEED = 2024
DEFAULT_CALLERS = 60_000
HOUR = 3600.0
# What the live system keeps per queue (the windows the app fills QueueStats from).
HANDLE_WINDOW = 50
WAIT_WINDOW = 50
OUTCOME_WINDOW = 200
# Asterisk's announced hold time: new = (3·old + sample) / 4 on every answered call.
ASTERISK_KEEP = 0.75
# "Close enough" for a caller: within this many seconds or this share of what was told.
CLOSE_SECONDS = 30.0
CLOSE_SHARE = 0.25
PREDICTORS = ("holdless", "moving average", "ideal")
FIGURES_START = "<!-- figures:start (written by python -m bench.ewt --out) -->"
FIGURES_END = "<!-- figures:end -->"

ARRIVAL, DEPARTURE, GIVE_UP, RESTAFF = range(4)


@dataclass(frozen=True)
class HandleTimes:
    """Handle-time law of a scenario: 'exponential' or 'lognormal' with a mean and CV."""

    kind: str
    mean: float
    cv: float = 1.0

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        """A function drawing one handle time (seconds)."""
        if self.kind == "exponential":
            rate = 1.0 / self.mean
            return lambda: rng.expovariate(rate)
        sigma = math.sqrt(math.log(1.0 + self.cv**2))
        mu = math.log(self.mean) - sigma**2 / 2.0
        return lambda: rng.lognormvariate(mu, sigma)

    def describe(self) -> str:
        """Short human description."""
        if self.kind == "exponential":
            return f"exponential, mean {self.mean:.0f} s"
        return f"lognormal, mean {self.mean:.0f} s, CV {self.cv:g}"


@dataclass(frozen=True)
class Scenario:
    """One benchmark queue: schedules repeat every `cycle` seconds."""

    name: str
    summary: str
    cycle: float
    staffing: tuple[tuple[float, int], ...]
    """(offset in the cycle in seconds, agents scheduled from then on), first at 0."""
    arrivals_per_hour: tuple[tuple[float, float], ...]
    """(offset in the cycle in seconds, arrival rate per hour from then on), first at 0."""
    handle: HandleTimes
    patience_mean: float | None
    """Mean of the callers' exponential patience (seconds); None: nobody hangs up."""
    warmup: float = 2 * HOUR


SCENARIOS = (
    Scenario(
        "steady", "20 agents, rho = 0.95, nobody hangs up", 24 * HOUR,
        ((0.0, 20),), ((0.0, 0.95 * 20 * HOUR / 240.0),),
        HandleTimes("exponential", 240.0), None,
    ),
    Scenario(
        "peak", "20 agents, rho = 0.8, arrivals double for one hour in every ten", 10 * HOUR,
        ((0.0, 20),), ((0.0, 240.0), (3 * HOUR, 480.0), (4 * HOUR, 240.0)),
        HandleTimes("exponential", 240.0), 1800.0,
    ),
    Scenario(
        "staffing", "22 agents, 8 leave for 2 h, 4 extra join for 2 h, in 8 h cycles", 8 * HOUR,
        ((0.0, 22), (2 * HOUR, 14), (4 * HOUR, 26), (6 * HOUR, 22)),
        ((0.0, 0.92 * 20 * HOUR / 270.0),),
        HandleTimes("lognormal", 270.0, 0.8), 1200.0,
    ),
    Scenario(
        "impatient", "10 agents, offered load 1.05, mean patience 3 min", 24 * HOUR,
        ((0.0, 10),), ((0.0, 1.05 * 10 * HOUR / 180.0),),
        HandleTimes("lognormal", 180.0, 0.7), 180.0,
    ),
)


def scheduled(schedule: Sequence[tuple[float, float]], cycle: float, moment: float) -> float:
    """The value a cyclic (offset, value) schedule holds at `moment`."""
    offsets = [offset for offset, _ in schedule]
    return schedule[bisect.bisect_right(offsets, moment % cycle) - 1][1]


@dataclass
class Tally:
    """Running error figures of one predictor."""

    count: int = 0
    squared: float = 0.0
    absolute: float = 0.0
    close: int = 0
    inside: int = 0
    said: int = 0

    def add(self, told: WaitEstimate, actual: float) -> None:
        """Count one answered caller who was told `told` and waited `actual`."""
        error = actual - told.seconds
        self.count += 1
        self.squared += error * error
        self.absolute += abs(error)
        self.close += abs(error) <= max(CLOSE_SECONDS, CLOSE_SHARE * told.seconds)
        self.inside += told.low <= actual <= told.high
        said_low, said_high = wording.said_bounds(wording.wait_phrase(told))
        self.said += said_low <= actual <= said_high

    def figures(self) -> dict[str, float]:
        """RMSE and MAE (s), share close, share inside the range."""
        n = max(self.count, 1)
        return {
            "rmse": math.sqrt(self.squared / n),
            "mae": self.absolute / n,
            "close": self.close / n,
            "inside": self.inside / n,
            "said": self.said / n,
        }


class Observed:
    """What the live system records about the queue: the only input Holdless gets."""

    def __init__(self) -> None:
        self.handle_times: deque[float] = deque(maxlen=HANDLE_WINDOW)
        self.handle_average: float | None = None
        self.handle_calls = 0
        self.waits: deque[float] = deque(maxlen=WAIT_WINDOW)
        self.abandon_waits: deque[float] = deque(maxlen=WAIT_WINDOW)
        self.outcomes: deque[bool] = deque(maxlen=OUTCOME_WINDOW)

    def finished_call(self, handle: float) -> None:
        """An agent ended wrap-up after a call that lasted `handle` seconds."""
        self.handle_times.append(handle)
        self.handle_average, self.handle_calls = fold_handle_time(
            self.handle_average, self.handle_calls, handle
        )

    def answered(self, wait: float) -> None:
        """A caller was answered after `wait` seconds."""
        self.waits.append(wait)
        self.outcomes.append(False)

    def gave_up(self, wait: float) -> None:
        """A caller hung up after `wait` seconds in line."""
        self.abandon_waits.append(wait)
        self.outcomes.append(True)

    def stats(self, signed_in: int, free: int) -> QueueStats:
        """The QueueStats the app would build right now."""
        outcomes = self.outcomes
        return QueueStats(
            agents_serving=signed_in,
            agents_available=free,
            handle_times=tuple(self.handle_times),
            abandon_rate=sum(outcomes) / len(outcomes) if outcomes else 0.0,
            recent_waits=tuple(self.waits),
            handle_time_average=self.handle_average,
            handle_time_calls=self.handle_calls,
            recent_abandon_waits=tuple(self.abandon_waits),
        )


class MovingAverage:
    """Asterisk's announced hold time; the range is the 10th-90th percentile of recent
    answered waits (Asterisk announces none; this is the fairest range it could give)."""

    def __init__(self) -> None:
        self.value = 0.0
        self.waits: deque[float] = deque(maxlen=WAIT_WINDOW)

    def answered(self, wait: float) -> None:
        """Fold one answered caller's wait in."""
        self.value = ASTERISK_KEEP * self.value + (1.0 - ASTERISK_KEEP) * wait
        self.waits.append(wait)

    def predict(self) -> WaitEstimate:
        """The same figure for everyone in line."""
        if len(self.waits) < 2:
            return WaitEstimate(self.value, self.value, self.value)
        cuts = statistics.quantiles(self.waits, n=10)
        return WaitEstimate(self.value, min(cuts[0], self.value), max(cuts[-1], self.value))


def ideal_estimate(position: int, agents: int, mean_handle: float) -> WaitEstimate:
    """k·AHT/c with the true AHT and staffing; range from the Erlang law of the k-th
    departure (exact for exponential service without abandonment)."""
    rate = agents / mean_handle
    mean, variance = position / rate, position / rate**2
    return WaitEstimate(
        mean,
        gamma_quantile(mean, variance, LOW_QUANTILE),
        gamma_quantile(mean, variance, HIGH_QUANTILE),
    )


@dataclass
class Result:
    """What one scenario run produced."""

    scenario: Scenario
    callers: int = 0
    measured: int = 0
    queued: int = 0
    abandoned: int = 0
    waits: list[float] = field(default_factory=list)
    tallies: dict[str, Tally] = field(default_factory=lambda: {p: Tally() for p in PREDICTORS})


class Simulation:
    """One scenario's queue, run event by event."""

    def __init__(self, scenario: Scenario, callers: int, seed: int) -> None:
        self.scenario = scenario
        self.rng = random.Random(f"{seed}:{scenario.name}")
        self.draw_handle = scenario.handle.sampler(self.rng)
        self.to_arrive = callers
        self.events: list[tuple[float, int, int, int]] = []
        self.sequence = 0
        self.free = self.busy = self.leaving = 0
        self.line: deque[int] = deque()
        self.waiting: dict[int, float] = {}
        self.told: dict[int, tuple[WaitEstimate, ...]] = {}
        self.handling: dict[int, float] = {}
        self.observed = Observed()
        self.average = MovingAverage()
        self.result = Result(scenario)

    def schedule(self, moment: float, kind: int, subject: int = 0) -> None:
        """Put an event on the calendar."""
        self.sequence += 1
        heapq.heappush(self.events, (moment, self.sequence, kind, subject))

    def run(self) -> Result:
        """Simulate until every caller has arrived and the line is empty."""
        self.schedule(0.0, RESTAFF, 0)
        self.schedule_arrival(0.0)
        handlers = (self.arrive, self.depart, self.give_up, self.restaff)
        while self.events and (self.to_arrive > 0 or self.waiting):
            moment, _, kind, subject = heapq.heappop(self.events)
            handlers[kind](moment, subject)
        return self.result

    def schedule_arrival(self, moment: float) -> None:
        """Draw the next arrival of the time-varying Poisson process (thinning)."""
        rates = self.scenario.arrivals_per_hour
        peak = max(rate for _, rate in rates) / HOUR
        while True:
            moment += self.rng.expovariate(peak)
            now_rate = scheduled(rates, self.scenario.cycle, moment) / HOUR
            if self.rng.random() * peak < now_rate:
                self.schedule(moment, ARRIVAL)
                return

    def restaff(self, moment: float, step: int) -> None:
        """Apply the `step`-th staffing change since the start; schedule the next one."""
        staffing = self.scenario.staffing
        self.set_agents(moment, staffing[step % len(staffing)][1])
        cycles, index = divmod(step + 1, len(staffing))
        self.schedule(cycles * self.scenario.cycle + staffing[index][0], RESTAFF, step + 1)

    def set_agents(self, moment: float, agents: int) -> None:
        """Sign agents in or out; a busy agent leaving signs out when the call ends."""
        change = agents - (self.free + self.busy - self.leaving)
        if change > 0:
            cancelled = min(change, self.leaving)
            self.leaving -= cancelled
            self.free += change - cancelled
            while self.free and self.waiting:
                self.free -= 1
                self.serve_next(moment)
        elif change < 0:
            out_now = min(-change, self.free)
            self.free -= out_now
            self.leaving += -change - out_now

    def arrive(self, moment: float, _: int) -> None:
        """A caller joins: answered at once, or told a wait and put in line."""
        self.to_arrive -= 1
        if self.to_arrive > 0:
            self.schedule_arrival(moment)
        caller = self.result.callers
        self.result.callers += 1
        if self.free:
            self.free -= 1
            self.start_call(moment, caller, moment)
            return
        if moment >= self.scenario.warmup:
            self.told[caller] = self.predictions(len(self.waiting) + 1, moment)
        self.waiting[caller] = moment
        self.line.append(caller)
        if self.scenario.patience_mean is not None:
            patience = self.rng.expovariate(1.0 / self.scenario.patience_mean)
            self.schedule(moment + patience, GIVE_UP, caller)

    def predictions(self, position: int, moment: float) -> tuple[WaitEstimate, ...]:
        """What each predictor tells the caller at `position` (all agents busy)."""
        stats = self.observed.stats(self.free + self.busy, self.free)
        true_agents = int(scheduled(self.scenario.staffing, self.scenario.cycle, moment))
        return (
            estimate_wait(position, stats),
            self.average.predict(),
            ideal_estimate(position, true_agents, self.scenario.handle.mean),
        )

    def start_call(self, moment: float, caller: int, joined: float) -> None:
        """An agent (already taken from the free pool) answers `caller`."""
        self.busy += 1
        wait = moment - joined
        self.observed.answered(wait)
        self.average.answered(wait)
        handle = self.draw_handle()
        self.handling[caller] = handle
        self.schedule(moment + handle, DEPARTURE, caller)
        told = self.told.pop(caller, None)
        if joined >= self.scenario.warmup:
            self.result.measured += 1
            if told is not None:
                self.result.queued += 1
                self.result.waits.append(wait)
                for name, estimate in zip(PREDICTORS, told, strict=True):
                    self.result.tallies[name].add(estimate, wait)

    def serve_next(self, moment: float) -> bool:
        """Hand the oldest caller still waiting to an agent; False if none waits."""
        while self.line:
            caller = self.line.popleft()
            joined = self.waiting.pop(caller, None)
            if joined is not None:
                self.start_call(moment, caller, joined)
                return True
        return False

    def depart(self, moment: float, caller: int) -> None:
        """An agent ends wrap-up after `caller`'s call and takes the next caller."""
        self.busy -= 1
        self.observed.finished_call(self.handling.pop(caller))
        if self.leaving:
            self.leaving -= 1
            return
        if not self.serve_next(moment):
            self.free += 1

    def give_up(self, moment: float, caller: int) -> None:
        """A caller's patience runs out; ignored if already answered."""
        joined = self.waiting.pop(caller, None)
        if joined is None:
            return
        self.told.pop(caller, None)
        self.observed.gave_up(moment - joined)
        if joined >= self.scenario.warmup:
            self.result.measured += 1
            self.result.abandoned += 1


def run_scenarios(
    callers: int, seed: int, scenarios: Sequence[Scenario] = SCENARIOS
) -> list[Result]:
    """Run every scenario with `callers` arrivals each."""
    return [Simulation(scenario, callers, seed).run() for scenario in scenarios]


def scenario_rows(results: Sequence[Result]) -> list[str]:
    """Markdown table of the scenarios as run."""
    rows = [
        "| scenario | what | handle times | patience | callers measured | queued & answered "
        "| abandoned | mean wait (queued) |",
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    for result in results:
        scenario = result.scenario
        patience = (
            "none"
            if scenario.patience_mean is None
            else f"exponential, mean {scenario.patience_mean:.0f} s"
        )
        mean_wait = statistics.fmean(result.waits) if result.waits else 0.0
        rows.append(
            f"| {scenario.name} | {scenario.summary} | {scenario.handle.describe()} | {patience} "
            f"| {result.measured} | {result.queued} "
            f"| {result.abandoned / max(result.measured, 1):.1%} | {mean_wait:.0f} s |"
        )
    return rows


def figure_rows(results: Sequence[Result]) -> list[str]:
    """Markdown table of every predictor's figures per scenario."""
    rows = [
        "| scenario | predictor | RMSE (s) | MAE (s) | within 30 s or 25% | inside [low, high] "
        "| inside what was said |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for name in PREDICTORS:
            figures = result.tallies[name].figures()
            rows.append(
                f"| {result.scenario.name} | {name} | {figures['rmse']:.1f} | {figures['mae']:.1f} "
                f"| {figures['close']:.1%} | {figures['inside']:.1%} | {figures['said']:.1%} |"
            )
    return rows


def verdict_rows(results: Sequence[Result]) -> list[str]:
    """The two targets: beat the moving average everywhere, near the ideal when steady."""
    rows = []
    for result in results:
        ours = result.tallies["holdless"].figures()["rmse"]
        average = result.tallies["moving average"].figures()["rmse"]
        ideal = result.tallies["ideal"].figures()["rmse"]
        rows.append(
            f"- {result.scenario.name}: Holdless RMSE is {ours / average:.0%} of the moving "
            f"average's and {ours / ideal:.0%} of the ideal predictor's."
        )
    return rows


def report(results: Sequence[Result], callers: int, seed: int) -> str:
    """The figures section of docs/wait-estimates.md."""
    command = f"python -m bench.ewt --seed {seed} --callers {callers}"
    lines = [
        f"Produced by `{command}` ({callers} arrivals per scenario, the first "
        "two hours of each run left out as warm-up).",
        "",
        *scenario_rows(results),
        "",
        *figure_rows(results),
        "",
        *verdict_rows(results),
    ]
    return "\n".join(lines) + "\n"


def write_figures(path: Path, figures: str) -> None:
    """Replace the figures section of `path` (between the markers), or create it."""
    block = f"{FIGURES_START}\n{figures}{FIGURES_END}"
    text = path.read_text() if path.exists() else f"# Wait estimates\n\n{FIGURES_END}\n"
    if FIGURES_START in text and FIGURES_END in text:
        head, rest = text.split(FIGURES_START, 1)
        tail = rest.split(FIGURES_END, 1)[1]
        text = head + block + tail
    else:
        text = text.replace(FIGURES_END, "").rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the scenarios, print the tables, optionally write the doc."""
    parser = argparse.ArgumentParser(prog="python -m bench.ewt", description=DESCRIPTION)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--callers", type=int, default=DEFAULT_CALLERS, help="arrivals per scenario"
    )
    parser.add_argument("--out", type=Path, help="markdown file whose figures section to refresh")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run_scenarios(args.callers, args.seed)
    from bench import promises  # it builds on this module's simulation

    figures = report(results, args.callers, args.seed) + promises.report(args.callers, args.seed)
    print(figures)
    print(f"({sum(r.callers for r in results)} callers in {time.perf_counter() - started:.1f} s)")
    if args.out is not None:
        write_figures(args.out, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Callback promises and first estimates of a day, in the wait-estimate bench's queue.

A callback "when it is your turn" keeps the caller's place in line: they leave the phone
and the line moves on without them giving up. They were told "we will call you back in
about N minutes" (`wording.callback_wait_phrase` of Holdless's estimate at their place);
their phone rings when an agent is paired with their entry, plus the time it takes to
ring the agent and then them. The bench compares the two.

The first estimates of a day are those told before any call was handled that day: with
the queue's recent days to start from (`ivr.in_line.prime_handle`), and without.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from bench.ewt import SCENARIOS, Scenario, Simulation
from ivr import wording
from queueing.estimate import WaitEstimate
from queueing.usual import PRIOR_HANDLE_WEIGHT

if TYPE_CHECKING:
    from collections.abc import Sequence

# Share of callers offered a callback who take it.
CALLBACK_SHARE = 0.3
# A callback is offered when the estimate exceeds this (a queue's default
# callback_threshold_seconds).
CALLBACK_OFFER_ABOVE_SECONDS = 120.0
# From the pairing with an agent to the customer's phone ringing: the agent's phone rung
# and answered first (agent-first), then the customer's call placed.
CALLBACK_DIAL_SECONDS = 15.0
# Days simulated for the first-estimate figures (each from an empty line, agents free).
FIRST_DAYS = 50
# The opening of a day: a quarter of the agents signed in, and twice the arrivals, for
# this long (seconds), then the scenario's first staffing and rate.
OPENING_SECONDS = 900.0
# Calls of the previous days the prior handle time is the mean of.
PRIOR_DAY_CALLS = 200


@dataclass
class PromiseTally:
    """How callbacks' rings compared with what their customers were told."""

    inside: int = 0
    early: int = 0
    late: list[float] = field(default_factory=list)

    def add(self, said: tuple[float, float], rang_after: float) -> None:
        """Count one callback told `said` (seconds from booking) that rang `rang_after`."""
        if rang_after < said[0]:
            self.early += 1
        elif rang_after > said[1]:
            self.late.append(rang_after - said[1])
        else:
            self.inside += 1

    @property
    def count(self) -> int:
        """Callbacks rung."""
        return self.inside + self.early + len(self.late)


class CallbackSimulation(Simulation):
    """The bench's queue where a share of callers offered a callback take it."""

    def __init__(self, scenario: Scenario, callers: int, seed: int) -> None:
        super().__init__(scenario, callers, seed)
        self.decide = random.Random(f"{seed}:{scenario.name}:callbacks")
        self.booked: dict[int, tuple[float, tuple[float, float]]] = {}
        self.promises = PromiseTally()

    def predictions(self, position: int, moment: float) -> tuple[WaitEstimate, ...]:
        """What the caller is told; they may take the callback offered with it."""
        told = super().predictions(position, moment)
        ours = told[0]
        if ours.known and ours.seconds > CALLBACK_OFFER_ABOVE_SECONDS and \
                self.decide.random() < CALLBACK_SHARE:
            said = wording.said_bounds(wording.callback_wait_phrase(ours))
            self.booked[self.result.callers - 1] = (moment, said)
        return told

    def give_up(self, moment: float, caller: int) -> None:
        """A callback customer is not on the line: they never hang up."""
        if caller not in self.booked:
            super().give_up(moment, caller)

    def start_call(self, moment: float, caller: int, joined: float) -> None:
        """An agent is paired; a callback customer's phone rings a little later."""
        booking = self.booked.pop(caller, None)
        if booking is not None:
            self.promises.add(booking[1], moment + CALLBACK_DIAL_SECONDS - booking[0])
        super().start_call(moment, caller, joined)


def opening(scenario: Scenario) -> Scenario:
    """The scenario's first hour as a day opens: a quarter of its agents and twice its
    arrivals for `OPENING_SECONDS`, counted from the start (no warm-up)."""
    agents, rate = scenario.staffing[0][1], scenario.arrivals_per_hour[0][1]
    return replace(scenario, warmup=0.0,
                   staffing=((0.0, max(1, agents // 4)), (OPENING_SECONDS, agents)),
                   arrivals_per_hour=((0.0, 2 * rate), (OPENING_SECONDS, rate)))


@dataclass
class FirstTally:
    """What the callers queued before a day's first handled call were told."""

    queued: int = 0
    no_estimate: int = 0
    inside: int = 0
    widths: list[float] = field(default_factory=list)


class FirstHourSimulation(Simulation):
    """A day's first hour from an empty line, with or without the recent days' prior."""

    def __init__(self, scenario: Scenario, seed: int, prior: bool, tally: FirstTally,
                 speak_guess: bool = False) -> None:
        first_hour = opening(scenario)
        callers = int(sum(rate for _, rate in first_hour.arrivals_per_hour[:2]) / 2)
        super().__init__(first_hour, callers, seed)
        self.tally, self.speak_guess = tally, speak_guess
        self.handled_any = False
        self.before_first: set[int] = set()
        if prior:
            history = random.Random(f"{seed}:{scenario.name}:history")
            draw = scenario.handle.sampler(history)
            self.observed.handle_average = statistics.fmean(
                draw() for _ in range(PRIOR_DAY_CALLS))
            self.observed.handle_calls = PRIOR_HANDLE_WEIGHT

    def predictions(self, position: int, moment: float) -> tuple[WaitEstimate, ...]:
        """What the caller is told; noted when no call of the day was handled yet."""
        if not self.handled_any:
            self.before_first.add(self.result.callers - 1)
        return super().predictions(position, moment)

    def depart(self, moment: float, caller: int) -> None:
        """A call of the day is handled."""
        self.handled_any = True
        super().depart(moment, caller)

    def start_call(self, moment: float, caller: int, joined: float) -> None:
        """Score what a caller told before the first handled call was told."""
        told = self.told.get(caller)
        if told is not None and caller in self.before_first:
            self.score(told[0], moment - joined)
        super().start_call(moment, caller, joined)

    def score(self, told: WaitEstimate, wait: float) -> None:
        """One queued caller answered after `wait`, told `told`."""
        self.tally.queued += 1
        if not told.known and not self.speak_guess:
            self.tally.no_estimate += 1
            return
        low, high = wording.said_bounds(wording.wait_phrase(told))
        self.tally.inside += low <= wait <= high
        self.tally.widths.append(high - low)


def callback_results(callers: int, seed: int,
                     scenarios: Sequence[Scenario] = SCENARIOS) -> list[PromiseTally]:
    """Each scenario run with callbacks taken: how their rings kept the promise."""
    return [_promises(s, callers, seed) for s in scenarios]


def _promises(scenario: Scenario, callers: int, seed: int) -> PromiseTally:
    simulation = CallbackSimulation(scenario, callers, seed)
    simulation.run()
    return simulation.promises


def first_results(seed: int, days: int = FIRST_DAYS,
                  scenarios: Sequence[Scenario] = SCENARIOS) -> list[dict[str, FirstTally]]:
    """Per scenario, the first hour of `days` days: from history, with none (what is said
    now), and with none as it was said before (a range from the 240 s guess)."""
    results = []
    for scenario in scenarios:
        variants = {"recent days": FirstTally(), "no history": FirstTally(),
                    "no history, before": FirstTally()}
        for day in range(days):
            day_seed = seed * 1000 + day
            FirstHourSimulation(scenario, day_seed, True, variants["recent days"]).run()
            FirstHourSimulation(scenario, day_seed, False, variants["no history"]).run()
            FirstHourSimulation(scenario, day_seed, False, variants["no history, before"],
                                speak_guess=True).run()
        results.append(variants)
    return results


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "–"


def promise_rows(scenarios: Sequence[Scenario], tallies: Sequence[PromiseTally]) -> list[str]:
    """Markdown table: callbacks rung inside what was said, early, late and how late."""
    rows = ["| scenario | callbacks rung | inside what was said | earlier | later "
            "| late by (median) | late by (90th percentile) | late by (most) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for scenario, tally in zip(scenarios, tallies, strict=True):
        late = sorted(tally.late)
        median = f"{statistics.median(late):.0f} s" if late else "–"
        p90 = f"{late[int(0.9 * (len(late) - 1))]:.0f} s" if late else "–"
        most = f"{late[-1]:.0f} s" if late else "–"
        rows.append(f"| {scenario.name} | {tally.count} | {_share(tally.inside, tally.count)} "
                    f"| {_share(tally.early, tally.count)} | {_share(len(late), tally.count)} "
                    f"| {median} | {p90} | {most} |")
    return rows


def first_rows(scenarios: Sequence[Scenario],
               results: Sequence[dict[str, FirstTally]]) -> list[str]:
    """Markdown table of the first hour's estimates per scenario and start."""
    rows = ["| scenario | start of the day | callers queued | told no estimate "
            "| inside what was said | width of what was said (mean) |",
            "|---|---|---:|---:|---:|---:|"]
    for scenario, variants in zip(scenarios, results, strict=True):
        for name, tally in variants.items():
            spoken = tally.queued - tally.no_estimate
            width = f"{statistics.fmean(tally.widths) / 60:.1f} min" if tally.widths else "–"
            rows.append(f"| {scenario.name} | {name} | {tally.queued} "
                        f"| {_share(tally.no_estimate, tally.queued)} "
                        f"| {_share(tally.inside, spoken)} | {width} |")
    return rows


def report(callers: int, seed: int, scenarios: Sequence[Scenario] = SCENARIOS) -> str:
    """The callback-promise and first-estimate figures (markdown)."""
    promises = callback_results(callers, seed, scenarios)
    first = first_results(seed, scenarios=scenarios)
    return "\n".join([
        "", "### Callback promises", "",
        f"{CALLBACK_SHARE:.0%} of callers told more than {CALLBACK_OFFER_ABOVE_SECONDS:.0f} s "
        "take the callback offered \"when it is your turn\" and keep their place; their "
        "phone rings when an agent is paired with their entry plus "
        f"{CALLBACK_DIAL_SECONDS:.0f} s (agent rung first). Measured against the interval "
        "the words they heard stand for (\"we will call you back in about N minutes\").", "",
        *promise_rows(scenarios, promises), "",
        "### First estimates of a day", "",
        f"The first hour of {FIRST_DAYS} days per scenario, each opening with an empty line, "
        f"a quarter of the agents and twice the arrivals for {OPENING_SECONDS / 60:.0f} "
        "minutes: the callers who queued before the first call of the day was "
        "handled. \"recent days\": the handle-time average starts from the mean of "
        f"{PRIOR_DAY_CALLS} earlier calls, weighed as {PRIOR_HANDLE_WEIGHT}; \"no history\": "
        "until a call is handled callers hear that no estimate can be given yet; \"no "
        "history, before\": the range from the 240 s guess that was spoken before.", "",
        *first_rows(scenarios, first), "",
    ])

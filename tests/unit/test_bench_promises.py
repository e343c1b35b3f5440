"""The callback-promise and first-estimate figures of the bench (bench.promises)."""

from __future__ import annotations

import statistics
from dataclasses import replace

from bench.ewt import SCENARIOS
from bench.promises import CallbackSimulation, PromiseTally, first_results

STEADY, PEAK, STAFFING, IMPATIENT = SCENARIOS
SEED = 7


def test_a_callback_ringing_after_what_was_said_is_late_by_the_excess() -> None:
    tally = PromiseTally()
    tally.add((480.0, 720.0), 600.0)  # "in about 8 to 12 minutes", rang at 10
    tally.add((480.0, 720.0), 800.0)
    tally.add((480.0, 720.0), 100.0)
    assert (tally.inside, tally.early, tally.late, tally.count) == (1, 1, [80.0], 3)


def test_callback_customers_keep_their_place_and_every_one_is_rung() -> None:
    simulation = CallbackSimulation(replace(IMPATIENT, warmup=600.0), 3000, SEED)
    simulation.run()  # impatient callers hang up; callback customers are off the line
    assert simulation.promises.count > 0 and not simulation.booked


def test_a_days_first_callers_hear_a_range_from_history_or_that_none_can_be_given() -> None:
    (variants,) = first_results(SEED, days=3, scenarios=[STEADY])
    recent, none, before = (variants[k] for k in ("recent days", "no history",
                                                   "no history, before"))
    assert none.queued > 0 and none.no_estimate == none.queued  # nothing handled yet
    assert recent.no_estimate == 0 and recent.widths
    assert statistics.fmean(recent.widths) < statistics.fmean(before.widths)

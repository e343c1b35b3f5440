"""The performance benchmark (bench.perf) runs end to end at a tiny size.

Figures are not asserted (they belong to `make bench` and docs/performance.md); these
tests prove each benchmark starts the stack as the Procfile does, drives it, and reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import consoles, perf
from bench.stack import Stack

TINY = perf.Sizes(duration=2.0, connections=2, max_requests=40, queue_sizes=(10, 60),
                  queue_reps=5, dispatches=3, scale_agents=3)

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    """The benchmark's stack on the suite's database and Redis, seeded."""
    with Stack(tmp_path / "bench", database_url=database_url, redis_url=redis_url) as running:
        perf.seed(running)
        yield running


def test_webhook_benchmark_serves_bare_incoming_and_hold_without_errors(stack: Stack):
    figures = perf.webhook_benchmark(stack, TINY)
    for name in ("bare", "incoming", "hold"):
        assert figures[name]["max"]["requests"] > 0
        assert figures[name]["max"]["errors"] == 0
    assert figures["waiting_after"] >= figures["incoming"]["max"]["requests"]


def test_queue_scale_benchmark_times_every_operation_at_every_size(stack: Stack):
    figures = perf.queue_scale_benchmark(stack, TINY)
    assert set(figures) == {"10", "60"}
    assert set(figures["60"]) == {"join", "position", "estimate", "route"}
    assert stack.rt.live.zcard("hl:line:scale") == 60


def test_callback_benchmark_sees_every_dispatch_reach_the_twilio_stand_in(stack: Stack):
    figures = perf.callback_benchmark(stack, TINY)
    assert figures["dispatches"] == 3
    assert figures["missing"] == 0


def test_scale_out_benchmark_hands_no_agent_or_entry_out_twice(stack: Stack):
    figures = perf.scale_out_benchmark(stack, TINY)
    for run in (figures["one"], figures["two"]):
        assert run["assignments"] == run["dialled"] <= run["agents"] == 3
        assert run["agents_twice"] == run["entries_twice"] == 0


def test_table_reports_each_figure_beside_its_baseline(stack: Stack):
    results = {"queues": perf.queue_scale_benchmark(stack, TINY)}
    text = perf.table(results)
    assert text.startswith("| figure | measured | baseline (same run) | ratio | goal |")
    assert "estimate µs/op (median) at 10, 60 waiting" in text


def test_consoles_benchmark_polls_and_streams_without_errors(stack: Stack):
    figures = consoles.consoles_benchmark(stack, consoles=3, duration=2.0, update_every=0.5)
    assert figures["bare"]["requests"] > 0 and figures["bare"]["errors"] == 0
    assert figures["poll"]["requests"] > 0 and figures["poll"]["errors"] == 0
    assert figures["push"]["refused"] == 0 and figures["push"]["errors"] == 0
    assert figures["push"]["updates"] > 0  # updates reached the streams, each fetched once
    assert figures["push"]["requests"] == figures["push"]["updates"]
    assert "live consoles" in "\n".join(consoles.rows(figures))

"""The live board: line length, oldest wait, a new caller's estimate, agents by state."""

from __future__ import annotations

from datetime import timedelta

from admin.board import board
from models.entities import Agent
from queueing import lines, stats
from queueing.estimate import estimate_wait
from tests.helpers import make_available, seed_agent, seed_queues


def test_board_shows_waiting_callers_oldest_wait_estimate_and_agents_by_state(rt, frozen_clock):
    seed_queues(rt, ("support", "Support", "1"), ("sales", "Sales", "2"))
    ann = seed_agent(rt, "ann", ["support"])
    carl = seed_agent(rt, "carl", ["support", "sales"])
    seed_agent(rt, "bob", ["support"])
    make_available(rt, ann)
    with rt.db.session() as s:  # known only to the database (Redis lost it)
        row = s.get(Agent, carl)
        row.state, row.state_since = "busy", frozen_clock.now() - timedelta(seconds=90)
    now = frozen_clock.time()
    for n, joined in enumerate((now - 75, now - 30), 1):
        lines.join(rt.live, lines.Entry(f"i:{n}", "support", lines.CALLER, joined,
                                        interaction_id=n))
    frozen_clock.advance(5)

    support, sales = board(rt)

    assert (support.slug, support.waiting, support.oldest_wait_seconds) == ("support", 2, 80.0)
    # Third in line, one agent free and one signed in, no history: 2 ahead x 240 s / 1 agent.
    assert support.new_caller_estimate.seconds == 480.0
    assert support.new_caller_estimate == estimate_wait(
        3, stats.queue_stats(rt.live, rt.presence, "support"))
    assert support.agents_by_state == {"offline": 1, "available": 1, "busy": 1, "wrap-up": 0}
    assert [(a.name, a.state, a.seconds_in_state) for a in support.agents] == [
        ("Ann", "available", 5.0), ("Bob", "offline", None), ("Carl", "busy", 95.0)]
    assert (sales.waiting, sales.oldest_wait_seconds) == (0, None)
    assert sales.new_caller_estimate.seconds == 240.0  # nobody free: one fallback handle time
    assert sales.agents_by_state["busy"] == 1


def test_board_oldest_wait_is_the_longest_waiting_caller_even_behind_a_vip(rt, frozen_clock):
    """A VIP placed at the front by a priority bonus is not the caller waiting longest."""
    seed_queues(rt, ("support", "Support", "1"))
    now = frozen_clock.time()
    lines.join(rt.live, lines.Entry("i:1", "support", lines.CALLER, now - 60, interaction_id=1))
    lines.join(rt.live, lines.Entry("i:2", "support", lines.CALLER, now - 10, interaction_id=2,
                                    bonus=300.0))
    [support] = board(rt)
    assert lines.position(rt.live, "support", "i:2") == 1
    assert support.oldest_wait_seconds == 60.0

"""The routing script: longest-idle agent, oldest entry, never anything handed out twice."""

from __future__ import annotations

import threading
from collections import Counter

from queueing import lines
from queueing.presence import Presence
from queueing.routing import Router


def _entry(n: int, queue: str = "support", joined: float | None = None) -> lines.Entry:
    return lines.Entry(f"i:{n}", queue, lines.CALLER, joined if joined is not None else 1000.0 + n,
                       f"CA{n:032d}", n)


def test_longest_idle_agent_gets_the_oldest_entry(r):
    presence, router = Presence(r), Router(r)
    presence.set_state(1, "available", 50.0, ["support"])
    presence.set_state(2, "available", 10.0, ["support"])
    lines.join(r, _entry(2, joined=2000.0))
    lines.join(r, _entry(1, joined=1000.0))
    pairs = router.route(["support"], 3000.0)
    assert [(p.agent_id, p.entry_id) for p in pairs] == [(2, "i:1"), (1, "i:2")]
    assert presence.state(1) == presence.state(2) == "busy"
    assert lines.length(r, "support") == 0


def test_agent_serving_two_queues_takes_the_older_entry_of_either(r):
    presence, router = Presence(r), Router(r)
    presence.set_state(7, "available", 1.0, ["sales", "support"])
    lines.join(r, _entry(1, "sales", joined=500.0))
    lines.join(r, _entry(2, "support", joined=400.0))
    pairs = router.route(["sales"], 1000.0)
    assert [(p.entry_id, p.queue) for p in pairs] == [("i:2", "support")]


def test_busy_or_offline_agents_are_never_routed(r):
    presence, router = Presence(r), Router(r)
    presence.set_state(1, "available", 1.0, ["support"])
    presence.set_state(1, "offline", 2.0, ["support"])
    presence.set_state(2, "wrap-up", 2.0, ["support"])
    lines.join(r, _entry(1))
    assert router.route(["support"], 10.0) == []
    assert lines.length(r, "support") == 1


def test_rejoining_keeps_the_original_place(r):
    lines.join(r, _entry(1, joined=100.0))
    lines.join(r, _entry(2, joined=200.0))
    entry = lines.load(r, "i:1")
    lines.leave(r, "support", "i:1")
    assert lines.position(r, "support", "i:2") == 1
    lines.join(r, entry)
    assert lines.position(r, "support", "i:1") == 1


def test_concurrent_routing_from_many_threads_hands_out_each_agent_and_entry_once_in_order(rt):
    r = rt.live
    agents, callers, threads_n = 60, 400, 8
    for n in range(callers):
        lines.join(r, _entry(n, joined=10_000.0 + n))
    errors: list[BaseException] = []
    results: list[tuple[int, str, float]] = []
    lock = threading.Lock()

    def agents_free_up(start: int) -> None:
        presence, router = Presence(r), Router(r)
        try:
            for a in range(start, agents, threads_n):
                presence.set_state(a, "available", float(a), ["support"])
                pairs = router.route(["support"], 20_000.0)
                with lock:
                    results.extend((p.agent_id, p.entry_id, p.joined) for p in pairs)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=agents_free_up, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == agents
    assert max(Counter(a for a, _, _ in results).values()) == 1
    assert max(Counter(e for _, e, _ in results).values()) == 1
    assert sorted(j for _, _, j in results) == [10_000.0 + n for n in range(agents)]
    assert lines.length(r, "support") == callers - agents


def test_join_and_route_pairs_a_free_agent_with_the_line_head_in_the_same_step(r):
    presence, router = Presence(r), Router(r)
    lines.join(r, _entry(1, joined=100.0))
    presence.set_state(4, "available", 5.0, ["support"])
    joined = router.join_and_route(_entry(2, joined=200.0), 300.0)
    assert joined.added and [(p.agent_id, p.entry_id) for p in joined.pairs] == [(4, "i:1")]
    assert joined.position == 1 and lines.position(r, "support", "i:2") == 1
    assert lines.entry_for_call(r, f"CA{2:032d}") == _entry(2, joined=200.0)


def test_join_and_route_of_the_only_caller_with_an_agent_free_leaves_no_place_in_line(r):
    presence, router = Presence(r), Router(r)
    presence.set_state(4, "available", 5.0, ["support"])
    joined = router.join_and_route(_entry(1, joined=100.0), 300.0)
    assert joined.position is None and [p.entry_id for p in joined.pairs] == ["i:1"]
    assert presence.state(4) == "busy" and r.hget("hl:entry:i:1", "agent") == "4"


def test_join_and_route_again_keeps_the_original_place_and_adds_nothing(r):
    router = Router(r)
    router.join_and_route(_entry(1, joined=100.0), 150.0)
    router.join_and_route(_entry(2, joined=200.0), 250.0)
    again = router.join_and_route(_entry(1, joined=100.0), 300.0)
    assert not again.added and again.position == 1 and again.pairs == []
    assert lines.length(r, "support") == 2

"""Routing from several processes at once (separate Redis connections and interpreters)."""

from __future__ import annotations

import multiprocessing
from collections import Counter

from queueing import lines
from queueing.presence import Presence
from queueing.routing import Router


def _route_many(url: str, start: int, step: int, callers: int, out: multiprocessing.Queue) -> None:
    import redis
    r = redis.Redis.from_url(url, decode_responses=True)
    router, handed = Router(r), []
    for n in range(start, callers, step):
        lines.join(r, lines.Entry(f"i:{n}", "support", lines.CALLER, 10_000.0 + n, "", n))
        handed += [(p.agent_id, p.entry_id) for p in router.route(["support"], 0.0)]
    out.put(handed)
    r.close()


def test_four_processes_routing_at_once_never_hand_out_an_agent_or_entry_twice(rt):
    presence = Presence(rt.live)
    agents, callers, procs = 40, 200, 4
    for a in range(agents):
        presence.set_state(a, "available", float(a), ["support"])
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    workers = [ctx.Process(target=_route_many, args=(rt.redis_url, i, procs, callers, out))
               for i in range(procs)]
    for w in workers:
        w.start()
    handed = [pair for _ in workers for pair in out.get(timeout=60)]
    for w in workers:
        w.join(timeout=30)
    assert len(handed) == agents
    assert max(Counter(a for a, _ in handed).values()) == 1
    assert max(Counter(e for _, e in handed).values()) == 1
    out.close()
    out.join_thread()

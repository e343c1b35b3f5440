"""Holdless performance benchmark: webhooks, queue scale, callback dispatch, scale-out.

Every figure is reported next to a baseline measured in the same run (these machines
are noisy). See docs/performance.md for what each figure means and what limits it.

    python -m bench.perf [--duration S] [--connections N] [--dispatches N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from admin import directory
from bench import consoles, load
from bench.stack import AUTH_TOKEN, BARE_APP, QUEUE, Stack
from models.entities import AGENT_STATES, Assignment
from queueing import agents, dispatch, keys, lines, stats


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark runs (the smoke test uses tiny ones)."""

    duration: float = 10.0
    connections: int = 16
    max_requests: int = 80_000
    queue_sizes: tuple[int, ...] = (100, 10_000, 100_000)
    queue_reps: int = 300
    dispatches: int = 300
    scale_agents: int = 300
    consoles: int = 200


# -- seeding -----------------------------------------------------------------------------


def seed(stack: Stack) -> None:
    """One open queue (so callers join it at once) and figures that feed the estimate."""
    rt = stack.rt
    with rt.db.session() as s:
        directory.create_queue(s, QUEUE, "Support", "1")
    seed_stats(rt.live, QUEUE)


def seed_stats(r: Any, queue: str) -> None:
    """A full window of handle times and outcomes, some abandoned (the estimate's inputs)."""
    rng = random.Random(7)
    for _ in range(60):
        stats.record_handle_time(r, queue, rng.uniform(120, 400))
    for n in range(220):
        stats.record_outcome(r, queue, rng.uniform(5, 300), abandoned=n % 5 == 0)


def add_agents(stack: Stack, count: int, prefix: str) -> list[tuple[int, str]]:
    """Create `count` agents serving the queue; returns (id, contact) of each."""
    made = []
    with stack.rt.db.session() as s:
        for n in range(count):
            contact = f"client:{prefix}{n}"
            name = f"{prefix}{n}"
            agent = directory.create_agent(s, f"Agent {name}", name, contact, [QUEUE])
            made.append((agent.id, contact))
    return made


def incoming_requests(base_url: str, count: int, salt: int) -> tuple[list[load.Signed], list[str]]:
    """`count` signed /voice/incoming requests for distinct callers, and their CallSids."""
    sids = [load.call_sid(n, salt) for n in range(count)]
    forms = (load.incoming_form(sid, load.caller_number(n)) for n, sid in enumerate(sids))
    return load.sign_all(base_url, "/voice/incoming", forms, AUTH_TOKEN), sids


def warm_up(web: Any, count: int = 48) -> None:
    """Callers the timed runs do not count: every gunicorn worker opens its connections
    and fills its caches first (a cold first request takes about a second)."""
    reqs, _ = incoming_requests(web.base_url, count, salt=0x7000_0000 + web.port)
    load.run_load(web.base_url, reqs, connections=8, duration=30, tool="python")


def hold_requests(base_url: str, sids: list[str], count: int) -> list[load.Signed]:
    """`count` signed hold-loop requests cycling over the callers `sids`."""
    forms = (load.hold_form(sids[n % len(sids)], load.caller_number(n), n % len(sids) + 1)
             for n in range(count))
    return load.sign_all(base_url, "/voice/hold", forms, AUTH_TOKEN)


# -- 1. webhooks ---------------------------------------------------------------------------


def webhook_benchmark(stack: Stack, sizes: Sizes) -> dict[str, Any]:
    """Max throughput and latency, then latency at half the bare app's max, for the bare
    app, /voice/incoming and /voice/hold, each on the Procfile's web settings."""
    bare = stack.start_web(BARE_APP)
    warm_up(bare)
    bare_reqs, _ = incoming_requests(bare.base_url, sizes.max_requests, salt=1)
    run: dict[str, Any] = {"connections": sizes.connections, "duration": sizes.duration}
    bare_max = load.run_load(bare.base_url, bare_reqs, **run)
    half = bare_max.rps / 2
    bare_half = load.run_load(bare.base_url, bare_reqs[::-1], **run, rate=half)
    stack.stop_processes()

    web = stack.start_web()
    warm_up(web)
    reqs, sids = incoming_requests(web.base_url, sizes.max_requests, salt=2)
    incoming_max = load.run_load(web.base_url, reqs, **run)
    more, _ = incoming_requests(web.base_url, sizes.max_requests, salt=4)
    incoming_half = load.run_load(web.base_url, more, **run, rate=half)
    again, _ = incoming_requests(web.base_url, sizes.max_requests, salt=5)
    incoming_own = load.run_load(web.base_url, again, **run, rate=incoming_max.rps / 2)
    holds = hold_requests(web.base_url, sids[:max(1, incoming_max.requests)], sizes.max_requests)
    hold_max = load.run_load(web.base_url, holds, **run)
    hold_half = load.run_load(web.base_url, holds, **run, rate=half)
    hold_own = load.run_load(web.base_url, holds, **run, rate=hold_max.rps / 2)
    stack.stop_processes()
    return {"bare": {"max": asdict_rps(bare_max), "half": asdict_rps(bare_half)},
            "incoming": {"max": asdict_rps(incoming_max), "half": asdict_rps(incoming_half),
                         "own_half": asdict_rps(incoming_own)},
            "hold": {"max": asdict_rps(hold_max), "half": asdict_rps(hold_half),
                     "own_half": asdict_rps(hold_own)},
            "half_load_rps": half, "waiting_after": lines.length(stack.rt.live, QUEUE)}


def asdict_rps(result: load.LoadResult) -> dict[str, Any]:
    """A load result with its rate."""
    return {**asdict(result), "rps": result.rps}


# -- 2. queue scale ------------------------------------------------------------------------


def fill_line(r: Any, queue: str, first: int, last: int, start: float = 1_000_000.0) -> None:
    """Put callers `first`..`last - 1` in one line (entries and their records), in batches."""
    batch = 5000
    for low in range(first, last, batch):
        ids = range(low, min(last, low + batch))
        pipe = r.pipeline(transaction=False)
        for n in ids:
            entry = lines.Entry(f"s:{n}", queue, lines.CALLER, start + n, "", n)
            pipe.hset(keys.entry(entry.id), mapping=entry.fields())
        pipe.zadd(keys.line(queue), {f"s:{n}": start + n for n in ids})
        pipe.execute()


def time_ops(rt: Any, queue: str, size: int, reps: int) -> dict[str, float]:
    """Median microseconds per join, position, estimate and route with `size` waiting
    (median: one descheduled moment on a shared machine should not move the figure)."""
    from ivr.in_line import estimate_for
    rng = random.Random(size)
    r = rt.live
    spent: dict[str, list[float]] = {op: [] for op in ("join", "position", "estimate", "route")}
    for n in range(reps):
        entry = lines.Entry(f"j:{n}", queue, lines.CALLER, 9e9 + n, "", 0)
        t0 = time.perf_counter()
        lines.join(r, entry)
        spent["join"].append(time.perf_counter() - t0)
        lines.forget(r, entry)
        some = f"s:{rng.randrange(size)}"
        t0 = time.perf_counter()
        lines.position(r, queue, some)
        spent["position"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        estimate_for(rt, queue, some)
        spent["estimate"].append(time.perf_counter() - t0)
        rt.presence.set_state(1, "available", float(n), [queue])
        t0 = time.perf_counter()
        pairs = rt.router.route([queue], float(n))
        spent["route"].append(time.perf_counter() - t0)
        for pair in pairs:
            r.zadd(keys.line(queue), {pair.entry_id: pair.joined})
        rt.presence.set_state(1, "offline", float(n), [queue])
    return {op: load.percentile(times, 50) * 1e6 for op, times in spent.items()}


def queue_scale_benchmark(stack: Stack, sizes: Sizes) -> dict[str, Any]:
    """Per-operation time with each size of line waiting (Redis only, this process)."""
    rt, queue = stack.rt, "scale"
    seed_stats(rt.live, queue)
    results, filled = {}, 0
    for size in sizes.queue_sizes:
        fill_line(rt.live, queue, filled, size)
        filled = size
        time_ops(rt, queue, size, max(10, sizes.queue_reps // 10))  # warm-up
        results[str(size)] = time_ops(rt, queue, size, sizes.queue_reps)
    return results


# -- 3. callback dispatch --------------------------------------------------------------------


WARM_DISPATCHES = 5


def callback_benchmark(stack: Stack, sizes: Sizes) -> dict[str, Any]:
    """From `dispatch.set_state(available)` to the stand-in receiving that agent's call-create
    (the first few dispatches warm the worker up and are not counted)."""
    web = stack.start_web()
    stack.start_worker()
    count = sizes.dispatches + WARM_DISPATCHES
    reqs, _ = incoming_requests(web.base_url, count, salt=3)
    load.run_load(web.base_url, reqs, connections=4, duration=60, tool="python")
    people = add_agents(stack, count, "cb")
    routed, total, missing = [], [], 0
    for n, (agent_id, contact) in enumerate(people):
        start = time.time()
        dispatch.set_state(stack.rt, agent_id, "available")
        offered = time.time() - start
        try:
            call = stack.standin.wait_for(
                lambda q, c=contact: q.kind == "call-create" and q.field("To") == c, timeout=5)
        except TimeoutError:
            missing += 1
            continue
        if n >= WARM_DISPATCHES:
            routed.append(offered)
            total.append(call.time - start)
    stack.stop_processes()
    waits, runs = job_times(stack, [a for a, _ in people[WARM_DISPATCHES:]])
    return {"dispatches": sizes.dispatches, "missing": missing,
            "p50_ms": load.percentile(total, 50) * 1000,
            "p99_ms": load.percentile(total, 99) * 1000,
            "route_p50_ms": load.percentile(routed, 50) * 1000,
            "route_p99_ms": load.percentile(routed, 99) * 1000,
            "queued_p50_ms": load.percentile(waits, 50) * 1000,
            "queued_p99_ms": load.percentile(waits, 99) * 1000,
            "job_p50_ms": load.percentile(runs, 50) * 1000,
            "job_p99_ms": load.percentile(runs, 99) * 1000}


def job_times(stack: Stack, agent_ids: list[int]) -> tuple[list[float], list[float]]:
    """For the connect job of each agent's assignment: seconds from enqueued to started
    (waiting for the worker to take it) and from started to ended (running it)."""
    from rq.job import Job
    with stack.rt.db.session() as s:
        ids = list(s.scalars(select(Assignment.id).where(Assignment.agent_id.in_(agent_ids))))
    waits, runs = [], []
    for assignment_id in ids:
        job = Job.fetch(f"connect-{assignment_id}", connection=stack.rt.jobs_redis)
        if job.enqueued_at and job.started_at and job.ended_at:
            waits.append((job.started_at - job.enqueued_at).total_seconds())
            runs.append((job.ended_at - job.started_at).total_seconds())
    return waits, runs


# -- 4. scale-out ----------------------------------------------------------------------------


def scale_out_run(stack: Stack, sizes: Sizes, processes: int, salt: int) -> dict[str, Any]:
    """`processes` web processes (one gunicorn worker each) and as many RQ workers, all at
    once under load, agents free to be paired: throughput and the assignments made."""
    import threading
    webs = [stack.start_web(WEB_CONCURRENCY="1") for _ in range(processes)]
    for web in webs:
        warm_up(web)
    for _ in range(processes):
        stack.start_worker()
    people = add_agents(stack, sizes.scale_agents, f"so{salt}_")
    for agent_id, _ in people:
        agents.change(stack.rt, agent_id, "available", ("offline",))
    loads = [incoming_requests(w.base_url, sizes.max_requests // processes, salt + i)[0]
             for i, w in enumerate(webs)]
    results: list[load.LoadResult] = []
    conns = max(1, sizes.connections // processes)

    def drive(web: Any, requests: list[load.Signed]) -> None:
        results.append(load.run_load(web.base_url, requests, connections=conns,
                                     duration=sizes.duration))

    threads = [threading.Thread(target=drive, args=pair) for pair in zip(webs, loads, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=sizes.duration + 60)
    check = assignment_check(stack, people)
    dialled = wait_for_dials(stack, {c for _, c in people}, check["assignments"], seconds=30)
    stack.stop_processes()
    for agent_id, _ in people:  # none of them is left free for the next run
        agents.change(stack.rt, agent_id, "offline", AGENT_STATES)
    return {"processes": processes, "rps": sum(r.rps for r in results),
            "p99_ms": max(r.p99_ms for r in results), "errors": sum(r.errors for r in results),
            "agents": len(people), "dialled": dialled, **check}


def wait_for_dials(stack: Stack, contacts: set[str], expected: int, seconds: float) -> int:
    """How many of `contacts` the workers have dialled (waits up to `seconds` for
    `expected` of them: one per assignment made)."""
    deadline = time.monotonic() + seconds
    while True:
        seen = {q.field("To") for q in stack.standin.calls_created()} & contacts
        if len(seen) >= expected or time.monotonic() > deadline:
            return len(seen)
        time.sleep(0.1)


def assignment_check(stack: Stack, people: list[tuple[int, str]]) -> dict[str, int]:
    """Assignments of these agents: rows, and agents or entries handed out more than once."""
    ids = [a for a, _ in people]
    with stack.rt.db.session() as s:
        rows = list(s.execute(select(Assignment.agent_id, Assignment.entry)
                              .where(Assignment.agent_id.in_(ids))))
        total = s.scalar(select(func.count()).select_from(Assignment)) or 0
    by_agent, by_entry = Counter(a for a, _ in rows), Counter(e for _, e in rows)
    return {"assignments": len(rows), "assignments_total": int(total),
            "agents_twice": sum(1 for c in by_agent.values() if c > 1),
            "entries_twice": sum(1 for c in by_entry.values() if c > 1)}


def scale_out_benchmark(stack: Stack, sizes: Sizes) -> dict[str, Any]:
    """1 web + 1 worker against 2 + 2, same Redis and database."""
    one = scale_out_run(stack, sizes, 1, salt=10)
    two = scale_out_run(stack, sizes, 2, salt=20)
    return {"one": one, "two": two, "ratio": two["rps"] / one["rps"] if one["rps"] else 0.0}


# -- report ----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """What this ran on."""
    import os
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "0")
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "memory_gb": f"{int(mem) / 1e6:.1f}",
            "python": platform.python_version()}


def run_all(sizes: Sizes, workdir: Path, only: set[str] | None = None) -> dict[str, Any]:
    """Every benchmark (or those in `only`) on one freshly started stack."""
    from bench.stack import describe
    wanted = only or {"webhooks", "queues", "callbacks", "scaleout", "consoles"}
    results: dict[str, Any] = {"machine": machine()}
    with Stack(workdir) as stack:
        results["stack"] = describe(stack)
        seed(stack)
        steps = [("queues", queue_scale_benchmark), ("webhooks", webhook_benchmark),
                 ("callbacks", callback_benchmark), ("scaleout", scale_out_benchmark),
                 ("consoles", lambda st, sz: consoles.consoles_benchmark(
                     st, sz.consoles, sz.duration))]
        for name, step in steps:
            if name in wanted:
                print(f"bench: {name} ...", file=sys.stderr, flush=True)
                results[name] = step(stack, sizes)
    return results


def table(results: dict[str, Any]) -> str:
    """The figures as a Markdown table, each beside its same-run baseline."""
    rows = ["| figure | measured | baseline (same run) | ratio | goal |", "|---|---|---|---|---|"]
    if "webhooks" in results:
        rows += _webhook_rows(results["webhooks"])
    if "queues" in results:
        rows += _queue_rows(results["queues"])
    if "callbacks" in results:
        c = results["callbacks"]
        rows.append(f"| callback dispatch p50 / p99 ({c['dispatches']} dispatches, "
                    f"{c['missing']} missing) | {c['p50_ms']:.1f} / {c['p99_ms']:.1f} ms | "
                    f"of which: offer (route, commit, enqueue) p50/p99 {c['route_p50_ms']:.1f} / "
                    f"{c['route_p99_ms']:.1f} ms; queued for the worker {c['queued_p50_ms']:.1f} / "
                    f"{c['queued_p99_ms']:.1f} ms; connect job {c['job_p50_ms']:.1f} / "
                    f"{c['job_p99_ms']:.1f} ms | – | p99 < 250 ms |")
    if "consoles" in results:
        rows += consoles.rows(results["consoles"])
    if "scaleout" in results:
        s = results["scaleout"]
        one, two = s["one"], s["two"]
        rows.append(f"| scale-out 2 web + 2 workers | {two['rps']:.0f} req/s | 1 + 1: "
                    f"{one['rps']:.0f} req/s | {s['ratio']:.2f}× | ≥ 1.7× |")
        for run in (one, two):
            rows.append(f"| assignments ({run['processes']}+{run['processes']}) | "
                        f"{run['assignments']} rows for {run['agents']} agents, "
                        f"{run['dialled']} dialled | agents twice: {run['agents_twice']}, "
                        f"entries twice: {run['entries_twice']} | – | none twice |")
    return "\n".join(rows)


def _webhook_rows(w: dict[str, Any]) -> list[str]:
    bare = w["bare"]
    rows = [f"| bare Flask max | {bare['max']['rps']:.0f} req/s, p50 {bare['max']['p50_ms']:.1f}"
            f" / p99 {bare['max']['p99_ms']:.1f} ms | – | 1 | – |"]
    for name in ("incoming", "hold"):
        m, h = w[name]["max"], w[name]["half"]
        rows.append(f"| /voice/{name} max{' (ran out of requests)' if m['exhausted'] else ''} | "
                    f"{m['rps']:.0f} req/s, p50 {m['p50_ms']:.1f} / p99 "
                    f"{m['p99_ms']:.1f} ms ({m['errors']} errors) | {bare['max']['rps']:.0f} "
                    f"req/s | {m['rps'] / bare['max']['rps']:.2f} | ≥ 0.70 |")
        rows.append(f"| /voice/{name} at half bare max ({w['half_load_rps']:.0f} req/s asked) | "
                    f"{h['rps']:.0f} req/s, p50 {h['p50_ms']:.1f} / p99 {h['p99_ms']:.1f} ms | "
                    f"bare p99 {bare['half']['p99_ms']:.1f} ms | "
                    f"{h['p99_ms'] / max(bare['half']['p99_ms'], 0.001):.1f} | p99 < 50 ms |")
        if "own_half" in w[name]:
            o = w[name]["own_half"]
            rows.append(f"| /voice/{name} at half its own max | {o['rps']:.0f} req/s, p50 "
                        f"{o['p50_ms']:.1f} / p99 {o['p99_ms']:.1f} ms | – | – | – |")
    return rows


def _queue_rows(q: dict[str, Any]) -> list[str]:
    sizes = sorted(q, key=int)
    small, large = q[sizes[0]], q[sizes[-1]]
    counts = ", ".join(f"{int(s):,}" for s in sizes)
    return [f"| {op} µs/op (median) at {counts} waiting | "
            f"{' / '.join(f'{q[s][op]:.0f}' for s in sizes)} | {small[op]:.0f} at "
            f"{int(sizes[0]):,} | {large[op] / small[op]:.2f} | ≤ 2 |"
            for op in ("join", "position", "estimate", "route")]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the figures table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=Sizes.duration)
    parser.add_argument("--connections", type=int, default=Sizes.connections)
    parser.add_argument("--dispatches", type=int, default=Sizes.dispatches)
    parser.add_argument("--max-requests", type=int, default=Sizes.max_requests)
    parser.add_argument("--queue-sizes", default="100,10000,100000")
    parser.add_argument("--scale-agents", type=int, default=Sizes.scale_agents)
    parser.add_argument("--consoles", type=int, default=Sizes.consoles)
    parser.add_argument("--only", action="append",
                        help="webhooks, queues, callbacks, scaleout, consoles")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args(argv)
    sizes = Sizes(duration=args.duration, connections=args.connections,
                  dispatches=args.dispatches, max_requests=args.max_requests,
                  queue_sizes=tuple(int(x) for x in args.queue_sizes.split(",")),
                  scale_agents=args.scale_agents, consoles=args.consoles)
    with tempfile.TemporaryDirectory(prefix="holdless-bench-") as tmp:
        results = run_all(sizes, Path(tmp), set(args.only) if args.only else None)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(json.dumps({"machine": results["machine"], "stack": results["stack"]}))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A rush on the production stack: two web processes, two RQ workers, agents going available
all at once through the console and callers all phoning in at once, some booking callbacks.

Everything runs as production runs it: the Procfile's gunicorn command twice behind one public
URL (a round-robin balancer signs each webhook as Twilio does and hands it to the next web
process), the Procfile's worker command twice, real Redis and a real database (embedded, or
REDIS_URL and DATABASE_URL), the Twilio REST stand-in and the phone network. Agents sign in
over HTTP, press Available, pick up when their phone rings and wrap up each call through the
agent API. Afterwards the database records are checked:

- no line entry (caller or callback) is in two assignments, no interaction is answered by two
  agents, every caller was answered or called back;
- no agent holds two assignments at once (each ends before the agent's next begins);
- first come, first served per queue (see `overtakes` for exactly what that means here).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from admin import directory
from bench.stack import AUTH_TOKEN
from callbacks import twilio_queues
from ivr import booking
from models.callbacks import COMPLETED as CALLBACK_COMPLETED
from models.callbacks import Callback
from models.entities import Assignment, Interaction, Leg, Queue
from simulator.endpoints import Answer, GatherPrompt
from simulator.engine import PhoneNetwork
from tests.concurrency_stack import (
    PUBLIC_BASE,
    BalancedAppClient,
    BalancedStack,
    ConsoleAgent,
    web_log_lines,
)
from tests.daytime import daytime_now

OUR_NUMBER = "+12125550000"
PASSWORD = "correct horse battery"
SPEED = 20.0
HANDLE_SECONDS = 20.0  # virtual: one real second at SPEED
HOLD_MUSIC_SECONDS = 300.0  # virtual: a hold-loop turn every 15 real seconds per caller
QUEUES = (("sales", "Sales", "1"), ("support", "Support", "2"), ("billing", "Billing", "3"))
# Which queues each agent serves, in turn: some serve one queue, some two.
AGENT_QUEUES = (["sales"], ["support"], ["billing"], ["sales", "support"], ["support", "billing"])
CALLBACK_SHARE = 0.25  # of billing's callers, who are offered a callback at once


# -- the first-come-first-served check -----------------------------------------------------


@dataclass(frozen=True)
class Handed:
    """One entry handed to an agent, with the bounds on when that happened."""

    entry: str
    queue: str
    agent_id: int
    joined: float
    """The entry's place in line (the moment it first joined)."""
    free_from: float
    """A moment the pairing cannot precede: when the request making the agent free was sent."""
    paired_by: float
    """A moment the pairing cannot follow: when its assignment was recorded."""
    in_line_by: float | None
    """A moment by which the entry was surely in its line (its joining webhook had answered)."""


def overtakes(handed: list[Handed]) -> list[tuple[Handed, Handed]]:
    """Pairs (older, newer) of one queue where the newer entry was surely handed to an agent
    while the older one was surely waiting in the same line.

    With many agents freeing up at once across processes, "first come, first served" cannot
    mean that assignments are recorded in join order: two agents paired a millisecond apart
    record their assignments in either order. What routing promises (one atomic Redis script)
    is that an agent is always handed the oldest entry of their queues. A breach shows up as
    entries X (older) and Y (newer) of one queue with:
      X surely in line when Y was handed out:  X.in_line_by <= Y.free_from, and
      Y handed out before X could have been:   Y.paired_by  <  X.free_from.
    Then Y's agent, who serves that queue, was given Y while the older X waited. Pairs whose
    moments overlap are not judged either way.
    """
    by_queue: dict[str, list[Handed]] = defaultdict(list)
    for h in handed:
        by_queue[h.queue].append(h)
    found = []
    for entries in by_queue.values():
        entries.sort(key=lambda h: h.joined)
        for i, older in enumerate(entries):
            if older.in_line_by is None:
                continue
            found += [(older, newer) for newer in entries[i + 1:]
                      if newer.joined > older.joined and older.in_line_by <= newer.free_from
                      and newer.paired_by < older.free_from]
    return found


def judged_pairs(handed: list[Handed]) -> int:
    """How many (older, newer) pairs of one queue had moments far enough apart to be judged:
    the newer one was handed out while the older one was surely in line."""
    by_queue: dict[str, list[Handed]] = defaultdict(list)
    for h in handed:
        by_queue[h.queue].append(h)
    return sum(1 for entries in by_queue.values() for older in entries for newer in entries
               if newer.joined > older.joined and older.in_line_by is not None
               and older.in_line_by <= newer.free_from)


def _handed(queue: str, joined: float, free_from: float, paired_by: float,
            in_line_by: float | None = 0.0, agent: int = 1) -> Handed:
    return Handed(f"i:{joined}", queue, agent, joined, free_from, paired_by, in_line_by)


def test_fifo_check_flags_a_newer_caller_handed_out_while_an_older_one_surely_waited():
    older = _handed("sales", joined=1.0, free_from=20.0, paired_by=21.0, in_line_by=2.0)
    newer = _handed("sales", joined=3.0, free_from=10.0, paired_by=11.0, in_line_by=4.0, agent=2)
    assert overtakes([older, newer]) == [(older, newer)]
    in_order = _handed("sales", joined=3.0, free_from=22.0, paired_by=23.0, agent=2)
    assert overtakes([older, in_order]) == []


def test_fifo_check_leaves_overlapping_moments_and_other_queues_unjudged():
    older = _handed("sales", joined=1.0, free_from=10.0, paired_by=12.0, in_line_by=2.0)
    racing = _handed("sales", joined=3.0, free_from=10.5, paired_by=11.0, agent=2)
    assert overtakes([older, racing]) == []  # both paired in the same moments: either order
    not_yet_in_line = _handed("sales", joined=1.0, free_from=20.0, paired_by=21.0, in_line_by=15.0)
    newer = _handed("sales", joined=3.0, free_from=10.0, paired_by=11.0, agent=2)
    assert overtakes([not_yet_in_line, newer]) == []  # its join answered after the pairing
    elsewhere = _handed("support", joined=3.0, free_from=1.0, paired_by=2.0, agent=2)
    assert overtakes([older, elsewhere]) == []


# -- the rush ----------------------------------------------------------------------------


@dataclass
class Rush:
    """A finished rush: the stack (still up for reading records), agents, calls, figures."""

    stack: BalancedStack
    balancer: BalancedAppClient
    network: PhoneNetwork
    agents: dict[int, ConsoleAgent]
    callers: list
    seconds: float


def _keys(digit: str, wants_callback: bool):
    """The caller picks their queue from the menu and, if they want one, books a callback."""

    def respond(prompt: GatherPrompt) -> str | None:
        text = prompt.prompt.lower()
        if "called back" in text:
            return "1" if wants_callback else None
        if "to confirm" in text:
            return "1"
        if ", press " in text:
            return digit
        return None

    return respond


def _seed(stack: BalancedStack, agents: int) -> dict[int, str]:
    with stack.rt.db.session() as s:
        for slug, name, digit in QUEUES:
            directory.create_queue(s, slug, name, digit)
        s.flush()
        s.scalar(select(Queue).where(Queue.slug == "billing")).callback_threshold_seconds = 0
        made = {}
        for n in range(agents):
            username = f"agent{n:02d}"
            made[directory.create_agent(s, f"Agent {n:02d}", username, f"client:{username}",
                                        AGENT_QUEUES[n % len(AGENT_QUEUES)], "agent",
                                        PASSWORD).id] = username
    # The lines' Twilio queues made with the size they need, as the admin API does for a new
    # queue (workers size them at start, before these queues existed): left to <Enqueue>,
    # each holds Twilio's default 100 and the 101st caller gets queue-full.
    twilio_queues.size_queues(stack.rt)
    return made


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[BalancedStack]:
    """Two web processes and two workers of the production stack (stores emptied first)."""
    with BalancedStack(tmp_path) as running:
        running.start_web()
        running.start_web()
        running.start_worker()
        running.start_worker()
        yield running


def _everyone_served(rush_stack: BalancedStack, callers: list, agents: dict[int, ConsoleAgent]
                     ) -> bool:
    if not all(c.ended for c in callers) or any(not a.inbox.empty() for a in agents.values()):
        return False
    rt = rush_stack.rt
    with rt.db.session() as s:
        open_callbacks = s.scalars(select(Callback).where(Callback.status != CALLBACK_COMPLETED))
        if list(open_callbacks):
            return False
    return all(rt.presence.state(a) == "available" for a in agents) and rt.jobs.count == 0


def _progress(rush_stack: BalancedStack, callers: list, agents: dict[int, ConsoleAgent]) -> str:
    rt = rush_stack.rt
    with rt.db.session() as s:
        callbacks = Counter(c.status for c in s.scalars(select(Callback)))
    states = Counter(rt.presence.state(a) for a in agents)
    errors = [e for a in agents.values() for e in a.errors][:3]
    return (f"{sum(c.ended for c in callers)}/{len(callers)} calls ended, callbacks "
            f"{dict(callbacks)}, agents {dict(states)}, jobs queued {rt.jobs.count}, "
            f"agent errors {errors}")


def rush(stack: BalancedStack, agents_n: int, callers_n: int, limit: float) -> Rush:
    """`agents_n` agents press Available at once while `callers_n` callers phone in at once;
    returns when everyone has been served (or fails after `limit` real seconds)."""
    rng = random.Random(8)
    usernames = _seed(stack, agents_n)
    balancer = BalancedAppClient(stack.web_urls, AUTH_TOKEN)
    network = PhoneNetwork(PUBLIC_BASE, AUTH_TOKEN, stack.standin, speed=SPEED,
                           play_seconds=HOLD_MUSIC_SECONDS, hold_music_seconds=HOLD_MUSIC_SECONDS)
    network.app = balancer
    agents = {agent_id: ConsoleAgent(name, PASSWORD, stack.web_urls)
              for agent_id, name in usernames.items()}
    for agent in agents.values():
        network.register_endpoint(f"client:{agent.username}", agent.answer,
                                  handle_time=HANDLE_SECONDS)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(ConsoleAgent.sign_in, agents.values()))
    plan = []
    for n in range(callers_n):
        number = f"+1212555{n:04d}"
        digit = rng.choice("123")
        wants_callback = digit == "3" and rng.random() < CALLBACK_SHARE
        if wants_callback:
            network.register_endpoint(number, Answer.human(after=1), handle_time=HANDLE_SECONDS)
        plan.append((number, _keys(digit, wants_callback)))
    stop, start = threading.Event(), threading.Barrier(len(agents) + 1)

    def shift(agent: ConsoleAgent) -> None:
        start.wait()
        agent.go_available()
        agent.work(stop)

    threads = [threading.Thread(target=shift, args=(a,), daemon=True) for a in agents.values()]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    start.wait()
    callers = [network.place_call(number, OUR_NUMBER, keypresses=keys) for number, keys in plan]
    deadline = time.monotonic() + limit
    while not _everyone_served(stack, callers, agents):
        if time.monotonic() > deadline:
            stop.set()
            network.close()
            raise AssertionError(f"not everyone was served within {limit:.0f}s: "
                                 f"{_progress(stack, callers, agents)}")
        time.sleep(0.2)
    seconds = time.monotonic() - began
    stop.set()
    for thread in threads:
        thread.join(5)
    network.close()
    return Rush(stack, balancer, network, agents, callers, seconds)


def handed_out(r: Rush) -> list[Handed]:
    """Every assignment of the rush with the bounds `overtakes` needs."""
    enqueued, last = r.balancer.first_enqueued(), r.balancer.last_answered()
    with r.stack.rt.db.session() as s:
        rows = list(s.scalars(select(Assignment).order_by(Assignment.created_at)))
        sids = dict(s.execute(select(Interaction.id, Interaction.call_sid)).all())
        booked = {booking.entry_id(c.id): sids.get(c.interaction_id or 0)
                  for c in s.scalars(select(Callback))}
    seen: Counter[int] = Counter()
    found = []
    for a in rows:
        freed = r.agents[a.agent_id].freed_at
        assert seen[a.agent_id] < len(freed), f"agent {a.agent_id} paired while never freed"
        free_from = freed[seen[a.agent_id]]
        seen[a.agent_id] += 1
        if a.entry in booked:  # a callback is back in line once its booking call has answered
            in_line_by = last.get(booked[a.entry] or "")
        else:
            in_line_by = enqueued.get(sids.get(a.interaction_id or 0, ""))
        found.append(Handed(a.entry, a.queue_slug, a.agent_id, a.joined_at,
                            _on_the_stacks_clock(free_from), a.created_at.timestamp(),
                            _on_the_stacks_clock(in_line_by)))
    return found


def _on_the_stacks_clock(seen: float | None) -> float | None:
    """A moment this process read with time.time() (an agent freed, a webhook answered) as
    the stack's processes record it: they run on tests/daytime.py's clock (real speed, moved
    to a working afternoon), so joined and paired moments are on that clock."""
    return None if seen is None else seen + (daytime_now() - time.time())


def check_rush(r: Rush, callers_n: int) -> dict[str, float]:
    """Every check on the records of a finished rush; returns its figures."""
    rt = r.stack.rt
    assert [(c.sid, e.detail) for c in r.network.calls.values() for e in c.errors] == []
    assert r.balancer.failures() == []
    assert {a.username: a.errors for a in r.agents.values() if a.errors} == {}
    assert web_log_lines(r.stack.workdir, "unreachable") == []  # no caller heard an apology
    assert FailedJobRegistry(queue=rt.jobs).get_job_ids() == []
    with rt.db.session() as s:
        assignments = list(s.scalars(select(Assignment)))
        legs = list(s.scalars(select(Leg)))
        callbacks = list(s.scalars(select(Callback)))
        interactions = list(s.scalars(select(Interaction).where(Interaction.kind == "inbound")))
    assert len(interactions) == callers_n
    # No entry (caller or callback) given to two agents, and no interaction to two agents.
    assert max(Counter(a.entry for a in assignments).values()) == 1
    assert max(Counter(leg.interaction_id for leg in legs).values()) == 1
    assert all(a.ended_at is not None and a.outcome for a in assignments)
    # Everyone was served: each caller by an agent, or called back.
    booked = {c.interaction_id for c in callbacks}
    assert {leg.interaction_id for leg in legs} | booked == {i.id for i in interactions}
    assert all(c.status == CALLBACK_COMPLETED for c in callbacks)
    assert len(assignments) == len(legs) + len(callbacks)
    # No agent given two calls at once.
    per_agent: dict[int, list[Assignment]] = defaultdict(list)
    for a in sorted(assignments, key=lambda a: a.created_at):
        per_agent[a.agent_id].append(a)
    for mine in per_agent.values():
        assert all(a.ended_at <= b.created_at for a, b in zip(mine, mine[1:], strict=False))
    for agent_id, agent in r.agents.items():
        assert len(agent.freed_at) - len(per_agent[agent_id]) in (0, 1)
    # First come, first served per queue.
    handed = handed_out(r)
    assert overtakes(handed) == []
    joined = {i.id: i.joined_at for i in interactions}
    waits = [leg.started_at.timestamp() - (joined[leg.interaction_id] or 0.0) for leg in legs]
    return {"seconds": r.seconds, "assignments": len(assignments), "callbacks": len(callbacks),
            "judged_pairs": judged_pairs(handed), "calls_per_second": callers_n / r.seconds,
            "known_in_line": sum(h.in_line_by is not None for h in handed),
            "longest_wait_for_an_agent": max(waits),
            **{f"webhooks_{n}": v for n, v in enumerate(r.balancer.spread().values())}}


def test_ten_agents_at_once_and_a_hundred_callers_on_two_web_processes_and_two_workers(stack):
    """The normal suite's size (well under a minute); the soak test runs the full rush."""
    result = rush(stack, agents_n=10, callers_n=100, limit=150)
    figures = check_rush(result, 100)
    print("rush 10 agents / 100 callers:", {k: round(v, 2) for k, v in figures.items()})


@pytest.mark.soak
def test_soak_fifty_agents_at_once_and_five_hundred_callers_on_two_web_processes_and_two_workers(
        stack):
    result = rush(stack, agents_n=50, callers_n=500, limit=900)
    figures = check_rush(result, 500)
    print("rush 50 agents / 500 callers:", {k: round(v, 2) for k, v in figures.items()})

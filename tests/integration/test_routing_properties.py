"""Stateful property tests of the lines, presence and the routing script on the real Redis.

Hypothesis drives any sequence of joins, leaves, rejoins at the original place, agent
state changes (available, offline, wrap-up, queue changes), missed offers (the entry goes
back), finished calls and routing passes. A plain-Python model of the rules runs alongside;
after every step the Redis state must match it and keep the invariants:

- no entry is handed out twice, and no agent holds two entries;
- an agent is in a queue's idle set iff they are available and serve that queue;
- each line is ordered by join time, and an entry keeps its original place when it rejoins;
- every pairing gives the longest-idle eligible agent the oldest entry of their queues.
"""

from __future__ import annotations

from typing import cast

import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from queueing import keys, lines
from queueing.presence import AVAILABLE, BUSY, OFFLINE, WRAP_UP, Presence, StateRefused
from queueing.routing import Router

QUEUES = ("a", "b", "c")
AGENTS = (1, 2, 3, 4, 5)
# What the agent (or the system) may move from, as queueing.agents allows it.
# Busy agents leave busy only through the end of their offer (rule offer_ends).
FROM = {AVAILABLE: (OFFLINE, AVAILABLE, WRAP_UP), OFFLINE: (OFFLINE, AVAILABLE, WRAP_UP),
        WRAP_UP: (WRAP_UP,)}
EXAMPLES = 60
# The soak's sequences, each up to 80 steps: 2,000 took 490 s, about a ninth of CI's time;
# 1,000 still runs over sixteen times the normal suite's sequences of twice the length.
SOAK_EXAMPLES = 1000
STEPS = 40

queue_sets = st.lists(st.sampled_from(QUEUES), min_size=1, max_size=3, unique=True)


class LinesAndRouting(RuleBasedStateMachine):
    """Redis lines, presence and router against a model of the same rules."""

    entries = Bundle("entries")

    def __init__(self, r: redis.Redis) -> None:
        super().__init__()
        r.flushdb()
        self.r, self.presence, self.router = r, Presence(r), Router(r)
        self.t = 1000.0
        self.waiting: dict[str, dict[str, float]] = {q: {} for q in QUEUES}
        self.known: dict[str, lines.Entry] = {}
        self.state = {a: OFFLINE for a in AGENTS}
        self.since = {a: 0.0 for a in AGENTS}
        self.serves = {a: [QUEUES[a % 3]] for a in AGENTS}
        self.holding: dict[int, str] = {}
        self.pairs_seen = 0

    def tick(self) -> float:
        """The model clock: strictly increasing, so every join and idle time is distinct."""
        self.t += 1.0
        return self.t

    @initialize(serves=st.fixed_dictionaries({a: queue_sets for a in AGENTS}),
                available=st.sets(st.sampled_from(AGENTS)))
    def staff(self, serves: dict[int, list[str]], available: set[int]) -> None:
        """Each agent's queues, and who is available at the start."""
        self.serves = {a: sorted(q) for a, q in serves.items()}
        for a in sorted(available):
            self.agent_state(a, AVAILABLE, then_route=False)

    # -- entries -------------------------------------------------------------------------

    @rule(target=entries, queue=st.sampled_from(QUEUES), kind=st.sampled_from(
        [lines.CALLER, lines.CALLBACK]), then_route=st.booleans())
    def join(self, queue: str, kind: str, then_route: bool) -> str:
        n = len(self.known) + 1
        entry = lines.Entry(f"e:{n}", queue, kind, self.tick(), f"CA{n:032x}", n)
        assert lines.join(self.r, entry) is True
        self.known[entry.id] = entry
        self.waiting[queue][entry.id] = entry.joined
        if then_route:  # as ivr.in_line.join does
            self.route([queue])
        return entry.id

    @rule(entry_id=entries)
    def leave(self, entry_id: str) -> None:
        entry = self.known[entry_id]
        was_waiting = entry_id in self.waiting[entry.queue]
        assert lines.leave(self.r, entry.queue, entry_id) is was_waiting
        self.waiting[entry.queue].pop(entry_id, None)

    @rule(entry_id=entries)
    def rejoin(self, entry_id: str) -> None:
        """A caller back from a callback booking or a missed offer keeps their place."""
        entry = self.known[entry_id]
        if entry_id in self.holding.values() or self.r.exists(keys.entry(entry_id)) == 0:
            return
        was_waiting = entry_id in self.waiting[entry.queue]
        self.tick()
        assert lines.join(self.r, entry) is (not was_waiting)
        self.waiting[entry.queue][entry_id] = entry.joined

    @rule(entry_id=consumes(entries))
    def hang_up(self, entry_id: str) -> None:
        """The caller's call ends: every trace of the entry goes, even while offered."""
        entry = self.known[entry_id]
        lines.forget(self.r, entry)
        self.waiting[entry.queue].pop(entry_id, None)

    # -- agents --------------------------------------------------------------------------

    @rule(agent=st.sampled_from(AGENTS), state=st.sampled_from([AVAILABLE, OFFLINE, WRAP_UP]),
          then_route=st.booleans())
    def agent_state(self, agent: int, state: str, then_route: bool) -> None:
        now, current = self.tick(), self.state[agent]
        allowed = current in FROM[state]
        try:
            self.presence.set_state(agent, state, now, self.serves[agent], FROM[state])
        except StateRefused as refused:
            assert not allowed and refused.current == current
            return
        assert allowed
        if not (state == AVAILABLE and current == AVAILABLE):
            self.since[agent] = now
        self.state[agent] = state
        if then_route and state == AVAILABLE:  # as queueing.agents.change does
            self.route(self.serves[agent])

    @rule(agent=st.sampled_from(AGENTS), queues=queue_sets)
    def change_queues(self, agent: int, queues: list[str]) -> None:
        """An admin changes which queues an agent serves, whatever their state."""
        state = self.state[agent]
        self.presence.set_state(agent, state, self.tick(), queues, (state,))
        if state != AVAILABLE:
            self.since[agent] = self.t
        self.serves[agent] = sorted(queues)

    @precondition(lambda self: self.holding)
    @rule(data=st.data(), state=st.sampled_from([AVAILABLE, OFFLINE, WRAP_UP]))
    def offer_ends(self, data: st.DataObject, state: str) -> None:
        """A busy agent's offer ends: missed (back to available, or offline after too many
        misses; the entry goes back to its place) or answered and done (wrap-up)."""
        agent = data.draw(st.sampled_from(sorted(self.holding)))
        self.presence.set_state(agent, state, self.tick(), self.serves[agent], (BUSY,))
        if state != WRAP_UP:
            self._put_back(agent)
        else:
            entry = self.known[self.holding.pop(agent)]
            lines.forget(self.r, entry)
        self.state[agent], self.since[agent] = state, self.t

    def _put_back(self, agent: int) -> None:
        entry_id = self.holding.pop(agent)
        entry = lines.load(self.r, entry_id)
        if entry is not None:  # callbacks.agent_legs.put_back: a hung-up caller stays gone
            lines.join(self.r, entry)
            self.waiting[entry.queue][entry_id] = entry.joined

    # -- routing -------------------------------------------------------------------------

    @rule(queues=queue_sets)
    def route(self, queues: list[str]) -> None:
        now, held_before = self.tick(), dict(self.holding)
        expected = self._model_route(queues)
        pairs = self.router.route(queues, now)
        got = [(p.agent_id, p.entry_id, p.queue, p.joined) for p in pairs]
        assert got == expected
        agents_paired, entries_paired = [p[0] for p in got], [p[1] for p in got]
        assert len(set(agents_paired)) == len(agents_paired)
        assert len(set(entries_paired)) == len(entries_paired)
        assert not set(agents_paired) & set(held_before)
        assert not set(entries_paired) & set(held_before.values())
        self.pairs_seen += len(got)

    def _model_route(self, queues: list[str]) -> list[tuple[int, str, str, float]]:
        """The rules, in plain Python: longest-idle eligible agent takes their oldest entry."""
        out = []
        while True:
            eligible = [a for a in AGENTS if self.state[a] == AVAILABLE
                        and any(self.waiting[q] and q in self.serves[a] for q in queues)]
            if not eligible:
                return out
            agent = min(eligible, key=lambda a: self.since[a])
            queue, entry_id, joined = min(
                ((q, e, j) for q in self.serves[agent] for e, j in self.waiting[q].items()),
                key=lambda item: item[2])
            del self.waiting[queue][entry_id]
            self.state[agent], self.since[agent] = BUSY, self.t
            self.holding[agent] = entry_id
            out.append((agent, entry_id, queue, joined))

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def lines_match_the_model_in_join_order(self) -> None:
        for q in QUEUES:
            live = cast("list[tuple[str, float]]",
                        self.r.zrange(keys.line(q), 0, -1, withscores=True))
            assert live == sorted(self.waiting[q].items(), key=lambda item: item[1])
            for entry_id, score in live:
                assert float(self.r.hget(keys.entry(entry_id), "joined")) == score

    @invariant()
    def agent_is_idle_iff_available(self) -> None:
        for a in AGENTS:
            assert self.presence.state(a) == self.state[a]
            for q in QUEUES:
                idle = self.r.zscore(keys.idle(q), a)
                should = self.state[a] == AVAILABLE and q in self.serves[a]
                assert (idle is not None) == should
                if should:
                    assert idle == self.since[a]
                staffed = bool(self.r.sismember(keys.staffed(q), a))
                assert staffed == (self.state[a] != OFFLINE and q in self.serves[a])

    @invariant()
    def each_entry_held_once_and_never_waiting_while_held(self) -> None:
        held = {a: self.presence.current_entry(a) for a in AGENTS}
        assert {a: e for a, e in held.items() if e} == self.holding
        assert len(set(self.holding.values())) == len(self.holding)
        waiting = [e for q in QUEUES for e in self.r.zrange(keys.line(q), 0, -1)]
        assert len(waiting) == len(set(waiting))
        assert not set(waiting) & set(self.holding.values())
        for a in AGENTS:
            assert (self.state[a] == BUSY) == (a in self.holding)


def test_any_sequence_of_joins_leaves_state_changes_and_routing_keeps_the_invariants(
        redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    totals = {"pairs": 0, "runs": 0}

    machines: list[LinesAndRouting] = []

    def machine() -> LinesAndRouting:
        machines.append(LinesAndRouting(r))
        totals["runs"] += 1
        return machines[-1]

    try:
        run_state_machine_as_test(machine, settings=settings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
            suppress_health_check=[HealthCheck.too_slow], derandomize=False))
    finally:
        r.flushdb()
        r.close()
    assert totals["runs"] >= EXAMPLES
    assert sum(m.pairs_seen for m in machines) >= 10  # routing really was exercised
    print(f"routing properties: {totals['runs']} sequences, "
          f"{sum(m.pairs_seen for m in machines)} pairings checked")


@pytest.mark.soak
def test_soak_many_more_sequences_keep_the_routing_invariants(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        run_state_machine_as_test(lambda: LinesAndRouting(r), settings=settings(
            max_examples=SOAK_EXAMPLES, stateful_step_count=80, deadline=None,
            suppress_health_check=[HealthCheck.too_slow]))
    finally:
        r.flushdb()
        r.close()


def test_an_entry_is_never_paired_with_its_sender_who_still_takes_the_next_one(
        redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    r.flushdb()
    try:
        presence, router = Presence(r), Router(r)
        lines.join(r, lines.Entry("i:1", "a", lines.CALLER, 10.0, "CA1", 1, sender=1))
        presence.set_state(1, AVAILABLE, 1.0, ["a"], (OFFLINE,))  # longest idle: the sender
        assert router.route(["a"], 100.0) == []
        assert presence.state(1) == AVAILABLE  # passed over, still idle
        lines.join(r, lines.Entry("i:2", "a", lines.CALLER, 20.0, "CA2", 2))
        first = router.route(["a"], 101.0)
        assert [(p.agent_id, p.entry_id) for p in first] == [(1, "i:2")]
        presence.set_state(2, AVAILABLE, 2.0, ["a"], (OFFLINE,))
        second = router.route(["a"], 102.0)
        assert [(p.agent_id, p.entry_id) for p in second] == [(2, "i:1")]
    finally:
        r.flushdb()
        r.close()

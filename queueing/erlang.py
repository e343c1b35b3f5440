"""Staffing maths: Erlang B, Erlang C and Erlang A (M/M/n+M), and the agent search.

Units: times in seconds, offered load in Erlangs (calls per second x average handle
time). Everything is pure Python on `math`; no factorials are formed, so agent counts in
the thousands are exact to floating-point precision.

Models
------
* Erlang C (M/M/n): callers wait as long as it takes. Needs more agents than the load.
* Erlang A (M/M/n+M, Palm): each waiting caller hangs up after an exponentially
  distributed patience with the given mean. Any agent count of 1 or more is stable.

Service level (one definition, used everywhere)
-----------------------------------------------
Service level is the share of *all offered calls* that are *answered* within
``within_seconds``. In counts:

    answered within T / offered            (offered = answered + abandoned)

A caller who hangs up counts as not met, even one who hangs up before T. Without
abandonment this is exactly the Erlang C service level. We chose it because it never
rewards losing callers: under the alternative "waited no longer than T, answered or
not", a queue whose callers hang up after one second meets 80/20 with a single agent
for 100 calls per half hour. The price is that Erlang A may ask for *more* agents than
Erlang C when the target needs callers to wait longer than they are willing to (high
targets, T close to the mean patience): then Erlang C's promise is simply not what
callers would get. For T up to half the mean patience and targets up to 95% Erlang A
asks for no more agents than Erlang C (tested). See docs/staffing.md.

Average speed of answer (ASA) is the mean wait of *answered* callers. Occupancy is the
carried load (answered calls x handle time) over agents.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

# Largest agent count the search will try before declaring the target unreachable.
MAX_AGENTS = 1_000_000
# Iteration cap for the incomplete-gamma series and continued fraction.
GAMMA_MAX_ITERATIONS = 1_000_000
# Relative precision at which the incomplete-gamma expansions stop.
GAMMA_EPSILON = 1e-16
# Terms of the queue-length distribution summed for the Erlang A speed of answer.
MAX_QUEUE_TERMS = 2_000_000
# Smallest positive float used to keep the continued fraction away from division by 0.
_TINY = 1e-300


class StaffingInputError(ValueError):
    """An input to the staffing maths that makes no sense; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class QueueMetrics:
    """How one staffing level performs for one interval."""

    probability_of_waiting: float
    service_level: float
    average_speed_of_answer: float
    occupancy: float
    abandonment: float | None = None
    """Share of offered callers who hang up while waiting (Erlang A only)."""


@dataclass(frozen=True)
class StaffingResult:
    """A staffing level for an interval and what callers and agents should expect."""

    agents: int
    agents_with_shrinkage: int
    offered_load_erlangs: float
    probability_of_waiting: float
    service_level: float
    average_speed_of_answer: float
    occupancy: float
    abandonment: float | None = None


# --- input checks -------------------------------------------------------------------


def _finite(field: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StaffingInputError(field, f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise StaffingInputError(field, f"must be finite, got {value!r}")
    return float(value)


def _positive(field: str, value: float) -> float:
    if _finite(field, value) <= 0:
        raise StaffingInputError(field, f"must be greater than 0, got {value!r}")
    return float(value)


def _non_negative(field: str, value: float) -> float:
    if _finite(field, value) < 0:
        raise StaffingInputError(field, f"must be 0 or more, got {value!r}")
    return float(value)


def _agent_count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StaffingInputError("agents", f"must be a whole number 0 or more, got {value!r}")
    return value


def _check_target(target: float) -> float:
    if not 0 < _finite("target", target) <= 1:
        raise StaffingInputError("target", f"must be in (0, 1], got {target!r}")
    return float(target)


def _check_shrinkage(shrinkage: float) -> float:
    if not 0 <= _finite("shrinkage", shrinkage) < 1:
        raise StaffingInputError("shrinkage", f"must be in [0, 1), got {shrinkage!r}")
    return float(shrinkage)


def _check_max_occupancy(max_occupancy: float | None) -> float | None:
    if max_occupancy is not None and not 0 < _finite("max_occupancy", max_occupancy) <= 1:
        raise StaffingInputError("max_occupancy", f"must be in (0, 1], got {max_occupancy!r}")
    return max_occupancy


def _check_patience(patience_seconds: float | None) -> float | None:
    return None if patience_seconds is None else _positive("patience_seconds", patience_seconds)


def _check_erlang_c_stable(agents: int, load: float) -> None:
    if load > 0 and agents <= load:
        raise StaffingInputError(
            "agents",
            f"{agents} agents cannot keep up with {load:.4g} Erlangs of offered load; "
            "Erlang C needs more agents than the load (give a patience for Erlang A)",
        )


# --- building blocks -------------------------------------------------------------------


def offered_load(calls: float, interval_seconds: float, aht_seconds: float) -> float:
    """The offered load in Erlangs: calls per second times average handle time."""
    calls = _non_negative("calls", calls)
    interval_seconds = _positive("interval_seconds", interval_seconds)
    return calls / interval_seconds * _positive("aht_seconds", aht_seconds)


def erlang_b(agents: int, load: float) -> float:
    """Erlang B: the share of calls blocked when `agents` serve `load` Erlangs, no queue."""
    agents, load = _agent_count(agents), _non_negative("load", load)
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def _erlang_c_from_b(agents: int, load: float, blocking: float) -> float:
    if load == 0:
        return 0.0
    return agents * blocking / (agents - load * (1.0 - blocking))


def erlang_c(agents: int, load: float) -> float:
    """Erlang C: the probability that a caller has to wait (agents must exceed load)."""
    agents, load = _agent_count(agents), _non_negative("load", load)
    _check_erlang_c_stable(agents, load)
    return _erlang_c_from_b(agents, load, erlang_b(agents, load))


def service_level(agents: int, load: float, aht_seconds: float, within_seconds: float) -> float:
    """Erlang C: the share of callers answered within `within_seconds`."""
    waiting = erlang_c(agents, load)
    rate = (agents - load) / _positive("aht_seconds", aht_seconds)
    return 1.0 - waiting * math.exp(-rate * _non_negative("within_seconds", within_seconds))


def average_speed_of_answer(agents: int, load: float, aht_seconds: float) -> float:
    """Erlang C: the mean wait in seconds over all callers (0 for those answered at once)."""
    waiting = erlang_c(agents, load)
    return waiting * _positive("aht_seconds", aht_seconds) / (agents - load) if load else 0.0


def occupancy(agents: int, load: float) -> float:
    """Erlang C: the share of signed-in agent time spent handling calls."""
    agents, load = _agent_count(agents), _non_negative("load", load)
    return load / agents if agents else 0.0


def _erlang_c_metrics(agents: int, load: float, aht: float, within: float) -> QueueMetrics:
    waiting = erlang_c(agents, load)
    return QueueMetrics(
        probability_of_waiting=waiting,
        service_level=service_level(agents, load, aht, within),
        average_speed_of_answer=average_speed_of_answer(agents, load, aht),
        occupancy=occupancy(agents, load),
    )


# --- Erlang A ----------------------------------------------------------------------------


def _log_gamma_series(a: float, z: float) -> float:
    """log P(a, z) by the power series (converges fast for z < a + 1)."""
    term = total = 1.0 / a
    for k in range(1, GAMMA_MAX_ITERATIONS):
        term *= z / (a + k)
        total += term
        if term < total * GAMMA_EPSILON:
            return -z + a * math.log(z) - math.lgamma(a) + math.log(total)
    raise ArithmeticError(f"incomplete gamma series did not converge for a={a}, z={z}")


def _log_upper_gamma_fraction(a: float, z: float) -> float:
    """log Q(a, z) by the Legendre continued fraction (modified Lentz; z >= a + 1)."""
    b = z + 1.0 - a
    c, d = 1.0 / _TINY, 1.0 / b
    h = d
    for i in range(1, GAMMA_MAX_ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        if abs(d * c - 1.0) < GAMMA_EPSILON:
            return -z + a * math.log(z) - math.lgamma(a) + math.log(h)
    raise ArithmeticError(f"incomplete gamma fraction did not converge for a={a}, z={z}")


def log_regularized_lower_gamma(a: float, z: float) -> float:
    """The natural log of P(a, z) = gamma(a, z) / Gamma(a), for a > 0 and z >= 0."""
    if z <= 0:
        return -math.inf
    if z < a + 1.0:
        return _log_gamma_series(a, z)
    return math.log1p(-math.exp(_log_upper_gamma_fraction(a, z)))


def _erlang_a_core(
    agents: int, load: float, aht: float, patience: float, blocking: float
) -> tuple[float, float, float, float]:
    """(P(wait), P(abandon), x, y) for M/M/n+M with x = n·mu/theta and y = lambda/theta."""
    x, y = agents * patience / aht, load * patience / aht
    log_j = y + math.lgamma(x + 1.0) - x * math.log(y) + log_regularized_lower_gamma(x, y)
    inverse_j = math.exp(-log_j)
    waiting = blocking / (blocking + (1.0 - blocking) * inverse_j)
    at_n = waiting * inverse_j  # probability that exactly n callers are in the system
    abandonment = waiting * (1.0 - x / y) + at_n * x / y
    return waiting, min(1.0, max(0.0, abandonment)), x, y


def _erlang_a_service_level(waiting: float, x: float, y: float, t_over_patience: float) -> float:
    """P(answered within T) over all offered calls, abandoners counting as not met."""
    log_p_x = log_regularized_lower_gamma(x, y)
    log_p_next = log_regularized_lower_gamma(x + 1.0, y)
    log_p_next_at_t = log_regularized_lower_gamma(x + 1.0, y * math.exp(-t_over_patience))
    # P(answered after waiting, within T | waited), from integrating the offered-wait density.
    share = x / y * math.exp(log_p_next - log_p_x) * -math.expm1(log_p_next_at_t - log_p_next)
    return min(1.0, max(0.0, 1.0 - waiting + waiting * share))


def _erlang_a_answered_wait(waiting: float, x: float, y: float, patience: float) -> float:
    """E[wait; answered] by summing over the queue a caller finds on arrival."""
    log_j = y + math.lgamma(x + 1.0) - x * math.log(y) + log_regularized_lower_gamma(x, y)
    log_weight, harmonic, total = 0.0, 0.0, 0.0
    for j in range(MAX_QUEUE_TERMS):
        if j:
            log_weight += math.log(y / (x + j))
        harmonic += 1.0 / (x + j + 1.0)
        term = math.exp(log_weight - log_j) * x / (x + j + 1.0) * harmonic
        total += term
        if j > y - x and term <= total * 1e-17:
            return waiting * patience * total
    raise ArithmeticError("queue too long to sum; patience is very long for this overload")


def _erlang_a_metrics(
    agents: int, load: float, times: tuple[float, float, float], blocking: float, asa: bool
) -> QueueMetrics:
    aht, patience, within = times
    if load == 0:
        return QueueMetrics(0.0, 1.0, 0.0, 0.0, 0.0)
    waiting, abandonment, x, y = _erlang_a_core(agents, load, aht, patience, blocking)
    answered_wait = _erlang_a_answered_wait(waiting, x, y, patience) if asa else math.nan
    answered = 1.0 - abandonment
    return QueueMetrics(
        probability_of_waiting=waiting,
        service_level=_erlang_a_service_level(waiting, x, y, within / patience),
        average_speed_of_answer=answered_wait / answered if answered > 0 else math.inf,
        occupancy=min(1.0, load * answered / agents),
        abandonment=abandonment,
    )


def erlang_a(
    agents: int, load: float, aht_seconds: float, patience_seconds: float, within_seconds: float
) -> QueueMetrics:
    """Erlang A (M/M/n+M): waiting, abandonment, service level, ASA and occupancy."""
    agents, load = _agent_count(agents), _non_negative("load", load)
    if agents == 0 and load > 0:
        raise StaffingInputError("agents", "at least one agent is needed to answer any call")
    times = (
        _positive("aht_seconds", aht_seconds),
        _positive("patience_seconds", patience_seconds),
        _non_negative("within_seconds", within_seconds),
    )
    return _erlang_a_metrics(agents, load, times, erlang_b(agents, load), asa=True)


# --- search and the public staffing API --------------------------------------------------


def _blocking_from(start: int, load: float) -> Iterator[tuple[int, float]]:
    """(n, Erlang B(n, load)) for n = start, start + 1, ... up to MAX_AGENTS."""
    blocking = erlang_b(start, load)
    for n in range(start, MAX_AGENTS + 1):
        if n > start:
            blocking = load * blocking / (n + load * blocking)
        yield n, blocking


def _first_agents(load: float, patience: float | None, max_occupancy: float | None) -> int:
    if patience is not None:
        return 1
    lowest = math.floor(load) + 1
    if max_occupancy is not None:
        lowest = max(lowest, math.ceil(load / max_occupancy - 1e-12))
    return lowest


def _meets(
    n: int,
    load: float,
    times: tuple[float, float | None, float],
    blocking: float,
    goal: tuple[float, float | None],
) -> bool:
    aht, patience, within = times
    target, max_occupancy = goal
    if patience is None:
        waiting = _erlang_c_from_b(n, load, blocking)
        level = 1.0 - waiting * math.exp(-(n - load) / aht * within)
        busy = load / n
    else:
        metrics = _erlang_a_metrics(n, load, (aht, patience, within), blocking, asa=False)
        level, busy = metrics.service_level, metrics.occupancy
    return level >= target and (max_occupancy is None or busy <= max_occupancy + 1e-12)


def agents_needed(
    calls: float,
    interval_seconds: float,
    aht_seconds: float,
    target: float,
    within_seconds: float,
    patience_seconds: float | None = None,
    max_occupancy: float | None = None,
) -> int:
    """The fewest agents whose service level meets `target` (and occupancy the cap).

    Erlang C without `patience_seconds`, Erlang A with it. No calls need no agents.
    """
    load = offered_load(calls, interval_seconds, aht_seconds)
    goal = (_check_target(target), _check_max_occupancy(max_occupancy))
    within = _non_negative("within_seconds", within_seconds)
    times = (float(aht_seconds), _check_patience(patience_seconds), within)
    if load == 0:
        return 0
    start = _first_agents(load, times[1], goal[1])
    if start > MAX_AGENTS:
        raise StaffingInputError("calls", f"the load needs more than {MAX_AGENTS} agents")
    for n, blocking in _blocking_from(start, load):
        if _meets(n, load, times, blocking, goal):
            return n
    raise StaffingInputError("target", f"not reachable with up to {MAX_AGENTS} agents")


def with_shrinkage(agents: int, shrinkage: float) -> int:
    """Agents to schedule so that `agents` remain after breaks, training and absence."""
    shrinkage = _check_shrinkage(shrinkage)
    # Round away float noise first: 14 / 0.7 is 20.000000000000004, and needs 20.
    return math.ceil(round(_agent_count(agents) / (1.0 - shrinkage), 9))


def evaluate(
    calls: float,
    interval_seconds: float,
    aht_seconds: float,
    agents: int,
    within_seconds: float,
    patience_seconds: float | None = None,
    shrinkage: float = 0.0,
) -> StaffingResult:
    """How `agents` would perform for this interval (Erlang C, or Erlang A with patience)."""
    load = offered_load(calls, interval_seconds, aht_seconds)
    agents, patience = _agent_count(agents), _check_patience(patience_seconds)
    scheduled = with_shrinkage(agents, shrinkage)
    if patience is None:
        _check_erlang_c_stable(agents, load)
        metrics = _erlang_c_metrics(agents, load, aht_seconds, within_seconds)
    else:
        metrics = erlang_a(agents, load, aht_seconds, patience, within_seconds)
    return StaffingResult(
        agents=agents,
        agents_with_shrinkage=scheduled,
        offered_load_erlangs=load,
        probability_of_waiting=metrics.probability_of_waiting,
        service_level=metrics.service_level,
        average_speed_of_answer=metrics.average_speed_of_answer,
        occupancy=metrics.occupancy,
        abandonment=metrics.abandonment,
    )


def recommend(
    calls: float,
    interval_seconds: float,
    aht_seconds: float,
    target: float,
    within_seconds: float,
    patience_seconds: float | None = None,
    max_occupancy: float | None = None,
    shrinkage: float = 0.0,
) -> StaffingResult:
    """The smallest staffing that meets the target, with its expected performance."""
    _check_shrinkage(shrinkage)
    agents = agents_needed(
        calls, interval_seconds, aht_seconds, target, within_seconds,
        patience_seconds, max_occupancy,
    )
    return evaluate(
        calls, interval_seconds, aht_seconds, agents, within_seconds, patience_seconds, shrinkage
    )

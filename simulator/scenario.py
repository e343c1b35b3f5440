"""A day of virtual customers and agents, read from a TOML scenario file.

Callers arrive as a Poisson process whose rate is set per interval (30 minutes by
default), choose a queue at the menu, and hang up when their patience runs out; agents
serve their queues during their shifts for a sampled handle time, then wrap up.

    name = "Steady morning"
    start = 2026-11-16T08:00:00        # local time in `time_zone`; a weekday
    time_zone = "America/New_York"
    interval_minutes = 30
    arrivals = [60, 62, 64]            # expected calls in each interval
    wrap_up_seconds = 30
    seed = 7
    callback_share = 0.3               # of callers offered a callback who take it (default 0)
    opt_out_share = 0.1                # of callers who texted STOP to our number before the
                                       # day (opted out of texts; default 0)
    refused_number_share = 0.1         # of callers whose number Twilio will not call (21217)
    calls_per_second = 1               # the account's CPS at the stand-in (Twilio's default 1)
    app_calls_per_second = 2           # the rate Holdless dials at (TWILIO_CALLS_PER_SECOND;
                                       # default calls_per_second): above the account's, the
                                       # excess waits in Twilio's queue
    machine_share = 0.2                # of callback takers whose phone a voicemail or fax
                                       # answers when called back (default 0)
    patience = { kind = "exponential", mean = 300 }
    handle_time = { kind = "lognormal", mean = 240, sigma = 0.5 }
    [[queues]]
    slug = "support"
    name = "Support"
    digit = "2"
    share = 0.6                        # of callers who press this queue's digit
    [[agents]]
    username = "sam"                   # with count = N: sam1 … samN
    count = 3
    queues = ["support"]
    shifts = [["08:00", "12:00"]]      # optional: local times signed in (default all day)
    refused = 21215                    # optional: Twilio refuses to ring this agent's phone
    voicemail = true                   # optional: this agent's phone is answered by voicemail
"""

from __future__ import annotations

import math
import random
import tomllib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from simulator import phrases
from simulator.rest import CALLER_ID_REFUSALS, DIAL_REFUSALS

DISTRIBUTIONS = ("fixed", "exponential", "lognormal", "uniform")
# What answers a callback taker's phone when it is not the customer: voicemail greetings
# ending each way Twilio's detection reports (machine_end_beep, _silence, _other) and a fax.
MACHINE_ANSWERS = ("machine_end_beep", "machine_end_silence", "machine_end_other", "fax")
# Twilio accounts may be raised above the default 1 call per second, never to unlimited:
# a scenario's calls_per_second lies in (0, MAX_CALLS_PER_SECOND].
MAX_CALLS_PER_SECOND = 100.0
# Twilio's refusals of a call for its `To` number (an agent's phone it will not ring).
NUMBER_REFUSALS = frozenset(DIAL_REFUSALS) - CALLER_ID_REFUSALS


class ScenarioError(ValueError):
    """The scenario file is malformed; the message says where."""


@dataclass(frozen=True)
class Distribution:
    """A positive random duration in seconds: its kind, mean and spread."""

    kind: str
    mean: float
    sigma: float = 0.5
    """lognormal: standard deviation of the log; uniform: half-width as a share of the mean."""

    def sample(self, rng: random.Random) -> float:
        """One draw (seconds, never negative)."""
        if self.kind == "fixed":
            return self.mean
        if self.kind == "exponential":
            return rng.expovariate(1.0 / self.mean)
        if self.kind == "lognormal":
            mu = math.log(self.mean) - self.sigma ** 2 / 2
            return rng.lognormvariate(mu, self.sigma)
        return max(0.0, rng.uniform(self.mean * (1 - self.sigma), self.mean * (1 + self.sigma)))


@dataclass(frozen=True)
class QueueSpec:
    """A queue of the scenario and the share of callers who choose it."""

    slug: str
    name: str
    digit: str | None
    share: float


@dataclass(frozen=True)
class AgentSpec:
    """One virtual agent: the queues served and when signed in (seconds from the start)."""

    username: str
    queues: tuple[str, ...]
    shifts: tuple[tuple[float, float], ...]
    handle_time: Distribution | None = None
    # Twilio's error code when asked to ring this agent (their phone is one the account
    # may not call, e.g. 21215 geo permissions); None: rung in the browser as usual.
    refused: int | None = None
    # Their phone is answered by voicemail whenever it rings (it never presses the key
    # that accepts a caller).
    voicemail: bool = False

    @property
    def contact(self) -> str:
        """How Holdless rings the agent: a phone number when Twilio refuses it or a
        voicemail answers it, else the browser client."""
        if self.refused is None and not self.voicemail:
            return f"client:{self.username}"
        return f"+336{zlib.crc32(self.username.encode()) % 10 ** 8:08d}"


@dataclass(frozen=True)
class PlannedCall:
    """A caller of the day: when they ring (seconds from the start), from which number,
    the menu key they press (None: no menu choice), their patience, and whether they take a
    callback when offered one (then they answer when called back, unless a machine does),
    and whether they opted out of texts before the day."""

    at: float
    number: str
    digit: str | None
    patience: float
    takes_callback: bool = False
    opted_out: bool = False
    # When called back, what answers instead of the customer (one of MACHINE_ANSWERS), or
    # "" when the customer does.
    machine: str = ""


@dataclass(frozen=True)
class Scenario:
    """Everything a simulated day needs."""

    name: str
    start: datetime
    interval_seconds: float
    arrivals: tuple[float, ...]
    queues: tuple[QueueSpec, ...]
    agents: tuple[AgentSpec, ...]
    patience: Distribution
    handle_time: Distribution
    wrap_up_seconds: int
    seed: int
    time_zone: str = "America/New_York"
    callback_share: float = 0.0
    opt_out_share: float = 0.0
    # Of callers whose number Twilio refuses to call back (21217): their callbacks end
    # unreachable at once. The account's calls per second (Twilio's default 1): the
    # stand-in queues calls created faster.
    refused_number_share: float = 0.0
    calls_per_second: float = 1.0
    machine_share: float = 0.0
    # The rate Holdless itself paces dials at (its TWILIO_CALLS_PER_SECOND); None: the
    # account's calls_per_second.
    app_calls_per_second: float | None = None
    # The language of the line and of its callers (they listen for its words).
    language: str = "en-US"

    @property
    def dial_rate(self) -> float:
        """The calls per second Holdless is configured to dial at."""
        return self.app_calls_per_second or self.calls_per_second

    @property
    def zone(self) -> ZoneInfo:
        """The scenario's local time zone (agents' shifts, the report's clock times)."""
        return ZoneInfo(self.time_zone)

    @property
    def duration(self) -> float:
        """Seconds from the first interval's start to the last one's end."""
        return self.interval_seconds * len(self.arrivals)

    def plan(self) -> list[PlannedCall]:
        """The day's callers in order of arrival (the same list for the same seed)."""
        rng = random.Random(self.seed)
        choosy = random.Random(self.seed + 2)  # its own draws: the arrivals stay as they were
        texting = random.Random(self.seed + 3)  # likewise for opting out of texts
        machines = random.Random(self.seed + 4)  # and for machines answering callbacks
        calls: list[PlannedCall] = []
        for index, rate in enumerate(self.arrivals):
            begin = index * self.interval_seconds
            at = begin
            while rate > 0:
                at += rng.expovariate(rate / self.interval_seconds)
                if at >= begin + self.interval_seconds:
                    break
                calls.append(PlannedCall(at, _number(rng), self._choice(rng),
                                         self.patience.sample(rng),
                                         choosy.random() < self.callback_share,
                                         texting.random() < self.opt_out_share,
                                         self._machine(machines)))
        return calls

    def _machine(self, rng: random.Random) -> str:
        """What answers this caller's phone when called back ("": the customer)."""
        draw, kind = rng.random(), rng.choice(MACHINE_ANSWERS)
        return kind if draw < self.machine_share else ""

    def without_faults(self) -> Scenario:
        """The same day (the same callers, agents and shifts) with none of Twilio's faults:
        no refused numbers or phones, no machines or voicemails answering, nobody opted out
        of texts, and no calls-per-second queue to speak of."""
        agents = tuple(replace(a, refused=None, voicemail=False) for a in self.agents)
        return replace(self, name=f"{self.name} (faults off)", agents=agents,
                       refused_number_share=0.0, machine_share=0.0, opt_out_share=0.0,
                       calls_per_second=MAX_CALLS_PER_SECOND,
                       app_calls_per_second=MAX_CALLS_PER_SECOND)

    def _choice(self, rng: random.Random) -> str | None:
        menu = [q for q in self.queues if q.digit]
        if len(menu) < 2:
            return None
        return rng.choices([q.digit for q in menu], [q.share for q in menu])[0]


def _number(rng: random.Random) -> str:
    return f"+1212{rng.randint(2_000_000, 9_999_999)}"


def load(path: str | Path) -> Scenario:
    """Read and check a scenario file."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    return parse(raw, str(path))


def parse(raw: dict[str, Any], where: str = "scenario") -> Scenario:
    """A Scenario from the parsed TOML table."""
    zone = ZoneInfo(str(raw.get("time_zone", "America/New_York")))
    start = _start(raw.get("start"), zone, where)
    arrivals = tuple(float(x) for x in _required(raw, "arrivals", where))
    if not arrivals or any(x < 0 for x in arrivals):
        raise ScenarioError(f"{where}: arrivals must be a list of expected calls per interval")
    queues = tuple(_queue(q, where) for q in _required(raw, "queues", where))
    known = {q.slug for q in queues}
    agents = tuple(a for spec in _required(raw, "agents", where)
                   for a in _agents(spec, start.astimezone(zone), known, where))
    return Scenario(
        name=str(raw.get("name", Path(where).stem)), start=start,
        interval_seconds=60.0 * float(raw.get("interval_minutes", 30)), arrivals=arrivals,
        queues=queues, agents=agents,
        patience=_distribution(raw.get("patience", {"kind": "exponential", "mean": 300}),
                               where, "patience"),
        handle_time=_distribution(raw.get("handle_time", {"kind": "lognormal", "mean": 240}),
                                  where, "handle_time"),
        wrap_up_seconds=int(raw.get("wrap_up_seconds", 30)), seed=int(raw.get("seed", 1)),
        time_zone=zone.key, callback_share=_share(raw, "callback_share", where),
        opt_out_share=_share(raw, "opt_out_share", where),
        refused_number_share=_share(raw, "refused_number_share", where),
        calls_per_second=_calls_per_second(raw, "calls_per_second", where),
        app_calls_per_second=(_calls_per_second(raw, "app_calls_per_second", where)
                              if "app_calls_per_second" in raw else None),
        machine_share=_share(raw, "machine_share", where),
        language=_language(raw, where),
    )


def _language(raw: dict[str, Any], where: str) -> str:
    try:
        return phrases.check(str(raw.get("language", phrases.DEFAULT_LANGUAGE)))
    except phrases.UnknownLanguage as exc:
        raise ScenarioError(f"{where}: {exc}") from exc


def _calls_per_second(raw: dict[str, Any], key: str, where: str) -> float:
    cps = float(raw.get(key, 1.0))
    if not 0.0 < cps <= MAX_CALLS_PER_SECOND:
        raise ScenarioError(f"{where}: {key} is a rate above 0 and at most "
                            f"{MAX_CALLS_PER_SECOND:g} calls per second")
    return cps


def _share(raw: dict[str, Any], key: str, where: str) -> float:
    share = float(raw.get(key, 0.0))
    if not 0.0 <= share <= 1.0:
        raise ScenarioError(f"{where}: {key} is a share between 0 and 1")
    return share


def _required(raw: dict[str, Any], key: str, where: str) -> Any:
    if key not in raw:
        raise ScenarioError(f"{where}: {key!r} is missing")
    return raw[key]


def _start(value: Any, zone: ZoneInfo, where: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(8))
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    elif value is None:
        moment = datetime.combine(date(2026, 11, 16), time(8))
    else:
        raise ScenarioError(f"{where}: start must be a local date-time like 2026-11-16T08:00:00")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _distribution(raw: Any, where: str, name: str) -> Distribution:
    if not isinstance(raw, dict) or raw.get("kind") not in DISTRIBUTIONS:
        raise ScenarioError(f"{where}: {name} needs kind = one of {', '.join(DISTRIBUTIONS)}")
    mean = float(raw.get("mean", 0))
    if mean <= 0:
        raise ScenarioError(f"{where}: {name} needs a positive mean (seconds)")
    return Distribution(str(raw["kind"]), mean, float(raw.get("sigma", 0.5)))


def _queue(raw: dict[str, Any], where: str) -> QueueSpec:
    try:
        return QueueSpec(str(raw["slug"]), str(raw.get("name", raw["slug"])),
                         str(raw["digit"]) if raw.get("digit") is not None else None,
                         float(raw.get("share", 1.0)))
    except KeyError as exc:
        raise ScenarioError(f"{where}: every queue needs a slug") from exc


def _agents(raw: dict[str, Any], start: datetime, known: set[str],
            where: str) -> list[AgentSpec]:
    username = str(_required(raw, "username", where))
    queues = tuple(str(q) for q in _required(raw, "queues", where))
    if not queues or set(queues) - known:
        raise ScenarioError(f"{where}: agent {username} serves unknown queues {queues}")
    shifts = tuple(_shift(pair, start, where) for pair in raw.get("shifts", ()))
    handle = raw.get("handle_time")
    handle_time = _distribution(handle, where, f"{username}.handle_time") if handle else None
    count = int(raw.get("count", 1))
    names = [username] if count == 1 else [f"{username}{n}" for n in range(1, count + 1)]
    refused = int(raw["refused"]) if "refused" in raw else None
    if refused is not None and refused not in NUMBER_REFUSALS:
        raise ScenarioError(f"{where}: agent {username}'s refused is one of Twilio's codes "
                            f"for a number it will not call: {sorted(NUMBER_REFUSALS)}")
    voicemail = raw.get("voicemail", False)
    if not isinstance(voicemail, bool):
        raise ScenarioError(f"{where}: agent {username}'s voicemail is true or false")
    return [AgentSpec(name, queues, shifts or ((0.0, math.inf),), handle_time, refused,
                      voicemail) for name in names]


def _shift(pair: Sequence[str], start: datetime, where: str) -> tuple[float, float]:
    """A shift ["HH:MM", "HH:MM"] (local wall times on the start's day) as offsets in seconds."""
    if len(pair) != 2:
        raise ScenarioError(f"{where}: a shift is [\"HH:MM\", \"HH:MM\"]")
    try:
        begin, end = (datetime.combine(start.date(), time.fromisoformat(t), start.tzinfo)
                      for t in pair)
    except ValueError as exc:
        raise ScenarioError(f"{where}: shift times are HH:MM, not {pair}") from exc
    if end <= begin:
        raise ScenarioError(f"{where}: a shift must end after it starts: {pair}")
    return ((begin - start).total_seconds(), (end - start).total_seconds())


__all__ = ["AgentSpec", "Distribution", "PlannedCall", "QueueSpec", "Scenario", "ScenarioError",
           "load", "parse"]

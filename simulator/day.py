"""A simulated day through the real stack: `python -m simulator SCENARIO`.

The day driver starts what `holdless run` starts (embedded Redis, a fresh SQLite file,
migrations, the Procfile's web process) plus job workers, all on one compressed clock
(HOLDLESS_CLOCK, a ScaledClock), and the Twilio stand-in with a phone network running
at the same speed. It seeds the scenario's queues and agents, places the day's calls,
signs agents in and out on their shifts, shows progress, and leaves the database for
`simulator.report` to read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Protocol

import requests
from rq.registry import StartedJobRegistry
from sqlalchemy import select

from admin import directory
from entrypoints.runtime import Runtime
from entrypoints.supervisor import procfile
from holdless import clock
from holdless.embedded import EmbeddedRedis
from holdless.migrate import upgrade
from holdless.settings import DEVELOPMENT, Settings, parse_sentinels
from models.callbacks import OPEN_STATUSES, Callback
from queueing import agents, dispatch
from queueing.presence import AVAILABLE, OFFLINE, WRAP_UP, StateRefused
from simulator import phrases, report, strict
from simulator.call import VirtualCall
from simulator.endpoints import Answer, GatherPrompt
from simulator.engine import PhoneNetwork
from simulator.report import DayReport
from simulator.rest import TwilioRestStandIn
from simulator.scenario import AgentSpec, PlannedCall, Scenario
from simulator.webhooks import AppClient, WebhookError

# How long the stack's web process may take to answer its first request (migrations and
# gunicorn's boot; a loaded 2-core machine took over 20 s).
WEB_START_TIMEOUT_SECONDS = 60.0

log = logging.getLogger(__name__)

ACCOUNT_SID = "AC" + "5" * 32
OUR_NUMBER = "+12125550000"
# Twilio's code for a number it will not call (docs/api/errors/21217), and the offset of the
# seed that picks the scenario's refused callers' numbers (its own draw, so the calls'
# plan does not change with the share).
INVALID_NUMBER = 21217
REFUSED_NUMBERS_SEED = 2113
ROOT = Path(__file__).resolve().parent.parent
# Real seconds between starting the processes and the first second of the day.
STARTUP_GRACE = 8.0
# Virtual seconds one turn of hold music lasts (the hold loop's update interval).
HOLD_MUSIC_SECONDS = 45.0
# Virtual seconds after the last interval to let callers still holding be served.
DRAIN_LIMIT = 3600.0
# Virtual seconds before trying again to sign out an agent who is on a call.
SIGN_OUT_RETRY = 15.0

Echo = Callable[[str], None]


class LiveStore(Protocol):
    """A Redis server the stack runs on: where to reach it, and how to stop it."""

    @property
    def url(self) -> str:
        """The URL every process connects with."""

    def stop(self) -> None:
        """Stop the server."""


def live_environment(store: LiveStore) -> dict[str, str]:
    """What the stack's processes are told of the live store: REDIS_URL, or (a store run
    under Sentinel, with `sentinels` and `master_name`) REDIS_SENTINELS, REDIS_MASTER_NAME
    and its REDIS_WAIT_REPLICAS."""
    sentinels = getattr(store, "sentinels", "")
    if not sentinels:
        return {"REDIS_URL": store.url}
    return {"REDIS_URL": "", "REDIS_SENTINELS": sentinels,
            "REDIS_MASTER_NAME": getattr(store, "master_name", ""),
            "REDIS_WAIT_REPLICAS": str(getattr(store, "wait_replicas", 0))}


def embedded_redis(folder: Path) -> LiveStore:
    """The default live store of a simulated day: the embedded Redis server."""
    return EmbeddedRedis(folder)


# Something done to the stack `at` virtual seconds into the day (a fault, say), in a thread
# of its own so the day goes on meanwhile.
Disruption = tuple[float, Callable[[], None]]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DayStack:
    """The processes of a simulated day and how to reach them."""

    folder: Path
    speed: float
    wrap_up_seconds: int
    day_start: float
    web_workers: int = 2
    web_threads: int = 4
    job_workers: int = 2
    grace: float = STARTUP_GRACE
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)
    redis: LiveStore | None = None
    redis_factory: Callable[[Path], LiveStore] = embedded_redis
    database_url: str = ""
    """The stack's database (a fresh SQLite file under the folder when empty)."""
    standin: TwilioRestStandIn | None = None
    rt: Runtime | None = None
    clock: clock.ScaledClock | None = None
    calls_per_second: float = 1.0
    """The rate Holdless dials at (its TWILIO_CALLS_PER_SECOND)."""

    @property
    def base_url(self) -> str:
        """The web process's URL, also the public URL webhooks are signed for."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DayStack:
        """Start Redis, the stand-in, migrate a fresh database, start web and workers."""
        instance = self.folder / "sim-instance"
        shutil.rmtree(instance, ignore_errors=True)
        (instance / "logs").mkdir(parents=True)
        self.redis = self.redis_factory(instance / "redis")
        self.standin = TwilioRestStandIn(account_sid=ACCOUNT_SID, auth_token=self.token).start()
        self.clock = clock.ScaledClock(self.day_start, time.time() + self.grace, self.speed)
        settings = self._settings(instance)
        upgrade(settings.database_url)
        clock.use(self.clock)
        self.rt = Runtime(settings)
        env = self._environment(settings)
        self._spawn("web", procfile()["web"], env, shell=True)
        for n in range(self.job_workers):
            self._spawn(f"worker-{n + 1}", f"{sys.executable} -m simulator.worker", env)
        self._wait_for_web()
        self._warm_up()
        return self

    def _warm_up(self, rounds: int = 2) -> None:
        """Send each web worker thread its slow first requests before the day starts:
        a hold-loop turn and a status callback for an unknown call change nothing."""
        client = AppClient(self.base_url, self.token)

        def touch(n: int) -> None:
            form = {"CallSid": f"CA{n:032x}", "AccountSid": ACCOUNT_SID, "From": OUR_NUMBER,
                    "To": OUR_NUMBER, "CallStatus": "completed", "Direction": "inbound"}
            for path in ("/voice/hold", "/voice/status"):
                with contextlib.suppress(WebhookError):  # the unknown call's 404 is expected
                    client.send(f"{self.base_url}{path}", form)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(touch, range(rounds * self.web_workers * self.web_threads)))

    def _settings(self, instance: Path) -> Settings:
        assert self.redis is not None and self.standin is not None and self.clock is not None
        live = live_environment(self.redis)
        return Settings(env=DEVELOPMENT, secret_key=secrets.token_hex(16),
                        database_url=self.database_url or f"sqlite:///{instance / 'holdless.db'}",
                        redis_url=live["REDIS_URL"], instance_path=str(instance),
                        redis_sentinels=parse_sentinels(live.get("REDIS_SENTINELS", "")),
                        redis_master_name=live.get("REDIS_MASTER_NAME", "holdless"),
                        redis_wait_replicas=int(live.get("REDIS_WAIT_REPLICAS", "0")),
                        public_base_url=self.base_url, twilio_account_sid=ACCOUNT_SID,
                        twilio_auth_token=self.token, twilio_api_base_url=self.standin.base_url,
                        wrap_up_seconds=self.wrap_up_seconds, clock=self.clock.spec(),
                        twilio_calls_per_second=self.calls_per_second)

    def _environment(self, settings: Settings) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        return {
            **os.environ, "HOLDLESS_ENV": settings.env, "SECRET_KEY": settings.secret_key,
            "DATABASE_URL": settings.database_url, **live_environment(self.redis),
            "HOLDLESS_INSTANCE_PATH": settings.instance_path,
            "PUBLIC_BASE_URL": settings.public_base_url,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": self.token,
            "TWILIO_API_BASE_URL": settings.twilio_api_base_url,
            "HOLDLESS_CLOCK": settings.clock,
            "HOLDLESS_WRAP_UP_SECONDS": str(self.wrap_up_seconds),
            "TWILIO_CALLS_PER_SECOND": repr(self.calls_per_second),
            "HOST": "127.0.0.1", "PORT": str(self.port),
            "WEB_CONCURRENCY": str(self.web_workers), "WEB_THREADS": str(self.web_threads),
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        }

    def _spawn(self, name: str, command: str, env: dict[str, str], shell: bool = False) -> None:
        logfile = (self.folder / "sim-instance" / "logs" / f"{name}.log").open("wb")
        self.logs.append(logfile)
        args: str | list[str] = command if shell else command.split()
        self.processes.append(subprocess.Popen(args, shell=shell, env=env, cwd=ROOT,
                                               stdout=logfile, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def _wait_for_web(self, timeout: float = WEB_START_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.processes):
                logs = self.folder / "sim-instance" / "logs"
                raise RuntimeError(f"a process of the stack exited; see {logs}")
            try:
                requests.get(self.base_url + "/", timeout=0.5).close()
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"the web process did not answer within {timeout:.0f}s")

    def stop(self) -> None:
        """Stop every process and server this stack started."""
        for proc in self.processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        for logfile in self.logs:
            logfile.close()
        if self.rt is not None:
            self.rt.close()
        if self.standin is not None:
            self.standin.stop()
        if self.redis is not None:
            self.redis.stop()

    def __enter__(self) -> DayStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def seed_directory(rt: Runtime, scenario: Scenario) -> dict[str, int]:
    """Create the scenario's queues and agents; returns agent ids by username."""
    with rt.db.session() as s:
        for q in scenario.queues:
            queue = directory.create_queue(s, q.slug, q.name, q.digit)
            queue.language = scenario.language  # the scenario's callers speak it
        made = {a.username: directory.create_agent(s, a.username.title(), a.username,
                                                   a.contact, list(a.queues))
                for a in scenario.agents}
        s.flush()
        return {name: agent.id for name, agent in made.items()}


@dataclass(order=True)
class ShiftEvent:
    """An agent signing in (`on`) or out at `at` virtual seconds from the start."""

    at: float
    username: str = field(compare=False)
    on: bool = field(compare=False)


def shift_events(scenario: Scenario) -> list[ShiftEvent]:
    """Every sign-in and sign-out of the day, in time order."""
    events = []
    for agent in scenario.agents:
        for begin, end in agent.shifts:
            events.append(ShiftEvent(begin, agent.username, True))
            if end < scenario.duration:
                events.append(ShiftEvent(end, agent.username, False))
    return sorted(events)


# Virtual seconds an agent's phone rings before they pick up.
AGENT_ANSWER_AFTER = 3.0


class DayRun:
    """Places the day's calls and signs agents in and out, on the stack's clock."""

    def __init__(self, stack: DayStack, scenario: Scenario, echo: Echo = print,
                 progress_every: float = 2.0, disruptions: Sequence[Disruption] = ()) -> None:
        """Prepare to run `scenario` on a started stack; progress lines go to `echo`."""
        self.stack, self.scenario, self.echo = stack, scenario, echo
        self.progress_every = progress_every
        self.disruptions = sorted(disruptions, key=lambda d: d[0])
        self._callbacks_checked = (0.0, False)
        self.rng = random.Random(scenario.seed + 1)
        self.agent_ids: dict[str, int] = {}
        self.calls: list[VirtualCall] = []
        self.network_calls: list[VirtualCall] = []
        """Every leg the network carried (callers and agents), for error counts."""
        self.ended_at = scenario.duration
        self.opted_out: set[str] = set()
        """The numbers that texted STOP before the day."""
        self.network_offset = 0.0
        """The day's virtual seconds when the phone network's clock read 0."""

    @property
    def rt(self) -> Runtime:
        """The driver's runtime on the stack."""
        assert self.stack.rt is not None
        return self.stack.rt

    def now(self) -> float:
        """Virtual seconds since the day started (negative before)."""
        return self.rt.clock.time() - self.scenario.start.timestamp()

    def run(self) -> None:
        """Seed the directory, wait for the day to start, run it, let the jobs settle."""
        self.agent_ids = seed_directory(self.rt, self.scenario)
        plan, events = self.scenario.plan(), shift_events(self.scenario)
        while events and events[0].at <= 0:  # signed in before the first call rings
            self._shift(events, events.pop(0))
        while self.now() < 0:
            time.sleep(0.01)
        if self.now() > 60:
            self.echo(f"warning: the stack came up {self.now():.0f} virtual seconds after the "
                      "day began; the first calls ring late")
        assert self.stack.standin is not None
        network = PhoneNetwork(self.stack.base_url, self.stack.token, self.stack.standin,
                               speed=self.stack.speed, play_seconds=HOLD_MUSIC_SECONDS,
                               hold_music_seconds=HOLD_MUSIC_SECONDS)
        self.network_offset = self.now() - network.clock.now()
        for agent in self.scenario.agents:
            network.register_endpoint(agent.contact, self._answer_rule(agent))
        self._refusals(network, plan)
        self._opt_out(network, plan)
        try:
            self._loop(network, plan, events)
        finally:
            network.close(timeout=10)
            self.network_calls = list(network.calls.values())
        self._settle()  # jobs may still send texts: their status callbacks come after
        network.wait_for_deliveries()

    def rang(self) -> dict[str, datetime]:
        """Each leg the network rang: its sid and the moment (on the day's clock) it rang."""
        start = self.scenario.start
        return {c.sid: start + timedelta(seconds=self.network_offset + c.state.rang_at)
                for c in self.network_calls if c.state.rang_at is not None}

    def _refusals(self, network: PhoneNetwork, plan: list[PlannedCall]) -> None:
        """The account as the scenario sets it at Twilio: its calls per second, the agents'
        phones it may not ring, and the callers' numbers it refuses to call (21217)."""
        network.calls_per_second = self.scenario.calls_per_second
        standin = network.rest
        for agent in self.scenario.agents:
            if agent.refused is not None:
                standin.refuse(agent.contact, agent.refused)
        refusing = random.Random(self.scenario.seed + REFUSED_NUMBERS_SEED)
        for number in sorted({p.number for p in plan}):
            if refusing.random() < self.scenario.refused_number_share:
                standin.refuse(number, INVALID_NUMBER)

    def _opt_out(self, network: PhoneNetwork, plan: list[PlannedCall]) -> None:
        """The callers who opted out of texts text STOP to the number our texts come from,
        through Twilio (which blocks them and forwards the keyword to the app)."""
        sender = self.rt.settings.twilio_caller_id
        for number in sorted({p.number for p in plan if p.opted_out}):
            network.send_sms(number, sender, "STOP")
            self.opted_out.add(number)

    def _answer_rule(self, agent: AgentSpec) -> Callable[[VirtualCall], Answer]:
        handle = agent.handle_time or self.scenario.handle_time

        def answer(call: VirtualCall) -> Answer:
            if agent.voicemail:  # their voicemail picks up, and never accepts a caller
                return Answer.machine(after=AGENT_ANSWER_AFTER)
            call.talk_time = handle.sample(self.rng)
            return Answer.human(after=AGENT_ANSWER_AFTER)

        return answer

    def _loop(self, network: PhoneNetwork, plan: list[PlannedCall],
              events: list[ShiftEvent]) -> None:
        total, placed = len(plan), 0
        next_progress = time.monotonic()
        while True:
            now = self.now()
            while placed < total and plan[placed].at <= now:
                self._place(network, plan[placed])
                placed += 1
            while events and events[0].at <= now:
                self._shift(events, events.pop(0))
            while self.disruptions and self.disruptions[0][0] <= now:
                threading.Thread(target=self.disruptions.pop(0)[1], daemon=True,
                                 name="disruption").start()
            if time.monotonic() >= next_progress:
                self.echo(self._progress(network, placed, total))
                next_progress += self.progress_every
            if placed == total and self._day_over(now):
                break
            time.sleep(0.005)
        self.ended_at = self.now()
        self.echo(self._progress(network, placed, total))

    def _day_over(self, now: float) -> bool:
        if now < self.scenario.duration:
            return False
        if now > self.scenario.duration + DRAIN_LIMIT:
            return True
        return all(c.ended for c in self.calls) and not self._callbacks_open()

    def _callbacks_open(self) -> bool:
        """Whether a callback is still open (looked up at most twice a real second)."""
        if not self.scenario.callback_share:
            return False
        checked_at, still_open = self._callbacks_checked
        if time.monotonic() - checked_at > 0.5:
            with self.rt.db.session() as s:
                still_open = s.scalar(select(Callback.id).where(
                    Callback.status.in_(OPEN_STATUSES)).limit(1)) is not None
            self._callbacks_checked = (time.monotonic(), still_open)
        return still_open

    def _place(self, network: PhoneNetwork, planned: PlannedCall) -> None:
        keys: list[str | None] | Callable[[GatherPrompt], str | None] | None
        keys = [planned.digit] if planned.digit else None
        if planned.takes_callback:  # and answers when called back
            keys = phrases.callback_taker(self.scenario.language, planned.digit)
            network.register_endpoint(planned.number, _called_back(planned.machine))
        self.calls.append(network.place_call(planned.number, OUR_NUMBER, keypresses=keys,
                                             patience=planned.patience))

    def _shift(self, events: list[ShiftEvent], event: ShiftEvent) -> None:
        agent_id = self.agent_ids[event.username]
        if event.on:  # a sign-out still being retried is overtaken by the new shift
            events[:] = [e for e in events if e.on or e.username != event.username
                         or e.at > event.at + SIGN_OUT_RETRY]
            with contextlib.suppress(StateRefused):  # still on a call: free after wrap-up
                dispatch.set_state(self.rt, agent_id, AVAILABLE)
            return
        try:  # signing out is refused while on a call: try again a little later
            agents.change(self.rt, agent_id, OFFLINE, (AVAILABLE, WRAP_UP, OFFLINE))
        except StateRefused:
            events.append(ShiftEvent(event.at + SIGN_OUT_RETRY, event.username, False))
            events.sort()

    def _progress(self, network: PhoneNetwork, placed: int, total: int) -> str:
        local = self.rt.clock.now().astimezone(self.scenario.zone)
        holding = sum(network.queue_size(q.slug) for q in self.scenario.queues)
        talking = sum(1 for c in self.calls if c.joined_conference and not c.ended)
        ended = sum(1 for c in self.calls if c.ended)
        return (f"{local:%H:%M}  calls {placed:>4}/{total}  holding {holding:>3}  "
                f"with an agent {talking:>3}  ended {ended:>4}")

    def _settle(self, timeout: float = 5.0) -> None:
        """Wait (real seconds) until the job queue is empty, so the records are final."""
        started = StartedJobRegistry(queue=self.rt.jobs)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.rt.jobs.count == 0 and started.count == 0:
                return
            time.sleep(0.05)


def _called_back(machine: str) -> Answer:
    """Who answers a callback taker's phone: the customer, or the scenario's machine."""
    if machine == "fax":
        return Answer.fax(after=AGENT_ANSWER_AFTER)
    if machine:
        return Answer.machine(after=AGENT_ANSWER_AFTER, ending=machine)
    return Answer.human(after=AGENT_ANSWER_AFTER)


def _texts(stack: DayStack, opted_out: set[str]) -> report.TextFigures:
    """What the stand-in saw of the day's texts (every create, refused or not)."""
    assert stack.standin is not None
    tried = [_one(r.form, "To") for r in stack.standin.requests("message-create")]
    return report.TextFigures(opted_out=len(opted_out), sent=len(stack.standin.messages()),
                              to_opted_out=sum(1 for to in tried if to in opted_out))


def _one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def simulate(scenario: Scenario, out: Path, speed: float = 240.0, echo: Echo = print,
             job_workers: int = 2, web_workers: int = 2,
             grace: float = STARTUP_GRACE, disruptions: Sequence[Disruption] = (),
             redis_factory: Callable[[Path], LiveStore] = embedded_redis,
             database_url: str = "", legs: list[VirtualCall] | None = None) -> DayReport:
    """Run `scenario` through the real stack at `speed` (with any `disruptions`, on the live
    store `redis_factory` starts and on `database_url`, a fresh SQLite file when empty);
    write report.txt and report.png into `out` and return the report. `legs`, when given,
    receives every leg the phone network carried (their transcripts: what each heard)."""
    began = time.monotonic()
    stack = DayStack(out, speed, scenario.wrap_up_seconds, scenario.start.timestamp(),
                     web_workers=web_workers, job_workers=job_workers, grace=grace,
                     redis_factory=redis_factory, calls_per_second=scenario.dial_rate,
                     database_url=database_url)
    previous = clock.current()
    try:
        with stack:
            echo(f"stack up at {stack.base_url} (logs in {out / 'sim-instance' / 'logs'}); "
                 f"{len(scenario.agents)} agents, speed x{speed:g}")
            day = DayRun(stack, scenario, echo, disruptions=disruptions)
            day.run()
            assert stack.rt is not None
            result = report.build(stack.rt, scenario, speed, time.monotonic() - began,
                                  day.ended_at, AGENT_ANSWER_AFTER)
            result.planned = len(day.calls)
            if legs is not None:
                legs.extend(day.network_calls)
            result.app_errors = sum(1 for c in day.network_calls
                                    if any(e.fatal for e in c.errors))
            result.refused_reports = sum(1 for c in day.network_calls for e in c.errors
                                         if not e.fatal)
            result.texts = _texts(stack, day.opted_out)
            result.promises = report.promise_figures(stack.rt, day.rang())
            assert stack.standin is not None
            result.strict = strict.count(stack.rt, stack.standin, day.network_calls,
                                         {a.contact for a in scenario.agents})
            for call in [c for c in day.network_calls if c.errors][:5]:
                echo(f"app error on {call.direction} call {call.sid[:12]}: "
                     f"{call.errors[0].kind} {call.errors[0].detail}")
    finally:
        clock.use(previous)
    text, chart = report.write(result, out)
    echo(f"report: {text}  chart: {chart}")
    return result

"""`holdless run`: the whole stack on one machine, embedded defaults filled in."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from honcho.manager import Manager

from entrypoints import demo
from entrypoints.runtime import Runtime
from holdless.embedded import EmbeddedRedis
from holdless.migrate import upgrade
from holdless.settings import DEVELOPMENT, Settings
from simulator.browser_phones import BrowserPhones, BrowserPhoneServer
from simulator.engine import PhoneNetwork
from simulator.rest import TwilioRestStandIn

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"


def procfile() -> dict[str, str]:
    """The Procfile's commands by process name."""
    entries = {}
    for line in PROCFILE.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.startswith("#"):
            entries[name.strip()] = command.strip()
    return entries


def prepare_environment(port: int) -> list[object]:
    """Fill in what a newcomer's machine lacks; returns servers to stop at exit."""
    env = os.environ
    settings = Settings.from_env()
    env.setdefault("HOLDLESS_ENV", DEVELOPMENT)
    started: list[object] = []
    instance = Path(settings.instance_path).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    if not env.get("REDIS_URL") and not env.get("REDIS_SENTINELS"):
        server = EmbeddedRedis(instance / "redis")
        env["REDIS_URL"] = server.url
        (instance / "redis.url").write_text(server.url)
        started.append(server)
    if not env.get("TWILIO_AUTH_TOKEN"):
        if env["HOLDLESS_ENV"] != DEVELOPMENT:
            sys.exit("TWILIO_AUTH_TOKEN is required outside development")
        env["TWILIO_AUTH_TOKEN"] = secrets.token_hex(16)
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    if env["HOLDLESS_ENV"] == DEVELOPMENT and env["PUBLIC_BASE_URL"].startswith("http://"):
        env.setdefault("SESSION_COOKIE_SECURE", "0")  # plain-http laptop stack only
    if env["HOLDLESS_ENV"] == DEVELOPMENT:
        env.setdefault("SECRET_KEY", secrets.token_hex(32))  # one key for every web worker
    env["PORT"] = str(port)  # the port served is the port printed, signed and called back
    env.setdefault("HOST", "127.0.0.1")
    if not env.get("TWILIO_API_BASE_URL") and env["HOLDLESS_ENV"] == DEVELOPMENT:
        started += _start_twilio_stand_in(env)
    return started


def _start_twilio_stand_in(env: os._Environ[str]) -> list[object]:
    stand_in = TwilioRestStandIn()
    stand_in.start()
    env["TWILIO_API_BASE_URL"] = stand_in.base_url
    return [stand_in, *_start_browser_phones(env, stand_in)]


class _NetworkRunning:
    """The stand-in's phone network, stopped with the stack."""

    def __init__(self, network: PhoneNetwork) -> None:
        self.network = network

    def stop(self) -> None:
        """Hang up every call."""
        self.network.close()


def _start_browser_phones(env: os._Environ[str], stand_in: TwilioRestStandIn) -> list[object]:
    """The stand-in's phone network rings the consoles' browser phones (and a caller page
    can dial in): access tokens signed with a key made for this run, as Twilio's would be."""
    network = PhoneNetwork(env["PUBLIC_BASE_URL"], env["TWILIO_AUTH_TOKEN"], stand_in)
    env.setdefault("TWILIO_API_KEY_SID", "SK" + secrets.token_hex(16))
    env.setdefault("TWILIO_API_KEY_SECRET", secrets.token_hex(16))
    env.setdefault("TWILIO_TWIML_APP_SID", "AP" + secrets.token_hex(16))
    phones = BrowserPhones(network, env["TWILIO_API_KEY_SECRET"], env["PUBLIC_BASE_URL"])
    server = BrowserPhoneServer(phones).start()
    env["HOLDLESS_DEMO_PHONE_URL"] = server.base_url
    return [server, _NetworkRunning(network)]


def migrate_and_seed() -> dict[str, str]:
    """Upgrade the schema; in development, create demo people on an empty database."""
    rt = Runtime(Settings.from_env())
    upgrade(rt.db.url)
    passwords: dict[str, str] = {}
    if rt.settings.env == DEVELOPMENT:
        with rt.db.session() as s:
            passwords = demo.seed(s, rt.queue_defaults)
    rt.close()
    return passwords


def banner(port: int, passwords: dict[str, str]) -> str:
    """What a newcomer needs to know once the stack is up."""
    env = os.environ
    lines = [
        f"Holdless is running: http://127.0.0.1:{port}/",
        f"Give Twilio this voice webhook: {env['PUBLIC_BASE_URL']}/voice/incoming "
        f"(status callback: {env['PUBLIC_BASE_URL']}/voice/status)",
        f"Twilio auth token in use: {env['TWILIO_AUTH_TOKEN']}",
        f"Redis: {env.get('REDIS_URL') or 'through Sentinel at ' + env['REDIS_SENTINELS']}",
    ]
    if env.get("TWILIO_API_BASE_URL"):
        lines.append(f"Twilio REST calls go to the local stand-in at {env['TWILIO_API_BASE_URL']}")
    if env.get("HOLDLESS_DEMO_PHONE_URL"):
        lines.append("The stand-in rings the consoles' browser phones: sign in, choose "
                     "Available, and call in from the test caller page: "
                     f"http://127.0.0.1:{port}/demo/caller")
    lines += [f"  sign in as {user} / {pw}" for user, pw in passwords.items()]
    if not passwords and env.get("HOLDLESS_ENV") == DEVELOPMENT:
        lines.append("Demo sign-ins: `holdless demo sign-ins` sets and prints new passwords; "
                     "`holdless agent password NAME` resets one")
    return "\n".join(lines)


def run_stack(port: int) -> None:
    """Start web and worker from the Procfile under honcho until interrupted."""
    started = prepare_environment(port)
    try:
        passwords = migrate_and_seed()
        print(banner(port, passwords), flush=True)
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
        manager = Manager()
        for name, command in procfile().items():
            manager.add_process(name, command, env=env)
        manager.loop()
    finally:
        for server in started:
            server.stop()  # type: ignore[attr-defined]
    sys.exit(manager.returncode or 0)

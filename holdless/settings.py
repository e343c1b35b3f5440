"""One settings object, read from the environment (documented in README.md)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEVELOPMENT = "development"
PRODUCTION = "production"
TESTING = "testing"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


# Twilio's magic test numbers (www.twilio.com/docs/iam/test-credentials): they work only
# with test credentials; a live account refuses them as caller ID (error 21210).
TWILIO_TEST_NUMBER_PREFIX = "+1500555"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


# Twilio's call queues: at most 5000 calls each (twilio.com/docs/api/errors/14207; twilio-oai
# CreateQueue/UpdateQueue MaxSize: "The maximum is 5000"); past its MaxSize an <Enqueue> is
# refused with QueueResult=queue-full (twilio.com/docs/voice/twiml/enqueue).
TWILIO_MAX_QUEUE_SIZE = 5000
# Places kept free below a Twilio queue's MaxSize: callers already told their place whose
# <Enqueue> has not run yet, and joins racing in other web processes.
TWILIO_QUEUE_MARGIN = 20


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


# PostgreSQL's synchronous_commit levels (postgresql.org/docs/current/runtime-config-wal.html),
# from the most waiting to the least; never "off", which lets a crash of the primary lose
# commits that callers were already told of.
SYNCHRONOUS_COMMIT_LEVELS = ("remote_apply", "on", "remote_write", "local")

# The name Sentinel monitors Holdless's Redis primary under when REDIS_MASTER_NAME is unset.
DEFAULT_REDIS_MASTER_NAME = "holdless"
# Sentinel's own port (redis.io/docs/latest/operate/oss_and_stack/management/sentinel).
SENTINEL_DEFAULT_PORT = 26379


def parse_sentinels(raw: str) -> tuple[tuple[str, int], ...]:
    """REDIS_SENTINELS ("host:port,host:port", the port 26379 when left out) as
    (host, port) pairs; a malformed address is refused naming it."""
    found = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or host.endswith(":"):  # no port given (or a bare IPv6 address)
            host, port = item, str(SENTINEL_DEFAULT_PORT)
        host = host.strip("[]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SettingsError(f"REDIS_SENTINELS must list host:port addresses separated by "
                                f"commas; {item!r} is not one")
        found.append((host, int(port)))
    return tuple(found)


@dataclass(frozen=True)
class Settings:
    """Everything configurable about Holdless, with its default."""

    env: str = DEVELOPMENT
    secret_key: str = ""
    database_url: str = ""
    # PostgreSQL's synchronous_commit for Holdless's sessions ("": the server's setting); with
    # synchronous standbys named on the primary, "on" or "remote_apply" makes a commit (and so
    # every promise spoken after it) wait until a standby holds it.
    database_synchronous_commit: str = ""
    redis_url: str = ""
    # Redis through Sentinel: the Sentinels' addresses and the name they monitor the primary
    # under; every process then asks them where the primary is, also after a failover.
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_master_name: str = DEFAULT_REDIS_MASTER_NAME
    # Replicas that must hold a job before enqueueing it returns (Redis WAIT): 0 never waits.
    redis_wait_replicas: int = 0
    instance_path: str = "instance"
    public_base_url: str = ""
    proxy_count: int = 0
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: str = ""
    twilio_api_base_url: str = ""
    twilio_caller_id: str = "+15005550006"
    # The account's calls per second (Twilio's default is 1; raised in the Console's voice
    # settings): outbound calls are paced to it (holdless.pacer).
    twilio_calls_per_second: float = 1.0
    # The MaxSize Holdless gives each of its Twilio queues through REST (Twilio's maximum by
    # default); a line holds at most this minus TWILIO_QUEUE_MARGIN waiting callers.
    twilio_queue_size: int = TWILIO_MAX_QUEUE_SIZE
    default_region: str = "US"
    time_zone: str = "America/New_York"
    wrap_up_seconds: int = 30
    max_missed_offers: int = 2
    hold_music_url: str = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
    busy_threshold_seconds: int = 600
    callback_threshold_seconds: int = 120
    callback_regions: str = ""
    # Which supervisors an agent sees on their call: all (listening too), heard (coaching or
    # barging only) or none.
    agent_sees_monitoring: str = "all"
    # How long a caller escalated when no supervisor is free waits for one before going
    # back to the agent.
    escalation_wait_seconds: int = 120
    clock: str = ""
    secure_cookies: bool = True
    twilio_api_key_sid: str = ""
    twilio_api_key_secret: str = ""
    twilio_twiml_app_sid: str = ""
    # Live pages (server-sent event streams) one web process serves at once; each holds one
    # of its threads (webhooks/push.py), so the Procfile gives WEB_THREADS this many + 8:
    # the 8 answer webhooks and requests, never more at once than the database pool
    # (holdless.timeouts DB_POOL_SIZE + DB_POOL_OVERFLOW) can serve without callers waiting
    # out its timeout. More live pages: more web processes (WEB_CONCURRENCY), or raise both
    # together with the pool.
    push_streams: int = 8
    # The stand-in's browser phones (simulator/browser_phones.py), development only: set by
    # `make run`, so a console takes calls with no Twilio account.
    demo_phone_url: str = ""
    # Lifetime of a browser phone's access token (renewed by the page before it ends).
    voice_token_seconds: int = 3600
    # An agent whose console page has been gone this long (real seconds) is taken offline.
    page_grace_seconds: int = 60
    # Whether gunicorn's access log lists the pages' update requests (the console's and the
    # board's refreshes and event streams): off, so the log shows what people did.
    log_update_requests: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        """Read every setting from HOLDLESS_*/standard environment variables."""
        return cls(
            env=_env("HOLDLESS_ENV", DEVELOPMENT),
            secret_key=_env("SECRET_KEY"),
            database_url=_env("DATABASE_URL"),
            database_synchronous_commit=_env("DATABASE_SYNCHRONOUS_COMMIT").lower(),
            redis_url=_env("REDIS_URL"),
            redis_sentinels=parse_sentinels(_env("REDIS_SENTINELS")),
            redis_master_name=_env("REDIS_MASTER_NAME", DEFAULT_REDIS_MASTER_NAME),
            redis_wait_replicas=_env_int("REDIS_WAIT_REPLICAS", 0),
            instance_path=_env("HOLDLESS_INSTANCE_PATH", "instance"),
            public_base_url=_env("PUBLIC_BASE_URL").rstrip("/"),
            proxy_count=_env_int("PROXY_COUNT", 0),
            twilio_account_sid=_env("TWILIO_ACCOUNT_SID", cls.twilio_account_sid),
            twilio_auth_token=_env("TWILIO_AUTH_TOKEN"),
            twilio_api_base_url=_env("TWILIO_API_BASE_URL").rstrip("/"),
            twilio_caller_id=_env("TWILIO_CALLER_ID", cls.twilio_caller_id),
            twilio_calls_per_second=float(_env("TWILIO_CALLS_PER_SECOND", "1")),
            twilio_queue_size=_env_int("TWILIO_QUEUE_SIZE", TWILIO_MAX_QUEUE_SIZE),
            default_region=_env("HOLDLESS_DEFAULT_REGION", "US").upper(),
            time_zone=_env("HOLDLESS_TIME_ZONE", cls.time_zone),
            wrap_up_seconds=_env_int("HOLDLESS_WRAP_UP_SECONDS", 30),
            max_missed_offers=_env_int("HOLDLESS_MAX_MISSED_OFFERS", 2),
            hold_music_url=_env("HOLDLESS_HOLD_MUSIC_URL", cls.hold_music_url),
            busy_threshold_seconds=_env_int("HOLDLESS_BUSY_THRESHOLD_SECONDS", 600),
            callback_threshold_seconds=_env_int("HOLDLESS_CALLBACK_THRESHOLD_SECONDS", 120),
            callback_regions=_env("HOLDLESS_CALLBACK_REGIONS").upper(),
            agent_sees_monitoring=_env("HOLDLESS_AGENT_SEES_MONITORING", "all").lower(),
            escalation_wait_seconds=_env_int("HOLDLESS_ESCALATION_WAIT_SECONDS", 120),
            clock=_env("HOLDLESS_CLOCK"),
            twilio_api_key_sid=_env("TWILIO_API_KEY_SID"),
            twilio_api_key_secret=_env("TWILIO_API_KEY_SECRET"),
            twilio_twiml_app_sid=_env("TWILIO_TWIML_APP_SID"),
            push_streams=_env_int("HOLDLESS_PUSH_STREAMS", 8),
            page_grace_seconds=_env_int("HOLDLESS_PAGE_GRACE_SECONDS", 60),
            demo_phone_url=_env("HOLDLESS_DEMO_PHONE_URL").rstrip("/"),
            voice_token_seconds=_env_int("HOLDLESS_VOICE_TOKEN_SECONDS", 3600),
            secure_cookies=_env("SESSION_COOKIE_SECURE", "1").lower() not in ("0", "false", "no"),
            log_update_requests=_env("HOLDLESS_LOG_UPDATE_REQUESTS", "0").lower()
            in ("1", "true", "yes"),
        )

    def with_overrides(self, overrides: dict[str, Any]) -> Settings:
        """Return a copy with the named fields replaced (unknown names go to `extra`)."""
        names = {f.name for f in fields(self)}
        known = {k: v for k, v in overrides.items() if k in names}
        extra = {**self.extra, **{k: v for k, v in overrides.items() if k not in names}}
        return replace(self, **known, extra=extra)

    def check(self) -> None:
        """Refuse settings that would run the line unsafely outside development."""
        if not self.twilio_calls_per_second > 0:
            raise SettingsError("TWILIO_CALLS_PER_SECOND must be a positive number of calls")
        if not TWILIO_QUEUE_MARGIN < self.twilio_queue_size <= TWILIO_MAX_QUEUE_SIZE:
            raise SettingsError(
                f"TWILIO_QUEUE_SIZE must be more than {TWILIO_QUEUE_MARGIN} (the places kept "
                f"free) and at most {TWILIO_MAX_QUEUE_SIZE} (Twilio's largest queue)")
        self.check_redis()
        if self.database_synchronous_commit not in ("", *SYNCHRONOUS_COMMIT_LEVELS):
            raise SettingsError(
                "DATABASE_SYNCHRONOUS_COMMIT must be one of " + ", ".join(
                    SYNCHRONOUS_COMMIT_LEVELS) + f" (PostgreSQL's synchronous_commit; never off, "
                f"which can lose promises already spoken), not "
                f"{self.database_synchronous_commit!r}")
        if not 60 <= self.voice_token_seconds <= 86400:
            raise SettingsError("HOLDLESS_VOICE_TOKEN_SECONDS must be between 60 and 86400 "
                                "(Twilio's longest access token: 24 hours)")
        if self.demo_phone_url and self.env == PRODUCTION:
            raise SettingsError("HOLDLESS_DEMO_PHONE_URL is the local stand-in's phone: it "
                                "cannot be set in production")
        if self.page_grace_seconds < 3:
            raise SettingsError("HOLDLESS_PAGE_GRACE_SECONDS must be at least 3 seconds")
        if self.push_streams < 0:
            raise SettingsError("HOLDLESS_PUSH_STREAMS must be 0 (no live pages) or more")
        if not 1 <= self.escalation_wait_seconds <= 3600:
            raise SettingsError("HOLDLESS_ESCALATION_WAIT_SECONDS must be 1 to 3600 seconds, "
                                f"not {self.escalation_wait_seconds}")
        if self.agent_sees_monitoring not in ("all", "heard", "none"):
            raise SettingsError("HOLDLESS_AGENT_SEES_MONITORING must be all, heard or none, "
                                f"not {self.agent_sees_monitoring!r}")
        if self.env not in (DEVELOPMENT, PRODUCTION, TESTING):
            raise SettingsError("HOLDLESS_ENV must be development, production or testing, "
                                f"not {self.env!r}")
        if self.env == PRODUCTION:
            if not self.twilio_auth_token:
                raise SettingsError("TWILIO_AUTH_TOKEN is required in production: "
                                    "webhook signatures cannot be checked without it")
            if not self.secure_cookies:
                raise SettingsError("SESSION_COOKIE_SECURE cannot be off in production")
            if not self.secret_key:
                raise SettingsError("SECRET_KEY is required in production")
            if not self.public_base_url and not self.proxy_count:
                raise SettingsError("set PUBLIC_BASE_URL (or PROXY_COUNT) in production so that "
                                    "webhook signatures are checked against the URL Twilio called")
            self.check_caller_id()

    def check_redis(self) -> None:
        """Refuse a Redis set up two ways at once, or a WAIT that cannot be met."""
        if self.redis_sentinels and self.redis_url:
            raise SettingsError("set REDIS_URL or REDIS_SENTINELS, not both: with Sentinel "
                                "every process asks the Sentinels where the primary is")
        if self.redis_sentinels and not self.redis_master_name:
            raise SettingsError("REDIS_MASTER_NAME must name the primary the Sentinels monitor")
        if self.redis_wait_replicas < 0:
            raise SettingsError("REDIS_WAIT_REPLICAS must be 0 (no wait) or a number of "
                                f"replicas, not {self.redis_wait_replicas}")

    def line_limit(self, max_waiting: int | None) -> int:
        """The most callers a line may hold: its `max_waiting` (None: no limit of its own),
        never past what its Twilio queue takes with TWILIO_QUEUE_MARGIN places to spare."""
        twilio_limit = self.twilio_queue_size - TWILIO_QUEUE_MARGIN
        return twilio_limit if max_waiting is None else min(max_waiting, twilio_limit)

    def check_caller_id(self) -> None:
        """Refuse a caller ID a live Twilio account cannot call or text from."""
        number = self.twilio_caller_id
        if not E164.match(number) or number.startswith(TWILIO_TEST_NUMBER_PREFIX):
            raise SettingsError(
                "TWILIO_CALLER_ID is required in production: set it to a phone number of your "
                f"Twilio account in +E.164 form (now {number!r}; +15005550006 is Twilio's test "
                "number, which live credentials refuse)")

def default_database_url(instance_path: str) -> str:
    """The SQLite file under the instance folder."""
    folder = Path(instance_path).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'holdless.db'}"

"""Reading the line's configuration: queues, their schedules, and who is calling."""

from __future__ import annotations

import time
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import redis
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, joinedload

from models.base import Database
from models.entities import Caller, Holiday, Queue
from queueing import keys
from queueing.hours import Closure, Range, Schedule, is_open
from queueing.limits import DIRECTORY_CACHE_MAX_AGE_SECONDS

# Built once: building the loader option costs more than running the cached statement.
ACTIVE_QUEUES = (select(Queue).where(Queue.active.is_(True)).order_by(Queue.digit, Queue.id)
                 .options(joinedload(Queue.hours)))


def active_queues(session: Session) -> list[Queue]:
    """Every queue taking calls, menu digit order, with their opening hours."""
    return list(session.scalars(ACTIVE_QUEUES).unique())


def queue_by_slug(session: Session, slug: str) -> Queue | None:
    """The queue called `slug`, or None."""
    return session.scalar(select(Queue).where(Queue.slug == slug))


def schedule(session: Session, queue: Queue) -> Schedule:
    """The queue's weekly hours and the holidays that apply to it (no weekly hours at all:
    open around the clock except on its holidays)."""
    holidays = session.scalars(
        select(Holiday).where((Holiday.queue_id == queue.id) | Holiday.queue_id.is_(None)))
    return Schedule(
        zone=queue.time_zone,
        ranges=tuple(Range(h.weekday, h.opens, h.closes) for h in queue.hours),
        closures=tuple(Closure(h.starts, h.ends, h.name, h.opens, h.closes, h.message,
                               tuple(sorted((h.messages or {}).items())))
                       for h in holidays),
        always_open=not queue.hours,
    )


def schedule_or_none(session: Session, queue: Queue) -> Schedule | None:
    """The queue's schedule, or None when nothing ever closes it (no weekly hours and no
    holiday that applies to it)."""
    found = schedule(session, queue)
    return None if found.always_open and not found.closures else found


def queue_is_open(session: Session, queue: Queue, moment: datetime) -> bool:
    """Whether `queue` takes calls now: within its hours and not on a holiday (a queue with
    no hours set is open except on its holidays)."""
    return is_open(schedule(session, queue), moment)


def known_caller(session: Session, number: str | None) -> Caller | None:
    """The customer on record for `number`, if any."""
    if number is None:
        return None
    return session.scalar(select(Caller).where(Caller.number == number))


# -- the directory as the caller's path reads it: cached per process ---------------------

# The tables whose changes every process must see at once (Database.watch bumps the token).
DIRECTORY_TABLES = frozenset({"queues", "opening_hours", "holidays"})


@dataclass(frozen=True)
class QueueCard:
    """What the caller's path needs of one active queue: a snapshot, not a database row."""

    id: int
    slug: str
    name: str
    digit: str | None
    greeting: str
    callback_threshold_seconds: int
    busy_threshold_seconds: int
    ask_account: bool
    schedule: Schedule | None  # None: no hours set and no holiday, always open
    max_waiting: int | None = None  # None: no limit to the line
    time_zone: str = "America/New_York"  # the zone its usual waits are learned in
    priority_bonus_seconds: int = 0  # VIPs' head start (queueing.priority); 0: FIFO
    recording_mode: str = "off"  # models.privacy.RECORDING_MODES
    language: str | None = None  # the line's language (None: English)
    voice: str | None = None  # its Twilio voice (None: the language's own)
    languages: str | None = None  # further languages its callers may choose
    texts: dict[str, Any] | None = field(default=None, compare=False)  # admin texts per language

    def is_open(self, moment: datetime) -> bool:
        """Whether the queue takes calls at `moment`."""
        return self.schedule is None or is_open(self.schedule, moment)


@dataclass(frozen=True)
class Listing:
    """Every active queue in menu-digit order, as read at one directory version."""

    version: str
    queues: tuple[QueueCard, ...]

    def open_at(self, moment: datetime) -> list[QueueCard]:
        """The queues taking calls at `moment`."""
        return [q for q in self.queues if q.is_open(moment)]

    def card(self, slug: str) -> QueueCard | None:
        """The active queue called `slug`, or None."""
        return next((q for q in self.queues if q.slug == slug), None)


# Per database engine: (monotonic time read, listing). Monotonic, not the contact center's
# clock: it bounds how long this process trusts its copy, which a frozen test clock must
# not stretch.
_listings: weakref.WeakKeyDictionary[Engine, tuple[float, Listing]] = weakref.WeakKeyDictionary()


def changed(r: redis.Redis) -> None:
    """Tell every process that queues, hours or holidays changed (after the commit)."""
    r.set(keys.directory_version(), uuid.uuid4().hex)


def kept(db: Database) -> Listing | None:
    """This process's copy as last read (None: none, or too old to trust); it may be out
    of date, so a caller checks its version against Redis before acting on it."""
    known = _listings.get(db.engine)
    if known is None or time.monotonic() - known[0] >= DIRECTORY_CACHE_MAX_AGE_SECONDS:
        return None
    return known[1]


def listing(r: redis.Redis, db: Database) -> Listing:
    """The active queues with their schedules: this process's copy unless the directory
    changed since it was read (one Redis GET), else read afresh in one transaction."""
    return listing_at(r, db, cast("str | None", r.get(keys.directory_version())))


def listing_at(r: redis.Redis, db: Database, version: str | None) -> Listing:
    """`listing` from a directory version already read (None: no token yet)."""
    known = kept(db)
    if version is not None and known is not None and known.version == version:
        return known
    if version is None:  # first reader since Redis was emptied: mint the token
        r.set(keys.directory_version(), uuid.uuid4().hex, nx=True)
        version = cast("str", r.get(keys.directory_version()))
    # The token is read before the rows: a change committed meanwhile bumps it again, so a
    # copy read too early is never kept under the newer token.
    read_at = time.monotonic()
    with db.session() as s:
        fresh = Listing(version, tuple(_card(q, s) for q in active_queues(s)))
    _listings[db.engine] = (read_at, fresh)
    return fresh


def _card(queue: Queue, s: Session) -> QueueCard:
    return QueueCard(queue.id, queue.slug, queue.name, queue.digit, queue.greeting,
                     queue.callback_threshold_seconds, queue.busy_threshold_seconds,
                     bool(queue.ask_account), schedule_or_none(s, queue),
                     queue.max_waiting, queue.time_zone, queue.priority_bonus_seconds or 0,
                     queue.recording_mode or "off", queue.language, queue.voice,
                     queue.languages, queue.texts)

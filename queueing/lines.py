"""One line per queue in Redis: callers and callbacks together, first come first served.

A line is a sorted set scored by the moment the entry first joined, less its priority
bonus (queueing.priority; 0 unless the queue gives one), so a caller who steps out (to book
a callback, or is transferred back) keeps their place by rejoining with the same score.
Every operation is O(log n). Connections use decode_responses=True.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, cast

import redis

from queueing import keys
from queueing.keys import KEY_PREFIX
from queueing.limits import MAX_PRIORITY_BONUS_SECONDS

# How many entries near the front `oldest_joined` reads for the longest-waiting one.
OLDEST_SCAN_ENTRIES = 200

CALLER, CALLBACK = "caller", "callback"


@dataclass(frozen=True)
class Entry:
    """Someone waiting in a line: a live caller or a booked callback."""

    id: str
    queue: str
    kind: str
    joined: float
    call_sid: str = ""
    interaction_id: int = 0
    callback_id: int = 0
    bonus: float = 0.0  # seconds it is served as if it had arrived earlier (priority)
    promised: float = 0.0  # a callback: when it was promised (0: no promise)
    late_bonus: float = 0.0  # the bonus it earns once `promised` has passed (routing applies it)
    sender: int = 0  # the agent who cold-transferred it here: routing never hands it back

    @property
    def score(self) -> float:
        """Its place in line: the moment it joined, less its priority bonus."""
        return self.joined - self.bonus

    def fields(self) -> dict[str, str]:
        """The entry as a Redis hash (with no sender, one already recorded is kept: a caller
        rebuilt on rejoining or restored still never goes back to who sent them)."""
        sender = {"sender": str(self.sender)} if self.sender else {}
        return {**sender,
            "queue": self.queue, "kind": self.kind, "joined": repr(self.joined),
            "call_sid": self.call_sid, "interaction_id": str(self.interaction_id),
            "callback_id": str(self.callback_id), "bonus": repr(self.bonus),
            "promised": repr(self.promised), "late_bonus": repr(self.late_bonus),
        }


def caller_entry_id(interaction_id: int) -> str:
    """The entry id of the live caller of an interaction."""
    return f"i:{interaction_id}"


def interaction_of(entry_id: str) -> int:
    """The interaction id of a live caller's entry id (0 for a callback's)."""
    kind, _, number = entry_id.partition(":")
    return int(number) if kind == "i" and number.isdigit() else 0


def join(r: redis.Redis, entry: Entry) -> bool:
    """Put `entry` in its line at its original place; False if it was already there."""
    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.entry(entry.id), mapping=cast("dict[Any, Any]", entry.fields()))
    if entry.call_sid:
        pipe.set(keys.call_entry(entry.call_sid), entry.id)
    pipe.sadd(keys.queues(), entry.queue)
    pipe.zadd(keys.line(entry.queue), {entry.id: entry.score}, nx=True)
    overdue_later = bool(entry.promised and entry.late_bonus and not entry.bonus)
    if overdue_later:  # routing gives it its bonus once its promised time has passed
        pipe.zadd(keys.overdue(entry.queue), {entry.id: entry.promised})
    results = pipe.execute()
    return bool(results[-2] if overdue_later else results[-1])


def remember(r: redis.Redis, entry: Entry) -> None:
    """Write an entry's record (and its call's pointer) without putting it in line: for an
    entry handed to an agent, so that a missed offer can put it back at its place."""
    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.entry(entry.id), mapping=cast("dict[Any, Any]", entry.fields()))
    if entry.call_sid:
        pipe.set(keys.call_entry(entry.call_sid), entry.id)
    pipe.sadd(keys.queues(), entry.queue)
    pipe.execute()


def leave(r: redis.Redis, queue: str, entry_id: str) -> bool:
    """Take an entry out of its line (keeping its record); False if it was not waiting."""
    return bool(r.zrem(keys.line(queue), entry_id))


def forget(r: redis.Redis, entry: Entry) -> None:
    """Remove every trace of an entry that is finished."""
    pipe = r.pipeline(transaction=True)
    pipe.zrem(keys.line(entry.queue), entry.id)
    pipe.zrem(keys.overdue(entry.queue), entry.id)
    pipe.delete(keys.entry(entry.id))
    if entry.call_sid:
        pipe.delete(keys.call_entry(entry.call_sid))
    pipe.execute()


def position(r: redis.Redis, queue: str, entry_id: str) -> int | None:
    """1-based place in line, or None when the entry is not waiting."""
    rank = cast("int | None", r.zrank(keys.line(queue), entry_id))
    return None if rank is None else int(rank) + 1


def place_on_joining(r: redis.Redis, entry: Entry) -> int:
    """The 1-based place `entry` has, or will have once it joins: behind everyone who
    joined before it (one round trip, O(log n))."""
    pipe = r.pipeline(transaction=False)
    pipe.zrank(keys.line(entry.queue), entry.id)
    pipe.zcount(keys.line(entry.queue), "-inf", f"({entry.score!r}")
    rank, ahead = pipe.execute()
    return int(rank if rank is not None else ahead) + 1


@dataclass(frozen=True)
class JoinView:
    """What a caller about to join a line is told from: the place they will take and the
    queue's figures version and agent counts (for `stats.stats_at`)."""

    place: int
    stats_version: str | None
    staffed: int
    idle: int
    directory_version: str | None


def join_view(r: redis.Redis, queue: str, joined: float) -> JoinView:
    """The 1-based place a new entry joining `queue` with score `joined` (its arrival less
    any priority bonus) takes (behind everyone placed before), with the figures version,
    agent counts and the directory version (see queueing.directory), in one round trip."""
    pipe = r.pipeline(transaction=False)
    pipe.zcount(keys.line(queue), "-inf", f"({joined!r}")
    pipe.get(keys.stats_version(queue))
    pipe.scard(keys.staffed(queue))
    pipe.zcard(keys.idle(queue))
    pipe.get(keys.directory_version())
    ahead, version, staffed, idle, directory = pipe.execute()
    return JoinView(int(ahead) + 1, None if version is None else str(version), int(staffed),
                    int(idle), None if directory is None else str(directory))


def length(r: redis.Redis, queue: str) -> int:
    """How many entries wait in `queue`."""
    return int(r.zcard(keys.line(queue)))


def oldest_joined(r: redis.Redis, queue: str) -> float | None:
    """When the longest-waiting entry of the line joined, or None for an empty line. With
    priority bonuses the front of the line may have arrived later: the longest-waiting entry
    is then among those placed at most MAX_PRIORITY_BONUS_SECONDS behind the front (read up
    to OLDEST_SCAN_ENTRIES of them)."""
    head = r.zrange(keys.line(queue), 0, 0, withscores=True)
    if not head:
        return None
    near = cast("list[str]", r.zrangebyscore(
        keys.line(queue), "-inf", float(head[0][1]) + MAX_PRIORITY_BONUS_SECONDS,
        start=0, num=OLDEST_SCAN_ENTRIES))
    pipe = r.pipeline(transaction=False)
    for entry_id in near:
        pipe.hget(keys.entry(entry_id), "joined")
    found = [float(j) for j in pipe.execute() if j is not None]
    return min(found) if found else float(head[0][1])


def waiting(r: redis.Redis, queue: str, limit: int = 100) -> list[Entry]:
    """The first `limit` entries of a line, front first."""
    ids = cast("list[str]", r.zrange(keys.line(queue), 0, limit - 1))
    return [e for e in (load(r, i) for i in ids) if e is not None]


def load(r: redis.Redis, entry_id: str) -> Entry | None:
    """The entry record, or None if it is unknown."""
    f = cast("dict[str, str]", r.hgetall(keys.entry(entry_id)))
    if not f:
        return None
    return Entry(
        id=entry_id, queue=f["queue"], kind=f["kind"], joined=float(f["joined"]),
        call_sid=f.get("call_sid", ""), interaction_id=int(f.get("interaction_id") or 0),
        callback_id=int(f.get("callback_id") or 0), bonus=float(f.get("bonus") or 0.0),
        promised=float(f.get("promised") or 0.0), late_bonus=float(f.get("late_bonus") or 0.0),
        sender=int(f.get("sender") or 0),
    )


def entry_for_call(r: redis.Redis, call_sid: str) -> Entry | None:
    """The entry of a live call, if it has one."""
    entry_id = r.get(keys.call_entry(call_sid))
    return None if entry_id is None else load(r, str(entry_id))


# Everything one turn of the hold loop needs, in one round trip: the call's entry, its
# place, what `stats.stats_at` needs (figures version, agents signed in and free) and the
# directory version (queueing.directory).
# The key names are those of queueing.keys.
HOLD_VIEW_SCRIPT = """
local prefix, sid = ARGV[1], ARGV[2]
local id = redis.call('GET', prefix .. 'call:' .. sid)
if not id then return false end
local queue = redis.call('HGET', prefix .. 'entry:' .. id, 'queue')
if not queue then return false end
local rank = redis.call('ZRANK', prefix .. 'line:' .. queue, id)
return {id, queue, rank or -1, redis.call('GET', prefix .. 'statsver:' .. queue) or '',
        redis.call('SCARD', prefix .. 'staffed:' .. queue),
        redis.call('ZCARD', prefix .. 'idle:' .. queue),
        redis.call('GET', prefix .. 'dirver') or ''}
"""


@dataclass(frozen=True)
class HoldView:
    """A live call's entry id, queue and 1-based place (None: no longer waiting), with the
    queue's figures version and agent counts, and the directory version."""

    entry_id: str
    queue: str
    position: int | None
    stats_version: str | None
    staffed: int
    idle: int
    directory_version: str | None = None


def hold_view(r: redis.Redis, call_sid: str) -> HoldView | None:
    """What the hold loop tells a live call, read in one round trip; None if it has no entry."""
    script = _scripts.get(r)
    if script is None:
        script = _scripts[r] = r.register_script(HOLD_VIEW_SCRIPT)
    found = script(args=[KEY_PREFIX, call_sid])
    if not found:
        return None
    entry_id, queue, rank, version, staffed, idle, directory = found
    return HoldView(str(entry_id), str(queue), None if int(rank) < 0 else int(rank) + 1,
                    str(version) or None, int(staffed), int(idle), str(directory) or None)


_scripts: weakref.WeakKeyDictionary[redis.Redis, Any] = weakref.WeakKeyDictionary()

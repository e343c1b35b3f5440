"""The audit log as a person reads it: who did what to which thing (by its name, not its
id), each change as "before → after" in words, at a time in the zone of the queue it
concerns (the line's zone otherwise); and the filters the page offers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.admin import ConfigAuditEntry
from models.callbacks import Callback
from models.entities import Agent, Queue

KIND_WORDS = {"queue": "Queue", "opening_hours": "Opening hours", "holiday": "Holiday",
              "callback_policy": "Callback policy", "staffing_plan": "Staffing plan",
              "agent": "Agent", "callback": "Callback", "caller": "Caller"}
ACTION_WORDS = {"create": "created", "update": "changed", "delete": "deleted",
                "cancel": "cancelled", "move": "moved", "import": "imported"}
FIELD_WORDS = {
    "name": "name", "digit": "menu digit", "greeting": "greeting", "time_zone": "time zone",
    "callback_threshold_seconds": "offer a callback after (s)",
    "busy_threshold_seconds": "busy notice after (s)", "max_waiting": "callers in line at most",
    "priority_bonus_seconds": "VIP head start (s)", "overflow_queue": "overflow to",
    "overflow_after_seconds": "overflow after (s)", "sl_target_seconds": "answer within (s)",
    "sl_target_percent": "service level target (%)", "dial_mode": "callbacks ring first",
    "survey_enabled": "survey", "ask_account": "ask for the account number",
    "active": "active", "attempts": "attempts", "spacing_minutes": "minutes between attempts",
    "allowed_countries": "countries called back", "allowed_number_types": "numbers called back",
    "sms_booked": "text when booked", "sms_unreachable": "text when unreachable",
    "quiet_starts": "quiet hours from", "quiet_ends": "quiet hours until",
    "agents": "agents planned", "weekday": "day", "interval_start": "half hour",
    "starts": "first day", "ends": "last day", "opens": "opens", "closes": "closes",
    "message": "closed message", "contact": "phone or browser", "role": "role",
    "queues": "queues", "password": "password", "status": "status",
    "next_attempt_at": "next attempt", "expected_at": "expected", "account_ref": "account",
    "vip": "VIP", "difficult": "difficult", "number": "number", "added": "added",
}
# Columns that say nothing to a reader (ids, bookkeeping).
QUIET_FIELDS = frozenset({"id", "queue_id", "queue", "slug", "username", "created_at",
                          "updated_at", "place", "reference", "max_attempts", "offline_reason"})
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MOST_SHOWN = 500


@dataclass(frozen=True)
class Change:
    """One field's change in words."""

    field: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditLine:
    """One audit entry as the page shows it."""

    id: int
    at: datetime
    zone: str
    who: str
    action: str
    kind: str
    thing: str
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class Names:
    """What ids stand for: queues (name and zone), agents and callbacks."""

    queues: dict[int, Queue]
    by_slug: dict[str, Queue]
    agents: dict[int, Agent]
    callbacks: dict[int, str]

    @classmethod
    def read(cls, s: Session, entries: Iterable[ConfigAuditEntry]) -> Names:
        """The names the entries refer to, read in three queries."""
        queues = {q.id: q for q in s.scalars(select(Queue))}
        agents = {a.id: a for a in s.scalars(select(Agent))}
        wanted = {int(e.entity_id) for e in entries
                  if e.entity == "callback" and e.entity_id.isdigit()}
        callbacks = {c.id: c.reference for c in s.scalars(
            select(Callback).where(Callback.id.in_(wanted)))} if wanted else {}
        return cls(queues, {q.slug: q for q in queues.values()}, agents, callbacks)


def words(value: Any, key: str = "") -> str:
    """A stored value as words: yes/no, none, lists joined, hours "closed" when empty."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "" or value == []:
        return "closed" if key in ("ranges", "hours") or key in DAY_NAMES else "none"
    if key == "number" and isinstance(value, str):
        return f"…{value[-4:]}"  # never a whole phone number on a page
    if key == "password":
        return "changed"
    if isinstance(value, list | tuple):
        return ", ".join(words(v) if not isinstance(v, dict) else _item(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {words(v, k)}" for k, v in value.items())
    return str(value)


def _item(value: Mapping[str, Any]) -> str:
    """An imported holiday and the like: its name and date."""
    return " ".join(str(value[k]) for k in ("name", "date") if k in value) or words(dict(value))


def _flat(values: Any) -> dict[str, Any]:
    """A snapshot as field → value, the week and plan cells spread out by day."""
    if not isinstance(values, dict):
        return {}
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if key == "week" and isinstance(value, dict):
            flat.update({DAY_NAMES[int(day)]: spans for day, spans in value.items()})
        elif key == "cells" and isinstance(value, dict):
            flat.update(value)
        elif key == "ranges":
            flat["hours"] = value
        elif key not in QUIET_FIELDS:
            flat[key] = value
    return flat


def changes(entry: ConfigAuditEntry) -> list[Change]:
    """The fields the entry changed, before → after, in words (created: what it was made
    with; deleted: what it held)."""
    before, after = _flat(entry.before), _flat(entry.after)
    found = []
    for key in list(dict.fromkeys([*before, *after])):
        old, new = before.get(key), after.get(key)
        if entry.before is not None and entry.after is not None and old == new:
            continue
        if entry.before is None and new in (None, "", [], False):
            continue
        found.append(Change(FIELD_WORDS.get(key, key.replace("_", " ")),
                            "—" if entry.before is None else words(old, key),
                            "—" if entry.after is None else words(new, key)))
    return found


def _queue_of(entry: ConfigAuditEntry, names: Names) -> Queue | None:
    """The queue an entry concerns, if any."""
    values = entry.after if isinstance(entry.after, dict) else entry.before or {}
    if entry.entity == "queue" and entry.entity_id.isdigit():
        return names.queues.get(int(entry.entity_id))
    if entry.entity in ("opening_hours", "staffing_plan") and ":" in entry.entity_id:
        head = entry.entity_id.split(":")[0]
        return names.queues.get(int(head)) if head.isdigit() else None
    if isinstance(values.get("queue"), str):
        return names.by_slug.get(values["queue"])
    queue_id = values.get("queue_id")
    return names.queues.get(queue_id) if isinstance(queue_id, int) else None


def _thing(entry: ConfigAuditEntry, names: Names, queue: Queue | None) -> str:
    """Which thing the entry is about, by name."""
    values = entry.after if isinstance(entry.after, dict) else entry.before or {}
    of_queue = queue.name if queue is not None else "all queues"
    if entry.entity == "opening_hours":
        day = entry.entity_id.split(":")[-1]
        return f"{of_queue}, {DAY_NAMES[int(day)] if day.isdigit() else 'the week'}"
    if entry.entity == "staffing_plan":
        cell = (f", {DAY_NAMES[values['weekday']]} {values.get('interval_start', '')}"
                if isinstance(values.get("weekday"), int) else "")
        return f"{of_queue}{cell}"
    if entry.entity == "holiday":
        if entry.action == "import":
            return f"public holidays {entry.entity_id.replace('/-/', ' ').replace('/', ' ')}"
        return f"{values.get('name', '')} ({values.get('starts', '')}, {of_queue})"
    if entry.entity == "agent":
        return f"{values.get('name', '')} ({values.get('username', '')})"
    if entry.entity == "callback" and entry.entity_id.isdigit():
        return names.callbacks.get(int(entry.entity_id), f"callback {entry.entity_id}")
    if entry.entity == "caller":
        return f"{values.get('name') or 'caller'} ({words(values.get('number'), 'number')})"
    return of_queue if queue is not None else str(values.get("name", entry.entity_id))


def describe(entries: list[ConfigAuditEntry], names: Names, zone: str) -> list[AuditLine]:
    """Each entry in words; times in the zone of the queue it concerns (else `zone`)."""
    out = []
    for entry in entries:
        queue = _queue_of(entry, names)
        who = entry.actor
        person = names.agents.get(entry.actor_id) if entry.actor_id else None
        if person is not None:
            who = f"{person.name} ({person.username})"
        elif who.startswith("cli:"):
            who = f"{who.removeprefix('cli:')} at the command line"
        out.append(AuditLine(entry.id, entry.at, queue.time_zone if queue else zone, who,
                             ACTION_WORDS.get(entry.action, entry.action),
                             KIND_WORDS.get(entry.entity, entry.entity),
                             _thing(entry, names, queue), changes(entry)))
    return out


@dataclass(frozen=True)
class AuditFilter:
    """What the page narrows the log to: a kind of thing, a person, days, words."""

    kind: str | None = None
    who: str | None = None
    first: date | None = None
    last: date | None = None
    text: str = ""


def entries(s: Session, wanted: AuditFilter, zone: str,
            limit: int = MOST_SHOWN) -> list[ConfigAuditEntry]:
    """The newest entries first that match the filter's kind, person and days (local to
    `zone`); the words are matched after describing (`matching`)."""
    query = select(ConfigAuditEntry).order_by(ConfigAuditEntry.id.desc()).limit(limit)
    tz = ZoneInfo(zone)
    if wanted.kind:
        query = query.where(ConfigAuditEntry.entity == wanted.kind)
    if wanted.who:
        query = query.where(ConfigAuditEntry.actor == wanted.who)
    if wanted.first:
        query = query.where(ConfigAuditEntry.at >= datetime.combine(wanted.first, time(0), tz))
    if wanted.last:
        after = datetime.combine(wanted.last + timedelta(days=1), time(0), tz)
        query = query.where(ConfigAuditEntry.at < after)
    return list(s.scalars(query))


def matching(lines: list[AuditLine], text: str) -> list[AuditLine]:
    """The lines whose thing, person or changes hold `text` (any case)."""
    needle = text.strip().lower()
    if not needle:
        return lines
    return [line for line in lines if needle in " ".join(
        [line.thing, line.who, line.kind, *(f"{c.field} {c.before} {c.after}"
                                            for c in line.changes)]).lower()]


def people(s: Session) -> list[str]:
    """Everyone who has changed anything, for the filter."""
    return list(s.scalars(select(ConfigAuditEntry.actor).distinct().order_by(
        ConfigAuditEntry.actor)))

"""Validated changes to the line's configuration, each with one audit entry in its transaction.

Every function takes the session of the change, the acting administrator (`audit.Actor`)
and what to change; it checks everything first, raising `ConfigError(field, message)` with
nothing changed, then applies the change and records the before and after. The caller
commits (the web request or CLI command owns the transaction).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from admin import directory
from admin import validate as v
from admin.audit import Actor, record, snapshot
from admin.validate import ConfigError
from holdless.settings import TWILIO_MAX_QUEUE_SIZE, TWILIO_QUEUE_MARGIN, Settings
from holdless.speech import DEFAULT_LANGUAGE, LANGUAGES
from ivr.policy import default
from models.admin import CALLBACK_DEFAULTS, CallbackPolicy, StaffingPlan
from models.entities import (
    ROLE_ADMIN,
    ROLE_AGENT,
    Agent,
    AgentQueue,
    Holiday,
    OpeningHours,
    Queue,
)
from models.privacy import RECORDING_MODES, RETENTION_FIELDS
from queueing.limits import MAX_OVERFLOW_AFTER_SECONDS, MAX_PRIORITY_BONUS_SECONDS

DIAL_MODES = ("agent-first", "customer-first")
# A Twilio <Say> voice: Polly.<Name>[-Neural|-Generative] or Google.<locale>-<kind>-<letter>
# (www.twilio.com/docs/voice/twiml/say/text-speech).
VOICE_NAME = re.compile(r"^(Polly\.[A-Z][A-Za-z]+(-Neural|-Generative)?"
                        r"|Google\.[a-z]{2,3}-[A-Z]{2}-[A-Za-z0-9]+-[A-Z])$")
# Admin-written texts a queue may enter per language, and their longest length.
QUEUE_TEXTS = {"greeting": 1000, "closed": 500}
MAX_HOLIDAY_DAYS = 366

__all__ = ["ConfigError", "add_holiday", "callback_policy", "create_queue",
           "find_queue", "open_hours", "remove_holiday", "save_agent", "set_callback_policy",
           "set_hours", "set_staffing", "set_staffing_cells", "set_time_zone", "set_week",
           "staffing_plan", "update_queue", "week_hours"]


def find_queue(s: Session, queue: Queue | str) -> Queue:
    """The queue given, or the queue with that slug; ConfigError("queue") when there is none."""
    if isinstance(queue, Queue):
        return queue
    found = s.scalar(select(Queue).where(Queue.slug == queue))
    if found is None:
        raise ConfigError("queue", f"no queue {queue!r}")
    return found


def _label(opens: time, closes: time) -> str:
    return f"{opens:%H:%M}-{'24:00' if closes == v.MIDNIGHT else f'{closes:%H:%M}'}"


def hours_text(queue: Queue, weekday: int) -> list[str]:
    """A queue's ranges on one weekday as "HH:MM-HH:MM" labels, in order."""
    spans = sorted((h.opens, h.closes) for h in queue.hours if h.weekday == weekday)
    return [_label(o, c) for o, c in spans]


def set_hours(s: Session, actor: Actor, queue: Queue | str, weekday: Any,
              ranges: str | Iterable[Sequence[Any]]) -> list[str]:
    """Replace a queue's open ranges on one weekday (local to its zone); [] closes the day."""
    row = find_queue(s, queue)
    day = v.weekday(weekday)
    spans = v.day_ranges("hours", ranges)
    before = hours_text(row, day)
    row.hours = [h for h in row.hours if h.weekday != day] + [
        OpeningHours(weekday=day, opens=o, closes=c) for o, c in spans]
    s.flush()
    after = hours_text(row, day)
    record(s, actor, "update", "opening_hours", f"{row.id}:{day}",
           {"queue": row.slug, "weekday": day, "ranges": before},
           {"queue": row.slug, "weekday": day, "ranges": after})
    return after


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def week_hours(queue: Queue) -> dict[int, list[str]]:
    """A queue's ranges for each weekday (0 = Monday) as "HH:MM-HH:MM" labels."""
    return {day: hours_text(queue, day) for day in range(7)}


def set_week(s: Session, actor: Actor, queue: Queue | str,
             days: Mapping[Any, str | Iterable[Sequence[Any]]]) -> dict[int, list[str]]:
    """Replace a queue's open ranges for the whole week at once (every weekday checked
    before any is saved; a weekday not given is closed); one audit entry for the week.
    A refused day is named by its field, hours_0 (Monday) to hours_6 (Sunday)."""
    row = find_queue(s, queue)
    unknown = [k for k in days if str(k) not in {str(d) for d in range(7)}]
    if unknown:
        raise ConfigError("weekday", f"{unknown[0]!r} is not a weekday 0-6")
    given = {int(k): value for k, value in days.items()}
    spans = {}
    for day in range(7):
        try:
            spans[day] = v.day_ranges(f"hours_{day}", given.get(day, ""))
        except ConfigError as exc:
            raise ConfigError(exc.field, f"{WEEKDAY_NAMES[day]}: {exc.message}") from None
    before = week_hours(row)
    row.hours = [OpeningHours(weekday=day, opens=o, closes=c)
                 for day in range(7) for o, c in spans[day]]
    s.flush()
    after = week_hours(row)
    record(s, actor, "update", "opening_hours", f"{row.id}:week",
           {"queue": row.slug, "week": before}, {"queue": row.slug, "week": after})
    return after


def open_hours(queue: Queue, weekday: int) -> float:
    """How many hours a queue is open on a weekday by its weekly ranges."""
    spans = [(h.opens, h.closes) for h in queue.hours if h.weekday == weekday]
    return sum(v.minutes(c, end=True) - v.minutes(o) for o, c in spans) / 60


def _digit(s: Session, row: Queue | None, value: Any) -> str | None:
    if value in (None, ""):
        return None
    digit = str(value).strip()
    if len(digit) != 1 or digit not in "0123456789":
        raise ConfigError("digit", "must be one digit 0-9")
    others = select(Queue).where(Queue.digit == digit)
    taken = s.scalar(others if row is None else others.where(Queue.id != row.id))
    if taken is not None:
        raise ConfigError("digit", f"digit {digit} is already the key of queue {taken.slug}")
    return digit


def _max_waiting(value: Any) -> int | None:
    """A line's limit, refused above what a Twilio queue can hold: Holdless gives each of its
    Twilio queues the configured size (Twilio's maximum, 5000, by default), so there is no
    larger queue to resize to; the admin is told at once rather than callers being refused."""
    if value in (None, ""):
        return None
    most = TWILIO_MAX_QUEUE_SIZE - TWILIO_QUEUE_MARGIN
    number = v.whole_number("max_waiting", value, 0)
    if number > most:
        raise ConfigError("max_waiting", f"can be at most {most}: a Twilio queue holds at most "
                          f"{TWILIO_MAX_QUEUE_SIZE} calls, and {TWILIO_QUEUE_MARGIN} places are "
                          "kept free for callers being told their place")
    return number


def _overflow_queue(s: Session, row: Queue, value: Any) -> str | None:
    if value in (None, ""):
        return None
    slug = str(value).strip()
    if slug == row.slug:
        raise ConfigError("overflow_queue", "must be another queue (or empty for no overflow)")
    if s.scalar(select(Queue.id).where(Queue.slug == slug)) is None:
        raise ConfigError("overflow_queue", f"no queue {slug!r}")
    return slug


def _dial_mode(value: Any) -> str:
    if value not in DIAL_MODES:
        raise ConfigError("dial_mode", f"must be one of {', '.join(DIAL_MODES)}")
    return str(value)


# The longest a queue may keep what it holds about callers (ten years).
MAX_KEEP_DAYS = 3650


def _recording_mode(value: Any) -> str:
    if value not in RECORDING_MODES:
        raise ConfigError("recording_mode", f"must be one of {', '.join(RECORDING_MODES)}")
    return str(value)


def _keep_days(field: str) -> Callable[[Session, Queue, Any], int | None]:
    """Days to keep one kind of data: empty keeps it until erased; at least 1 (a day's
    first-contact figures need the next 24 hours), at most MAX_KEEP_DAYS."""
    return lambda s, q, x: None if x in (None, "") else v.whole_number(field, x, 1, MAX_KEEP_DAYS)
def _language(field: str, value: Any) -> str | None:
    """A language Holdless speaks ("" or None: English, the default)."""
    if value in (None, ""):
        return None
    if value not in LANGUAGES:
        raise ConfigError(field, f"must be one of {', '.join(LANGUAGES)}, got {value!r}")
    return str(value)


def _voice(row: Queue, value: Any) -> str | None:
    """A Twilio voice name ("Polly.Vicki"), or None for the language's documented one."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not VOICE_NAME.match(value):
        raise ConfigError("voice", "must be a Twilio voice name such as Polly.Vicki or "
                          "Google.de-DE-Standard-A")
    return value


def _voice_is_heard(row: Queue, clean: Mapping[str, Any]) -> None:
    """Refuse a voice no caller would hear: a language Twilio has no voice for (Estonian)
    plays recorded prompts, never a voice reading its words (docs/languages.md)."""
    voice = clean.get("voice", row.voice)
    tag = clean.get("language", row.language) or DEFAULT_LANGUAGE
    if voice and not LANGUAGES[tag].voice:
        raise ConfigError("voice" if "voice" in clean else "language",
                          f"{tag} ({LANGUAGES[tag].name}) has no Twilio voice: its callers "
                          "hear recorded prompts, so no voice can be set (leave the voice "
                          "empty)")


def _further_languages(value: Any) -> str | None:
    """Further languages a queue's callers may choose: tags, comma-separated."""
    tags = [t.strip() for t in (value if isinstance(value, list) else
                                str(value or "").split(",")) if str(t).strip()]
    for tag in tags:
        _language("languages", tag)
    return ",".join(dict.fromkeys(tags)) or None


def texts_per_language(field: str, value: Any, max_length: int) -> dict[str, str]:
    """Admin-written texts per language: {"de-DE": "…"} (empty texts left out)."""
    if not isinstance(value, dict):
        raise ConfigError(field, 'must map languages to texts, e.g. {"de-DE": "…"}')
    return {str(_language(field, tag)): v.text(f"{field}.{tag}", text, max_length,
                                                 required=False)
            for tag, text in value.items() if text}


def _queue_texts(value: Any) -> dict[str, dict[str, str]] | None:
    """A queue's texts per language: {"greeting": {"de-DE": "…"}, "closed": {…}}."""
    if value in (None, ""):
        return None
    if not isinstance(value, dict) or set(value) - set(QUEUE_TEXTS):
        raise ConfigError("texts", f"must map {' or '.join(QUEUE_TEXTS)} to texts per language")
    return {field: texts_per_language(f"texts.{field}", entered, QUEUE_TEXTS[field])
            for field, entered in value.items()}


def per_language(changes: Mapping[str, Any], field: str, max_length: int) -> dict[str, str]:
    """The texts a page sends one field a language ("greeting:de-DE"), checked, by tag."""
    found = {}
    for key, text in changes.items():
        name, _, tag = key.partition(":")
        if name == field and tag:
            _language(key, tag)
            found[tag] = v.text(key, text, max_length, required=False)
    return found


def _fold_texts(row: Queue, changes: Mapping[str, Any]) -> dict[str, Any]:
    """A page's per-language fields ("greeting:de-DE", "closed:da-DK") as the queue's
    `texts`, merged with what it has (an emptied field removes that text)."""
    flat = {k: v for k, v in changes.items() if k.partition(":")[0] in QUEUE_TEXTS and ":" in k}
    if not flat:
        return dict(changes)
    texts = {field: dict(entered) for field, entered in (row.texts or {}).items()}
    for field, longest in QUEUE_TEXTS.items():
        for tag, text in per_language(flat, field, longest).items():
            texts.setdefault(field, {})[tag] = text
            if not text:
                del texts[field][tag]
    rest = {k: v for k, v in changes.items() if k not in flat}
    return {**rest, "texts": {**texts, **(rest.get("texts") or {})}}


QueueCheck = Callable[[Session, Queue, Any], Any]
QUEUE_FIELDS: dict[str, QueueCheck] = {
    "name": lambda s, q, x: v.name("name", x, 80),
    "digit": _digit,
    "greeting": lambda s, q, x: v.text("greeting", x, 1000, required=False),
    "time_zone": lambda s, q, x: v.time_zone(x),
    "callback_threshold_seconds": lambda s, q, x: v.whole_number(
        "callback_threshold_seconds", x, 0),
    "busy_threshold_seconds": lambda s, q, x: v.whole_number("busy_threshold_seconds", x, 0),
    "max_waiting": lambda s, q, x: _max_waiting(x),
    "priority_bonus_seconds": lambda s, q, x: v.whole_number(
        "priority_bonus_seconds", x, 0, MAX_PRIORITY_BONUS_SECONDS),
    "overflow_queue": _overflow_queue,
    "overflow_after_seconds": lambda s, q, x: v.whole_number(
        "overflow_after_seconds", x, 0, MAX_OVERFLOW_AFTER_SECONDS),
    "sl_target_seconds": lambda s, q, x: v.whole_number("sl_target_seconds", x, 1),
    "sl_target_percent": lambda s, q, x: v.whole_number("sl_target_percent", x, 1, 100),
    "dial_mode": lambda s, q, x: _dial_mode(x),
    "survey_enabled": lambda s, q, x: v.flag("survey_enabled", x),
    "ask_account": lambda s, q, x: v.flag("ask_account", x),
    "active": lambda s, q, x: v.flag("active", x),
    # The live board's alarms: null (or empty, from the page) turns one off.
    "alert_oldest_wait_seconds": lambda s, q, x: None if x in (None, "") else v.whole_number(
        "alert_oldest_wait_seconds", x, 1, 24 * 3600),
    "alert_service_level_percent": lambda s, q, x: None if x in (None, "") else v.whole_number(
        "alert_service_level_percent", x, 1, 100),
    "recording_mode": lambda s, q, x: _recording_mode(x),
    **{name: _keep_days(name) for name in RETENTION_FIELDS},
    "language": lambda s, q, x: _language("language", x),
    "voice": lambda s, q, x: _voice(q, x),
    "languages": lambda s, q, x: _further_languages(x),
    "texts": lambda s, q, x: _queue_texts(x),
}


def update_queue(s: Session, actor: Actor, queue: Queue | str,
                 changes: Mapping[str, Any]) -> Queue:
    """Change a queue's settings (any of QUEUE_FIELDS); all are checked before any is set."""
    row = find_queue(s, queue)
    changes = _fold_texts(row, changes)
    unknown = sorted(set(changes) - set(QUEUE_FIELDS))
    if unknown:
        raise ConfigError(unknown[0], "is not a queue setting")
    clean = {field: QUEUE_FIELDS[field](s, row, value) for field, value in changes.items()}
    _voice_is_heard(row, clean)
    before = snapshot(row)
    for field, value in clean.items():
        setattr(row, field, value)
    s.flush()
    record(s, actor, "update", "queue", row.id, before, snapshot(row))
    return row


def set_time_zone(s: Session, actor: Actor, queue: Queue | str, zone: Any) -> Queue:
    """Set the zone a queue's hours are read in (an IANA name zoneinfo knows)."""
    return update_queue(s, actor, queue, {"time_zone": zone})


def _holiday_dates(starts: Any, ends: Any) -> tuple[date, date]:
    first = v.calendar_date("starts", starts)
    last = first if ends in (None, "") else v.calendar_date("ends", ends)
    if last < first:
        raise ConfigError("ends", "must not be before the first day")
    if (last - first).days >= MAX_HOLIDAY_DAYS:
        raise ConfigError("ends", f"a holiday may last at most {MAX_HOLIDAY_DAYS} days")
    return first, last


def add_holiday(s: Session, actor: Actor, name: Any, starts: Any, ends: Any = None,
                queue: Queue | str | None = None, opens: Any = None, closes: Any = None,
                message: Any = "", messages: Any = None) -> Holiday:
    """A closed day or range (or special hours `opens`–`closes`), for one queue or all;
    its message in the queue's language and, in `messages`, in others."""
    label = v.name("name", name, 120)
    first, last = _holiday_dates(starts, ends)
    special_opens, special_closes = v.special_hours(opens, closes)
    words = v.text("message", message or "", 500, required=False)
    others = texts_per_language("messages", messages, 500) if messages else None
    row = Holiday(queue_id=None if queue is None else find_queue(s, queue).id, name=label,
                  starts=first, ends=last, opens=special_opens, closes=special_closes,
                  message=words, messages=others)
    s.add(row)
    s.flush()
    record(s, actor, "create", "holiday", row.id, None, snapshot(row))
    return row


def remove_holiday(s: Session, actor: Actor, holiday_id: int) -> None:
    """Delete a holiday; ConfigError("holiday") when there is no such holiday."""
    row = s.get(Holiday, holiday_id)
    if row is None:
        raise ConfigError("holiday", f"no holiday {holiday_id}")
    before = snapshot(row)
    s.delete(row)
    s.flush()
    record(s, actor, "delete", "holiday", holiday_id, before, None)


def callback_policy(s: Session, queue: Queue | str, settings: Settings) -> CallbackPolicy:
    """A queue's callback policy: its own row, or an unsaved one holding the defaults
    (their countries from `settings`)."""
    row = find_queue(s, queue)
    policy = s.scalar(select(CallbackPolicy).where(CallbackPolicy.queue_id == row.id))
    return policy or CallbackPolicy(queue_id=row.id, **_defaults(settings))


def _defaults(settings: Settings) -> dict[str, Any]:
    """The policy callbacks follow when a queue has none (see ivr.policy.default)."""
    values = {k: list(x) if isinstance(x, list) else x for k, x in CALLBACK_DEFAULTS.items()}
    values["allowed_countries"] = list(default(settings).countries)
    return values


def _countries(value: Any) -> list[str]:
    codes = sorted({v.country(c, "allowed_countries") for c in v.listed(value)})
    if not codes:
        raise ConfigError("allowed_countries", "name at least one country")
    return codes


POLICY_FIELDS: dict[str, Callable[[Any], Any]] = {
    "attempts": lambda x: v.whole_number("attempts", x, 1, 10),
    "spacing_minutes": lambda x: v.whole_number("spacing_minutes", x, 1, 1440),
    "allowed_countries": _countries,
    "allowed_number_types": v.number_types,
    "sms_booked": lambda x: v.text("sms_booked", x, 480),
    "sms_unreachable": lambda x: v.text("sms_unreachable", x, 480),
    "quiet_starts": lambda x: v.clock_time("quiet_starts", x),
    "quiet_ends": lambda x: v.clock_time("quiet_ends", x),
}


def set_callback_policy(s: Session, actor: Actor, queue: Queue | str,
                        changes: Mapping[str, Any], settings: Settings) -> CallbackPolicy:
    """Change a queue's callback policy (any of POLICY_FIELDS), creating its row if needed."""
    unknown = sorted(set(changes) - set(POLICY_FIELDS))
    if unknown:
        raise ConfigError(unknown[0], "is not a callback setting")
    clean = {field: POLICY_FIELDS[field](value) for field, value in changes.items()}
    policy = callback_policy(s, queue, settings)
    before = snapshot(policy, leave_out=("id",)) if policy.id is not None else None
    for field, value in clean.items():
        setattr(policy, field, value)
    s.add(policy)
    s.flush()
    record(s, actor, "update" if before else "create", "callback_policy", policy.id,
           before, snapshot(policy, leave_out=("id",)))
    return policy


def _interval_start(value: Any) -> time:
    start = v.clock_time("interval_start", value)
    if start.minute not in (0, 30) or start.second or start.microsecond:
        raise ConfigError("interval_start", "intervals start on the hour or half past")
    return start


def set_staffing(s: Session, actor: Actor, queue: Queue | str, weekday: Any,
                 interval_start: Any, agents: Any) -> StaffingPlan:
    """Plan `agents` for one queue's 30-minute interval of one weekday (local time)."""
    row = find_queue(s, queue)
    day, start = v.weekday(weekday), _interval_start(interval_start)
    count = v.whole_number("agents", agents, 0, 10_000)
    plan = s.scalar(select(StaffingPlan).where(StaffingPlan.queue_id == row.id,
                                               StaffingPlan.weekday == day,
                                               StaffingPlan.interval_start == start))
    before = None if plan is None else snapshot(plan)
    if plan is None:
        plan = StaffingPlan(queue_id=row.id, weekday=day, interval_start=start)
        s.add(plan)
    plan.agents = count
    s.flush()
    record(s, actor, "update" if before else "create", "staffing_plan", plan.id, before,
           snapshot(plan))
    return plan


MAX_PLAN_CELLS = 7 * 48


def _cell_label(key: tuple[int, time]) -> str:
    return f"{WEEKDAY_NAMES[key[0]]} {key[1]:%H:%M}"


def set_staffing_cells(s: Session, actor: Actor, queue: Queue | str,
                       cells: Any) -> list[StaffingPlan]:
    """Plan many 30-minute cells at once (a fill or a copied day): every cell is checked
    before any is saved; one audit entry holds the cells' before and after."""
    row = find_queue(s, queue)
    if not isinstance(cells, list) or not 0 < len(cells) <= MAX_PLAN_CELLS:
        raise ConfigError("cells", f"give 1 to {MAX_PLAN_CELLS} cells")
    clean = {}
    for cell in cells:
        if not isinstance(cell, dict):
            raise ConfigError("cells", "each cell is {weekday, interval_start, agents}")
        key = (v.weekday(cell.get("weekday")), _interval_start(cell.get("interval_start")))
        clean[key] = v.whole_number("agents", cell.get("agents"), 0, 10_000)
    existing = {(p.weekday, p.interval_start): p for p in s.scalars(
        select(StaffingPlan).where(StaffingPlan.queue_id == row.id))}
    before = {_cell_label(k): existing[k].agents for k in clean if k in existing}
    saved = []
    for key, count in clean.items():
        plan = existing.get(key) or StaffingPlan(queue_id=row.id, weekday=key[0],
                                                 interval_start=key[1])
        plan.agents = count
        s.add(plan)
        saved.append(plan)
    s.flush()
    after = {_cell_label(k): n for k, n in clean.items()}
    record(s, actor, "update", "staffing_plan", f"{row.id}:cells",
           {"queue": row.slug, "cells": before}, {"queue": row.slug, "cells": after})
    return saved


def staffing_plan(s: Session, queue: Queue | str) -> dict[tuple[int, time], int]:
    """A queue's planned agents by (weekday, interval start)."""
    row = find_queue(s, queue)
    plans = s.scalars(select(StaffingPlan).where(StaffingPlan.queue_id == row.id))
    return {(p.weekday, p.interval_start): p.agents for p in plans}




def create_queue(s: Session, actor: Actor, slug: str, name: str, digit: str | None = None,
                 time_zone: str | None = None,
                 defaults: directory.QueueDefaults = directory.BUILT_IN_DEFAULTS) -> Queue:
    """A new queue (slug, name, menu digit, zone; the rest from `defaults`), refused with the
    field that is wrong."""
    zone = v.time_zone(time_zone or defaults.time_zone)
    label = v.name("name", name, 80)
    key = _digit(s, None, digit)
    try:
        row = directory.create_queue(s, slug, label, key, zone, defaults)
    except directory.DirectoryError as exc:
        raise ConfigError("slug", str(exc)) from None
    record(s, actor, "create", "queue", row.id, None, snapshot(row))
    return row


AGENT_PRIVATE = ("password_hash", "state", "state_since", "missed_offers")


def _agent_view(agent: Agent) -> dict[str, Any]:
    return {**snapshot(agent, leave_out=AGENT_PRIVATE), "queues": agent.queue_slugs}


def _contact(value: Any) -> str:
    if isinstance(value, str) and value.startswith("client:"):
        identity = value.removeprefix("client:")
        if identity and all(ch.isalnum() or ch in "_.-" for ch in identity):
            return value
        raise ConfigError("contact", "client identity may hold letters, digits, _ . -")
    return v.e164("contact", value)


def _role(value: Any) -> str:
    if value not in directory.ROLES:
        raise ConfigError("role", f"must be one of {', '.join(directory.ROLES)}")
    return str(value)


def _queue_rows(s: Session, value: Any) -> list[Queue]:
    slugs = sorted(set(v.listed(value)))
    found = {q.slug: q for q in s.scalars(select(Queue).where(Queue.slug.in_(slugs)))}
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise ConfigError("queues", f"unknown queue(s): {', '.join(missing)}")
    return [found[slug] for slug in slugs]


def _password(value: Any) -> str:
    if not isinstance(value, str) or len(value) < MIN_PASSWORD:
        raise ConfigError("password", f"must be at least {MIN_PASSWORD} characters")
    return generate_password_hash(value)


AGENT_FIELDS: dict[str, Callable[[Session, Any], Any]] = {
    "name": lambda s, x: v.name("name", x, 80),
    "contact": lambda s, x: _contact(x),
    "role": lambda s, x: _role(x),
    "queues": _queue_rows,
    "password": lambda s, x: _password(x),
    "active": lambda s, x: v.flag("active", x),
}
MIN_PASSWORD = 8


def _keep_an_admin(s: Session, agent: Agent, role: str, field: str = "role") -> None:
    if agent.id is None or agent.role != ROLE_ADMIN or role == ROLE_ADMIN:
        return
    others = s.scalar(select(func.count()).select_from(Agent).where(
        Agent.role == ROLE_ADMIN, Agent.id != agent.id, Agent.active.is_(True)))
    if not others:
        raise ConfigError(field, "the last administrator cannot give up the admin role"
                          if field == "role" else "the last administrator cannot be deactivated")


def save_agent(s: Session, actor: Actor, username: str, changes: Mapping[str, Any]) -> Agent:
    """Create the agent `username` or change its name, contact, role, queues or password."""
    unknown = sorted(set(changes) - set(AGENT_FIELDS))
    if unknown:
        raise ConfigError(unknown[0], "is not an agent setting")
    clean = {field: AGENT_FIELDS[field](s, value) for field, value in changes.items()}
    agent = s.scalar(select(Agent).where(Agent.username == username))
    if agent is None:
        login = v.text("username", username, 80)
        for needed in ("name", "contact"):
            if needed not in clean:
                raise ConfigError(needed, "is needed for a new agent")
        agent = Agent(username=login, role=ROLE_AGENT)
        s.add(agent)
    before = None if agent.id is None else _agent_view(agent)
    if "role" in clean:
        _keep_an_admin(s, agent, clean["role"])
    if clean.get("active") is False:
        _keep_an_admin(s, agent, ROLE_AGENT, field="active")
    _apply_agent(agent, clean)
    s.flush()
    after = {**_agent_view(agent), **({"password": "changed"} if "password" in clean else {})}
    record(s, actor, "update" if before else "create", "agent", agent.id, before, after)
    return agent


def _apply_agent(agent: Agent, clean: Mapping[str, Any]) -> None:
    for field in ("name", "contact", "role", "active"):
        if field in clean:
            setattr(agent, field, clean[field])
    if clean.get("active") is False:  # a deactivated agent serves no queue; history stays
        agent.queue_links = []
        return
    if "password" in clean:
        agent.password_hash = clean["password"]
    if "queues" in clean:
        wanted = {q.id for q in clean["queues"]}
        agent.queue_links = [link for link in agent.queue_links if link.queue_id in wanted] + [
            AgentQueue(queue=q) for q in clean["queues"]
            if q.id not in {link.queue_id for link in agent.queue_links}]

"""The administrator's JSON API (/api/admin): queues and their hours, holidays (with the
public-holiday import), callback policy, staffing plan beside the Erlang recommendation,
agents, the audit log, the live board, booked callbacks, texts that failed, and a day's
report (JSON, CSV, PNG).

Admins only (supervisors may read the board and the reports): 401 signed out, 403 for
other roles. State changes need the X-CSRFToken header
(CSRFProtect, 400 otherwise). Every change goes through admin.config (or admin.booked), which
validates it - a refused change is a 400 naming the field and changes nothing - and writes
one audit entry in the change's own transaction.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from admin import (
    audit,
    audit_words,
    board,
    booked,
    config,
    public_holidays,
    reports,
    staffing,
    texts,
)
from admin import validate as v
from admin.audit import Actor, plain, snapshot
from admin.validate import ConfigError
from holdless import tasks
from models.base import MAX_STORED_INT
from models.entities import ROLE_ADMIN, ROLE_SUPERVISOR, Agent, Holiday, Queue
from queueing import agents, dispatch
from webhooks.auth import current_agent, login_manager

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

bp = Blueprint("admin_api", __name__, url_prefix="/api/admin")

MAX_ID = MAX_STORED_INT  # the widest id every database here stores
MAX_AUDIT = 500


# What supervisors may read here besides admins: the board and the reports (no settings).
SUPERVISOR_ENDPOINTS = frozenset({"admin_api.live_board", "admin_api.day_report",
                                  "admin_api.day_report_csv", "admin_api.day_report_chart",
                                  "admin_api.period_report", "admin_api.period_report_csv",
                                  "admin_api.period_report_chart"})


@bp.before_request
def _admins_only() -> Any:
    """401 signed out, 403 unless the agent's role is admin (or supervisor, for the board
    and the reports)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role == ROLE_SUPERVISOR and request.endpoint in SUPERVISOR_ENDPOINTS:
        return None
    if current_user.role != ROLE_ADMIN:
        abort(403, description="needs role: admin")
    return None


@bp.url_value_preprocessor
def _bounded_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An id no database row can have is simply not found."""
    for name in ("holiday_id", "callback_id"):
        if values and not 1 <= values.get(name, 1) <= MAX_ID:
            abort(404, description=f"no such {name.removesuffix('_id')}")


@bp.errorhandler(ConfigError)
def _refused(exc: ConfigError) -> Any:
    return jsonify(error="Bad Request", detail=f"{exc.field}: {exc.message}",
                   field=exc.field, message=exc.message), 400


def _rt() -> Runtime:
    return current_app.extensions["holdless"]


def _actor() -> Actor:
    me = current_agent()
    return Actor(me.id, me.username)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="body: a JSON object is required")
    return data


def _queue_view(q: Queue) -> dict[str, Any]:
    return {**snapshot(q), "hours": {str(d): config.hours_text(q, d) for d in range(7)}}


def _found_queue(s: Any, slug: str) -> Queue:
    queue = s.scalar(select(Queue).where(Queue.slug == slug))
    if queue is None:
        abort(404, description=f"no queue {slug!r}")
    return queue


def _optional_queue(s: Any, value: Any) -> Queue | None:
    """The queue a holiday is for (a slug), or None (empty: every queue)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ConfigError("queue", "must be a queue slug")
    return _found_queue(s, value)


@bp.get("/queues")
def list_queues() -> Any:
    """Every queue with its settings and weekly hours."""
    with _rt().db.session() as s:
        rows = s.scalars(select(Queue).order_by(Queue.digit, Queue.id))
        return jsonify(queues=[_queue_view(q) for q in rows])


@bp.post("/queues")
def create_queue() -> Any:
    """A new queue (slug, name, digit, time_zone, and any other setting)."""
    data = dict(_body())
    first = {k: data.pop(k, None) for k in ("slug", "name", "digit", "time_zone")}
    slug = v.text("slug", first["slug"], 40)
    with _rt().db.session() as s:
        row = config.create_queue(s, _actor(), slug, first["name"], first["digit"],
                                  first["time_zone"], _rt().queue_defaults)
        if data:
            config.update_queue(s, _actor(), row, data)
        view = _queue_view(row)
        s.commit()
    # Its Twilio queue is made with the size the line needs (callbacks.twilio_queues).
    _rt().enqueue(tasks.SIZE_TWILIO_QUEUES, job_id=tasks.SIZE_TWILIO_QUEUES_JOB_ID)
    return jsonify(view), 201


@bp.patch("/queues/<slug>")
def update_queue(slug: str) -> Any:
    """Change a queue's settings; all are checked before any is set."""
    data = _body()
    with _rt().db.session() as s:
        row = config.update_queue(s, _actor(), _found_queue(s, slug), data)
        return jsonify(_queue_view(row))


@bp.put("/queues/<slug>/hours")
def set_hours(slug: str) -> Any:
    """Replace one weekday's open ranges ("09:00-12:00,13:00-17:00", pairs, or [] closed)."""
    data = _body()
    ranges = data.get("ranges", "")
    if not isinstance(ranges, str | list):
        raise ConfigError("ranges", "give text like 09:00-17:00 or a list of pairs")
    with _rt().db.session() as s:
        after = config.set_hours(s, _actor(), _found_queue(s, slug), data.get("weekday"), ranges)
        return jsonify(weekday=v.weekday(data.get("weekday")), ranges=after)


@bp.put("/queues/<slug>/week")
def set_week(slug: str) -> Any:
    """Replace the whole week's open ranges: {"days": {"0": "09:00-17:00", ..., "6": ""}}
    (a day left out is closed); every day is checked before any is saved."""
    days = _body().get("days")
    if not isinstance(days, dict):
        raise ConfigError("days", "give each weekday's hours, 0 = Monday to 6 = Sunday")
    for value in days.values():
        if not isinstance(value, str | list):
            raise ConfigError("days", "give text like 09:00-17:00 or a list of pairs")
    with _rt().db.session() as s:
        after = config.set_week(s, _actor(), _found_queue(s, slug), days)
        return jsonify(queue=slug, days={str(d): r for d, r in after.items()})


def _holiday_view(h: Holiday, slugs: dict[int, str]) -> dict[str, Any]:
    return {**snapshot(h), "queue": slugs.get(h.queue_id) if h.queue_id else None}


@bp.get("/holidays")
def list_holidays() -> Any:
    """Every holiday, by first day."""
    with _rt().db.session() as s:
        slugs = {i: slug for i, slug in s.execute(select(Queue.id, Queue.slug))}
        rows = s.scalars(select(Holiday).order_by(Holiday.starts, Holiday.id))
        return jsonify(holidays=[_holiday_view(h, slugs) for h in rows])


@bp.post("/holidays")
def add_holiday() -> Any:
    """A closed day or range, or special hours, with its own closed message."""
    d = _body()
    with _rt().db.session() as s:
        queue = _optional_queue(s, d.get("queue"))
        row = config.add_holiday(s, _actor(), d.get("name"), d.get("starts"), d.get("ends"),
                                 queue, d.get("opens"), d.get("closes"), d.get("message", ""),
                                 d.get("messages") or config.per_language(d, "message", 500))
        slugs = {queue.id: queue.slug} if queue is not None else {}
        return jsonify(_holiday_view(row, slugs)), 201


@bp.delete("/holidays/<int:holiday_id>")
def remove_holiday(holiday_id: int) -> Any:
    """Delete a holiday."""
    with _rt().db.session() as s:
        if s.get(Holiday, holiday_id) is None:
            abort(404, description="no such holiday")
        config.remove_holiday(s, _actor(), holiday_id)
    return "", 204


@bp.post("/holidays/import")
def import_holidays() -> Any:
    """One click: a country's public holidays for a year as closed days (idempotent)."""
    d = _body()
    with _rt().db.session() as s:
        queue = _optional_queue(s, d.get("queue"))
        added = public_holidays.import_public_holidays(
            s, d.get("country"), d.get("year"), d.get("subdivision"), queue, actor=_actor())
        return jsonify(added=[{"id": h.id, "date": h.starts.isoformat(), "name": h.name}
                              for h in added])


def _policy_view(slug: str, policy: Any) -> dict[str, Any]:
    return {"queue": slug, **snapshot(policy, leave_out=("id", "queue_id"))}


@bp.get("/queues/<slug>/callback-policy")
def get_callback_policy(slug: str) -> Any:
    """A queue's callback policy (the defaults until it has its own)."""
    with _rt().db.session() as s:
        queue = _found_queue(s, slug)
        return jsonify(_policy_view(slug, config.callback_policy(s, queue, _rt().settings)))


@bp.patch("/queues/<slug>/callback-policy")
def set_callback_policy(slug: str) -> Any:
    """Change attempts, spacing, allowed countries and number types, SMS texts."""
    data = _body()
    rt = _rt()
    with rt.db.session() as s:
        queue = _found_queue(s, slug)
        policy = config.set_callback_policy(s, _actor(), queue, data, rt.settings)
        return jsonify(_policy_view(slug, policy))


def _interval_view(row: staffing.IntervalStaffing) -> dict[str, Any]:
    return {"weekday": row.weekday, "start": row.start.strftime("%H:%M"), "label": row.label,
            "forecast_calls": None if row.forecast_calls is None
            else round(row.forecast_calls, 2),
            "aht_seconds": round(row.aht_seconds, 1), "on_phones": row.on_phones,
            "needed": row.needed, "planned": row.planned, "shortfall": row.shortfall}


def shrinkage_share(value: str | None) -> float:
    """The share of rostered time not on the phones (?shrinkage=PERCENT, 0 to 90)."""
    if value in (None, ""):
        return 0.0
    return v.whole_number("shrinkage", value, 0, 90) / 100


def patience_seconds(value: str | None) -> float | None:
    """Callers' mean patience for Erlang A (?patience=SECONDS), or None for Erlang C."""
    if value in (None, ""):
        return None
    return float(v.whole_number("patience", value, 1, 3600))


@bp.get("/queues/<slug>/staffing")
def get_staffing(slug: str) -> Any:
    """The week's plan beside the agents needed per 30-minute interval, and the gaps
    (Erlang C; Erlang A with ?patience=SECONDS, the callers' mean patience; agents to
    roster grown by ?shrinkage=PERCENT); the weekdays with no history to forecast from."""
    patience = patience_seconds(request.args.get("patience"))
    shrinkage = shrinkage_share(request.args.get("shrinkage"))
    with _rt().db.session() as s:
        queue = _found_queue(s, slug)
        rows = staffing.week_staffing(s, queue, patience_seconds=patience, shrinkage=shrinkage)
        return jsonify(queue=slug, target_percent=queue.sl_target_percent,
                       within_seconds=queue.sl_target_seconds, patience_seconds=patience,
                       shrinkage_percent=round(shrinkage * 100),
                       days_without_history=staffing.days_without_history(rows),
                       intervals=[_interval_view(r) for r in rows],
                       gaps=staffing.shortfalls(rows))


@bp.put("/queues/<slug>/staffing")
def set_staffing(slug: str) -> Any:
    """Plan a number of agents for one weekday's 30-minute interval, or many at once
    ({"cells": [{weekday, interval_start, agents}, ...]}: all checked before any is saved)."""
    d = _body()
    with _rt().db.session() as s:
        if "cells" in d:
            saved = config.set_staffing_cells(s, _actor(), _found_queue(s, slug), d["cells"])
            return jsonify(queue=slug, cells=[{
                "weekday": p.weekday, "interval_start": p.interval_start.strftime("%H:%M"),
                "agents": p.agents} for p in saved])
        plan = config.set_staffing(s, _actor(), _found_queue(s, slug), d.get("weekday"),
                                   d.get("interval_start"), d.get("agents"))
        return jsonify(queue=slug, weekday=plan.weekday,
                       interval_start=plan.interval_start.strftime("%H:%M"), agents=plan.agents)


def _agent_view(agent: Agent) -> dict[str, Any]:
    return {**snapshot(agent, leave_out=config.AGENT_PRIVATE), "queues": agent.queue_slugs}


@bp.get("/agents")
def list_agents() -> Any:
    """Every agent with their role and queues (never a password hash)."""
    with _rt().db.session() as s:
        return jsonify(agents=[_agent_view(a)
                               for a in s.scalars(select(Agent).order_by(Agent.username))])


@bp.post("/agents")
def create_agent() -> Any:
    """A new agent: username, name, contact, password, role, queues."""
    d = dict(_body())
    username = v.text("username", d.pop("username", None), 80)
    with _rt().db.session() as s:
        if s.scalar(select(Agent).where(Agent.username == username)) is not None:
            raise ConfigError("username", f"{username!r} is taken")
        if "password" not in d:
            raise ConfigError("password", "is needed to sign in")
        return jsonify(_agent_view(config.save_agent(s, _actor(), username, d))), 201


@bp.patch("/agents/<username>")
def update_agent(username: str) -> Any:
    """Change an agent's name, contact, role, queues or password, or deactivate them
    ("active": false: no sign-in, no queues, taken offline; their history stays)."""
    d = _body()
    with _rt().db.session() as s:
        if s.scalar(select(Agent).where(Agent.username == username)) is None:
            abort(404, description="no such agent")
        agent = config.save_agent(s, _actor(), username, d)
        view, agent_id, active = _agent_view(agent), agent.id, agent.active
    if not active:
        agents.take_offline(_rt(), agent_id, "deactivated by an administrator")
    elif "queues" in d:  # a signed-in agent serves the new queues at once
        dispatch.queues_changed(_rt(), agent_id)
    return jsonify(view)


@bp.get("/audit")
def audit_log() -> Any:
    """Configuration changes, newest first: who, when, what, before and after, and the same
    in words (who, thing by name, each change before → after, the zone of its time)."""
    limit = v.whole_number("limit", request.args.get("limit", "100"), 1, MAX_AUDIT)
    entity = request.args.get("entity") or None
    zone = _rt().settings.time_zone
    with _rt().db.session() as s:
        found = audit.history(s, entity, limit)
        lines = audit_words.describe(found, audit_words.Names.read(s, found), zone)
        return jsonify(entries=[{**snapshot(e), "words": {
            "who": w.who, "what": f"{w.kind} {w.action}", "thing": w.thing, "zone": w.zone,
            "changes": [asdict(c) for c in w.changes]}} for e, w in zip(found, lines, strict=True)])


@bp.get("/board")
def live_board() -> Any:
    """Per queue, live: waiting, oldest wait, estimate, callbacks open, agents by state."""
    return jsonify(board.live_board(_rt()))


@bp.get("/queues/<slug>/callbacks")
def list_callbacks(slug: str) -> Any:
    """A queue's open callbacks in line order: place, expected time, attempts."""
    rt = _rt()
    with rt.db.session() as s:
        _found_queue(s, slug)
        return jsonify(callbacks=[plain(asdict(c)) for c in booked.booked(rt, s, slug)])


@bp.post("/callbacks/<int:callback_id>/cancel")
def cancel_callback(callback_id: int) -> Any:
    """Cancel one open callback; it leaves the line."""
    booked.cancel(_rt(), _actor(), callback_id)
    return jsonify(id=callback_id, status="cancelled")


@bp.get("/texts/failures")
def text_failures() -> Any:
    """Texts that did not reach the customer (failed, undelivered, refused by Twilio), newest
    first, with Twilio's error code; and how many texts are in each status."""
    limit = v.whole_number("limit", request.args.get("limit", "100"), 1, texts.MAX_FAILURES)
    with _rt().db.session() as s:
        return jsonify(failures=[plain(asdict(f)) for f in texts.failures(s, limit)],
                       statuses=texts.summary(s))


@bp.post("/callbacks/<int:callback_id>/move")
def move_callback(callback_id: int) -> Any:
    """Move a booked callback to a slot (ISO date-time; local to the queue without offset)."""
    when = booked.move(_rt(), _actor(), callback_id, _body().get("slot"))
    return jsonify(id=callback_id, slot=when.isoformat())


def _range() -> tuple[date, date, str | None]:
    """The report's days (?from=&to=, or ?day=) and queue (?queue=, empty: every queue)."""
    first = request.args.get("from") or request.args.get("day")
    start, end = v.date_range(first, request.args.get("to"))
    queue = request.args.get("queue") or None
    if queue is not None:
        with _rt().db.session() as s:
            _found_queue(s, queue)
    return start, end, queue


def _report_json(start: date, end: date, queue: str | None) -> dict[str, Any]:
    with _rt().db.session() as s:
        found = reports.period_report(s, start, end, queue)
        callbacks = booked.range_counts(s, start, end, queue)
        surveys = [asdict(a) for a in reports.survey_by_agent(s, start, queue, end)]
        per_agent = [asdict(a) for a in reports.agent_figures(
            s, start, end, queue, _rt().settings.time_zone)]
    return {"day": found.day.isoformat(), "from": start.isoformat(), "to": end.isoformat(),
            "queue": found.queue, "zone": found.zone or None, "total": asdict(found.total),
            "callbacks": callbacks, "surveys": surveys, "agents": per_agent,
            "intervals": [{"interval": label, **asdict(f)} for label, f in found.intervals]}


@bp.get("/reports")
def period_report() -> Any:
    """Figures over any range of days (?from=YYYY-MM-DD&to=YYYY-MM-DD, all queues or
    ?queue=slug): overall, per interval (per day for a range), per agent, and callbacks."""
    return jsonify(_report_json(*_range()))


@bp.get("/reports/csv")
def period_report_csv() -> Any:
    """The range's figures as a CSV download: per interval (or day), or ?by=agent."""
    start, end, queue = _range()
    by = request.args.get("by") or "interval"
    if by not in ("interval", "agent"):
        raise ConfigError("by", "must be interval or agent")
    with _rt().db.session() as s:
        text = (reports.agents_csv(reports.agent_figures(
            s, start, end, queue, _rt().settings.time_zone)) if by == "agent"
            else reports.to_csv(reports.period_report(s, start, end, queue)))
    span = start.isoformat() if start == end else f"{start.isoformat()}_{end.isoformat()}"
    name = f"holdless-{queue or 'all'}-{span}{'-agents' if by == 'agent' else ''}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/reports/chart.png")
def period_report_chart() -> Any:
    """The range's chart (PNG): calls per interval or day, and the service level."""
    start, end, queue = _range()
    with _rt().db.session() as s:
        found = reports.period_report(s, start, end, queue)
        target = _found_queue(s, queue).sl_target_percent if queue else None
    return Response(reports.interval_chart(found, target), mimetype="image/png")


def _report(day: str) -> reports.Report:
    when: date = v.calendar_date("day", day)
    queue = request.args.get("queue") or None
    with _rt().db.session() as s:
        if queue is not None:
            _found_queue(s, queue)
        return reports.day_report(s, when, queue)


@bp.get("/reports/<day>")
def day_report(day: str) -> Any:
    """A day's figures (all queues, or ?queue=slug), overall and per 30-minute interval, per
    agent, and the callbacks requested that day by outcome (never abandoned calls)."""
    found = _report(day)
    return jsonify(_report_json(found.day, found.day, request.args.get("queue") or None))


@bp.get("/reports/<day>/csv")
def day_report_csv(day: str) -> Any:
    """The day's figures as a CSV download."""
    found = _report(day)
    name = f"holdless-{found.queue}-{found.day.isoformat()}.csv"
    return Response(reports.to_csv(found), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/reports/<day>/chart.png")
def day_report_chart(day: str) -> Any:
    """The day's interval-by-interval chart (PNG)."""
    found = _report(day)
    with _rt().db.session() as s:
        queue = request.args.get("queue")
        target = _found_queue(s, queue).sl_target_percent if queue else None
    return Response(reports.interval_chart(found, target), mimetype="image/png")


def init_app(app: Flask) -> None:
    """Register the admin API."""
    app.register_blueprint(bp)

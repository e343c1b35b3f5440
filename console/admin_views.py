"""The administrator's pages (/admin): server-rendered from the admin domain; the small plain
JS in static/admin.js sends every change to the /api/admin JSON API (validated, audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, available_timezones

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from admin import access, audit_words, booked, config, reports, staffing, texts
from admin import validate as v
from admin.validate import ConfigError
from console.views import harden
from holdless.speech import N_
from models.entities import Agent, Holiday, Queue
from models.privacy import PrivacyRequest
from webhooks.admin_api import patience_seconds, shrinkage_share
from webhooks.auth import current_agent, role_required

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

bp = Blueprint("admin_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/admin/static")

DAY_NAMES = staffing.DAY_NAMES
ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
PAGES = (("board_pages.board", N_("Board")), ("admin_pages.queues", N_("Queues & hours")),
         ("admin_pages.holidays", N_("Holidays")),
         ("admin_pages.callback_policy", N_("Callback policy")),
         ("admin_pages.staffing_page", N_("Staffing")), ("admin_pages.callbacks", N_("Callbacks")),
         ("admin_pages.agents", N_("Agents")), ("admin_pages.audit_log", N_("Audit log")),
         ("admin_pages.report", N_("Reports")), ("admin_pages.privacy", N_("Callers' data")))


# The pages a supervisor may open (the board and the reports; no settings).
SUPERVISOR_PAGES = ("board_pages.board", "admin_pages.report")


def pages_for(agent: Any) -> list[tuple[str, str]]:
    """The navigation an agent is shown: every page for admins, the board and the reports
    for supervisors."""
    return [p for p in PAGES if agent.role == "admin" or p[0] in SUPERVISOR_PAGES]


def _rt() -> Runtime:
    return current_app.extensions["holdless"]


def _page(template: str, **values: Any) -> str:
    return render_template(template, agent=current_agent(), pages=pages_for(current_agent()),
                           days=DAY_NAMES, **values)


def _queues(s: Any) -> list[Queue]:
    return list(s.scalars(select(Queue).order_by(Queue.digit, Queue.id)))


def _chosen(queues: list[Queue]) -> Queue | None:
    slug = request.args.get("queue")
    if slug is None:
        return queues[0] if queues else None
    found = next((q for q in queues if q.slug == slug), None)
    if found is None:
        abort(404, description=f"no queue {slug!r}")
    return found


@bp.get("/admin")
@role_required("admin")
def home() -> Any:
    """The live board is where administration starts."""
    return redirect(url_for("board_pages.board"))


# The number types a callback may go to, in words (the others the IVR always refuses).
NUMBER_TYPES = (("MOBILE", "Mobile"), ("FIXED_LINE", "Landline"),
                ("FIXED_LINE_OR_MOBILE", "Landline or mobile (where the number does not say)"),
                ("TOLL_FREE", "Toll-free"), ("VOIP", "Internet phone (VoIP)"))
ROLE_WORDS = {"agent": "agent", "supervisor": "supervisor", "admin": "administrator"}
CALLBACK_STATUS_WORDS = {"booked": "Booked", "dialling": "Dialling"}
DIAL_MODE_WORDS = {"agent-first": "the agent, then the customer",
                   "customer-first": "the customer, then the agent"}


def week_summary(queue: Queue) -> list[str]:
    """A queue's open hours per day in words, runs of days with the same hours together,
    e.g. ["Monday–Friday 09:00-17:00", "Saturday 10:00-14:00", "closed Sunday"]."""
    runs: list[tuple[int, int, str]] = []
    for day in range(7):
        spans = ", ".join(config.hours_text(queue, day))
        if runs and runs[-1][2] == spans and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day, spans)
        else:
            runs.append((day, day, spans))
    words = []
    for first, last, spans in runs:
        days = DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}–{DAY_NAMES[last]}"
        words.append(f"{days} {spans}" if spans else f"closed {days}")
    return words


@bp.get("/admin/queues")
@role_required("admin")
def queues() -> Any:
    """Every queue's settings and its week editor (copy to weekdays, a summary of the open
    hours per day, a warning before a day that had hours is left closed)."""
    with _rt().db.session() as s:
        rows = _queues(s)
        hours = {q.slug: {d: ", ".join(config.hours_text(q, d)) for d in range(7)} for q in rows}
        return _page("admin_queues.html", queues=rows, hours=hours,
                     summaries={q.slug: week_summary(q) for q in rows},
                     open_hours=config.open_hours, zones=ZONES,
                     default_zone=_rt().settings.time_zone,
                     dial_modes=[(m, DIAL_MODE_WORDS.get(m, m)) for m in config.DIAL_MODES])


@bp.get("/admin/holidays")
@role_required("admin")
def holidays() -> Any:
    """Holidays, adding one, and the one-click public-holiday import."""
    with _rt().db.session() as s:
        rows = list(s.scalars(select(Holiday).order_by(Holiday.starts, Holiday.id)))
        names = {i: name for i, name in s.execute(select(Queue.id, Queue.name))}
        year = _rt().clock.now().year
        return _page("admin_holidays.html", holidays=rows, names=names, queues=_queues(s),
                     year=year)


@bp.get("/admin/callback-policy")
@role_required("admin")
def callback_policy() -> Any:
    """Each queue's callback policy."""
    rt = _rt()
    with rt.db.session() as s:
        rows = [(q, config.callback_policy(s, q, rt.settings)) for q in _queues(s)]
        return _page("admin_policy.html", policies=rows, number_types=NUMBER_TYPES)


@bp.get("/admin/staffing")
@role_required("admin")
def staffing_page() -> Any:
    """The plan grid with the recommendation beside it and the gaps highlighted."""
    try:
        patience = patience_seconds(request.args.get("patience"))
        shrinkage = shrinkage_share(request.args.get("shrinkage"))
    except ConfigError as exc:
        abort(400, description=f"{exc.message} ({exc.field})")
    with _rt().db.session() as s:
        rows = _queues(s)
        queue = _chosen(rows)
        week = staffing.week_staffing(s, queue, patience_seconds=patience,
                                      shrinkage=shrinkage) if queue else []
        grid = {(r.weekday, r.start.strftime("%H:%M")): r for r in week}
        starts = [t.strftime("%H:%M") for t in staffing.STARTS]
        return _page("admin_staffing.html", queues=rows, queue=queue, grid=grid, starts=starts,
                     gaps=staffing.shortfalls(week), patience=patience,
                     shrinkage=round(shrinkage * 100),
                     no_history=staffing.days_without_history(week))


@bp.get("/admin/callbacks")
@role_required("admin")
def callbacks() -> Any:
    """A queue's booked callbacks with cancel and move; the texts that did not reach
    their customer."""
    with _rt().db.session() as s:
        rows = _queues(s)
        queue = _chosen(rows)
        found = booked.booked(_rt(), s, queue.slug) if queue is not None else []
        return _page("admin_callbacks.html", queues=rows, queue=queue, callbacks=found,
                     status_words=CALLBACK_STATUS_WORDS, zone=_rt().settings.time_zone,
                     text_failures=texts.failures(s))


@bp.get("/admin/agents")
@role_required("admin")
def agents() -> Any:
    """Agents with their roles and queues; adding one."""
    with _rt().db.session() as s:
        people = list(s.scalars(select(Agent).order_by(Agent.active.desc(), Agent.username)))
        return _page("admin_agents.html", people=people, queues=_queues(s),
                     roles=("agent", "supervisor", "admin"), role_words=ROLE_WORDS)


@bp.get("/admin/audit")
@role_required("admin")
def audit_log() -> Any:
    """The configuration changes as a table a person reads (who, what, which thing by name,
    before → after in words, zoned times), newest first, filtered by kind, person, days
    and words."""
    zone = _rt().settings.time_zone
    try:
        wanted = audit_words.AuditFilter(
            request.args.get("kind") or None, request.args.get("who") or None,
            v.calendar_date("from", request.args["from"]) if request.args.get("from") else None,
            v.calendar_date("until", request.args["until"]) if request.args.get("until")
            else None, (request.args.get("text") or "")[:100])
    except ConfigError as exc:
        abort(400, description=f"{exc.message} ({exc.field})")
    with _rt().db.session() as s:
        found = audit_words.entries(s, wanted, zone)
        lines = audit_words.describe(found, audit_words.Names.read(s, found), zone)
        return _page("admin_audit.html", lines=audit_words.matching(lines, wanted.text),
                     wanted=wanted, zone=zone, people=audit_words.people(s),
                     kinds=sorted(audit_words.KIND_WORDS.items(), key=lambda kv: kv[1]),
                     filtered=wanted != audit_words.AuditFilter())


@bp.get("/admin/privacy")
@role_required("admin")
def privacy() -> Any:
    """Callers' data: export or erase what is held about a number, what each role may do
    with callers' data, and the log of exports and erasures."""
    with _rt().db.session() as s:
        requests = list(s.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id.desc())
                                  .limit(100)))
        return _page("admin_privacy.html", roles=access.every_role(s), requests=requests)


@bp.get("/admin/reports")
@role_required("admin", "supervisor")
def report() -> Any:
    """Figures over any range of days, per queue or all: totals, callbacks, per agent, the
    chart and CSV links; a bad day is refused beside its field and today is shown."""
    today = _rt().clock.now().astimezone(ZoneInfo(_rt().settings.time_zone)).date()
    first = request.args.get("from") or request.args.get("day") or today.isoformat()
    last = request.args.get("to") or first
    error, status = None, 200
    try:
        start, end = v.date_range(first, last)
    except ConfigError as exc:
        (start, end), error, status = (today, today), exc, 400
    with _rt().db.session() as s:
        rows = _queues(s)
        slug = request.args.get("queue") or None
        if slug is not None and slug not in {q.slug for q in rows}:
            abort(404, description=f"no queue {slug!r}")
        found = reports.period_report(s, start, end, slug)
        query = f"?from={start.isoformat()}&to={end.isoformat()}" + (
            f"&queue={slug}" if slug else "")
        return _page("admin_reports.html", report=found, queues=rows, slug=slug or "",
                     callbacks=booked.range_counts(s, start, end, slug),
                     agents=reports.agent_figures(s, start, end, slug,
                                                  _rt().settings.time_zone), query=query,
                     error=error, typed={"from": first, "to": last}), status


bp.after_request(harden)  # the console's security headers, on every admin page too


def init_app(app: Flask) -> None:
    """Register the admin pages."""
    app.register_blueprint(bp)

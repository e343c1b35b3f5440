"""`holdless admin`: the administrator's changes, holiday import, reports, board and staffing.

The lead registers the group with ``cli.add_command(admin)``. Changes are made as the
operator at the shell (audited as "cli:<user>"); a refused change exits 2 naming the field.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

import click
import redis
from sqlalchemy.orm import Session

from admin.audit import Actor
from admin.validate import ConfigError
from entrypoints.runtime import Runtime, running_redis
from holdless import clock
from holdless.settings import Settings, default_database_url
from models.base import Database
from queueing import directory, overflow

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _operator() -> Actor:
    return Actor.operator(f"cli:{os.environ.get('USER', 'operator')}")


@contextmanager
def _changes() -> Iterator[Session]:
    """A committed session on the configured database; ConfigError becomes a usage error."""
    settings = Settings.from_env()
    db = Database(settings.database_url or default_database_url(settings.instance_path),
                  settings.database_synchronous_commit)
    live = running_redis(settings)
    if live is not None:  # web processes keep the queues cached until told of a change
        db.watch(directory.DIRECTORY_TABLES, lambda: _tell_directory_changed(live, db))
    try:
        with db.session() as s:
            yield s
    except ConfigError as exc:
        raise click.UsageError(f"{exc.field}: {exc.message}") from None
    finally:
        db.dispose()
        if live is not None:
            live.close()


def _tell_directory_changed(live: redis.Redis, db: Database) -> None:
    """Bump the directory version in the stack's Redis (see queueing.directory) and rewrite
    the overflow routes routing follows (queueing.overflow)."""
    directory.changed(live)
    overflow.publish(live, db)


def _weekday(value: str) -> int:
    """A weekday number from 0-6 or a (prefix of a) day name; other digits are left to validate."""
    word = value.strip().lower()
    if word.lstrip("-").isdigit():
        return int(word)
    matches = [i for i, name in enumerate(WEEKDAYS) if len(word) >= 2 and name.startswith(word)]
    if len(matches) != 1:
        raise click.BadParameter(f"{value!r} is not a weekday (0-6 or a name)",
                                 param_hint="WEEKDAY")
    return matches[0]


@click.group()
def admin() -> None:
    """Configure the line, import holidays, and read reports."""


@admin.command("hours")
@click.argument("queue")
@click.argument("weekday")
@click.argument("ranges")
def hours(queue: str, weekday: str, ranges: str) -> None:
    """Set QUEUE's open RANGES on WEEKDAY (0-6 or a name): "09:00-12:00,13:00-17:00" or "closed"."""
    from admin import config
    day = _weekday(weekday)
    with _changes() as s:
        after = config.set_hours(s, _operator(), queue, day, ranges)
    click.echo(f"{queue} {WEEKDAYS[day]}: {', '.join(after) or 'closed'}")


@admin.command("not-ready")
@click.argument("reasons", nargs=-1)
def not_ready_reasons(reasons: tuple[str, ...]) -> None:
    """Show the reasons agents may give for being not ready, or make REASONS the list, in
    this order ("Break" "Lunch" "Training"); a reason left out is retired from the choice
    and still counted in reports."""
    from queueing import not_ready
    with _changes() as s:
        if reasons:
            try:
                not_ready.save_reasons(s, list(reasons))
            except not_ready.BadReason as exc:
                raise click.UsageError(str(exc)) from None
        now = not_ready.reasons(s)
    click.echo("Not-ready reasons: " + (", ".join(now) or "(none: agents cannot step away)"))


@admin.group("holidays")
def holidays_group() -> None:
    """Holidays: closed days and special hours."""


@holidays_group.command("import")
@click.argument("country")
@click.argument("year", type=int)
@click.option("--subdivision", default=None, help="State or region code, e.g. CA or BY.")
@click.option("--queue", default=None, help="Only this queue (default: every queue).")
def holidays_import(country: str, year: int, subdivision: str | None, queue: str | None) -> None:
    """Import COUNTRY's public holidays of YEAR as closed days (again adds nothing twice)."""
    from admin.public_holidays import import_public_holidays
    with _changes() as s:
        added = import_public_holidays(s, country, year, subdivision, queue, actor=_operator())
        lines = [f"  {h.starts.isoformat()} {h.name}" for h in added]
    click.echo(f"{len(lines)} holiday(s) added")
    for line in lines:
        click.echo(line)


def _default_day(s: Session, queue: str | None) -> date:
    from admin.config import find_queue
    zone = find_queue(s, queue).time_zone if queue else Settings.from_env().time_zone
    return clock.now().astimezone(ZoneInfo(zone)).date()


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter("must be YYYY-MM-DD", param_hint="--day") from None


def _cell(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


@admin.command("report")
@click.option("--day", default=None, help="Local day YYYY-MM-DD (default: today).")
@click.option("--queue", default=None, help="Queue slug (default: every queue).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the per-interval figures to this CSV file.")
@click.option("--chart", "chart_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the interval chart to this PNG file.")
def report(day: str | None, queue: str | None, csv_path: str | None,
           chart_path: str | None) -> None:
    """A day's calls offered, answered, abandoned, service level, ASA, AHT, FCR, transfers."""
    from admin import reports
    when = _day(day)
    with _changes() as s:
        if queue is not None:
            from admin.config import find_queue
            find_queue(s, queue)
        result = reports.day_report(s, when or _default_day(s, queue), queue)
    t = result.total
    click.echo(f"{result.queue} on {result.day.isoformat()}: offered {t.offered}, answered "
               f"{t.answered}, abandoned {t.abandoned}, service level "
               f"{_cell(t.service_level_percent, '%')}, ASA {_cell(t.asa_seconds, ' s')}, "
               f"AHT {_cell(t.aht_seconds, ' s')}, FCR {_cell(t.fcr_percent, '%')}, "
               f"transfers per call {_cell(t.transfers_per_call)}")
    if csv_path:
        with open(csv_path, "w", encoding="utf-8", newline="") as out:
            out.write(reports.to_csv(result))
        click.echo(f"CSV written to {csv_path}")
    if chart_path:
        with open(chart_path, "wb") as png:
            png.write(reports.interval_chart(result))
        click.echo(f"chart written to {chart_path}")


@admin.command("staffing")
@click.argument("queue")
@click.option("--as-of", "as_of", default=None, help="Forecast from the 4 weeks before this day.")
def staffing_gaps(queue: str, as_of: str | None) -> None:
    """The week's intervals where QUEUE's staffing plan falls short of the Erlang C need."""
    from admin import staffing
    when = _day(as_of)
    with _changes() as s:
        gaps = staffing.shortfalls(staffing.week_staffing(s, queue, when))
    click.echo("\n".join(gaps) if gaps else "the plan covers every interval")


@admin.command("board")
def board_command() -> None:
    """The live board: callers waiting, oldest wait, a new caller's estimate, agents."""
    from admin.board import board
    rt = Runtime(Settings.from_env())
    try:
        for q in board(rt):
            states = ", ".join(f"{n} {state}" for state, n in q.agents_by_state.items() if n)
            oldest = _cell(q.oldest_wait_seconds, " s")
            click.echo(f"{q.slug}: {q.status}, {q.waiting} waiting, oldest {oldest}, "
                       f"{q.callbacks_waiting} callbacks due, new caller: {q.estimate_text}; "
                       f"agents: {states or 'none'}")
    finally:
        rt.close()

"""Importing a country's public holidays (the `holidays` package) as closed days."""

from __future__ import annotations

from datetime import date
from typing import Any

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin import validate as v
from admin.audit import Actor, record
from admin.config import find_queue
from admin.validate import ConfigError
from models.entities import Holiday, Queue


def _country_and_subdivision(country: Any, subdivision: Any) -> tuple[str, str | None]:
    supported = holidays.list_supported_countries()
    code = country.strip().upper() if isinstance(country, str) else ""
    if code not in supported:
        raise ConfigError("country", f"no public holidays known for {country!r}")
    if subdivision in (None, ""):
        return code, None
    sub = str(subdivision).strip().upper()
    if sub not in {s.upper() for s in supported[code]}:
        raise ConfigError("subdivision", f"{subdivision!r} is not a subdivision of {code}")
    return code, sub


def public_holidays(country: Any, year: Any, subdivision: Any = None) -> list[tuple[date, str]]:
    """The public holidays of a country (and subdivision) in a year, by date."""
    code, sub = _country_and_subdivision(country, subdivision)
    when = v.whole_number("year", year, 1950, 2100)
    calendar = holidays.country_holidays(code, subdiv=sub, years=when)
    return sorted((day, str(name)) for day, name in calendar.items())


def import_public_holidays(s: Session, country: Any, year: Any, subdivision: Any = None,
                           queue: Queue | str | None = None, *, actor: Actor) -> list[Holiday]:
    """Add the year's public holidays as closed days (for one queue or all); returns those added.

    Idempotent: a holiday already recorded with the same date and name for the same queue
    (or for all) is not added again. One audit entry lists what was added, when anything was.
    """
    found = public_holidays(country, year, subdivision)
    queue_id = None if queue is None else find_queue(s, queue).id
    scope = Holiday.queue_id.is_(None) if queue_id is None else Holiday.queue_id == queue_id
    days = [day for day, _ in found]
    known = {(h.starts, h.name) for h in s.scalars(select(Holiday).where(
        scope, Holiday.starts.in_(days)))} if days else set()
    added = [Holiday(queue_id=queue_id, name=name[:120], starts=day, ends=day, message="")
             for day, name in found if (day, name[:120]) not in known]
    s.add_all(added)
    s.flush()
    if added:
        record(s, actor, "import", "holiday", f"{country}/{subdivision or '-'}/{year}",
               None, {"queue_id": queue_id, "added": [
                   {"id": h.id, "date": h.starts, "name": h.name} for h in added]})
    return added

"""Reading the line's configuration: queues, their schedules, and who is calling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ivr.hours import Closure, Range, Schedule, is_open
from models.entities import Caller, Holiday, Queue

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
    """The queue's weekly hours and the holidays that apply to it."""
    holidays = session.scalars(
        select(Holiday).where((Holiday.queue_id == queue.id) | Holiday.queue_id.is_(None)))
    return Schedule(
        zone=queue.time_zone,
        ranges=tuple(Range(h.weekday, h.opens, h.closes) for h in queue.hours),
        closures=tuple(Closure(h.starts, h.ends, h.name, h.opens, h.closes, h.message)
                       for h in holidays),
    )


def queue_is_open(session: Session, queue: Queue, moment: datetime) -> bool:
    """Whether `queue` takes calls now; a queue with no hours set is always open."""
    if not queue.hours:
        return True
    return is_open(schedule(session, queue), moment)


def known_caller(session: Session, number: str | None) -> Caller | None:
    """The customer on record for `number`, if any."""
    if number is None:
        return None
    return session.scalar(select(Caller).where(Caller.number == number))

"""Twilio's call queues sized for the lines: each queue's <Enqueue> name (its slug) is a
Twilio queue created, or updated, through REST with the MaxSize Holdless needs.

A queue <Enqueue> creates on demand gets Twilio's default size (100 on the <Enqueue> page,
twilio.com/docs/voice/twiml/enqueue; 1000 for the Queue resource), and past it Twilio
refuses callers with QueueResult=queue-full after they were told their place. So every
line's Twilio queue is given TWILIO_QUEUE_SIZE (Twilio's maximum, 5000, by default), and a
line holds at most that minus TWILIO_QUEUE_MARGIN (holdless.settings.Settings.line_limit).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from models.entities import Queue

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)


def size_queues(rt: Runtime) -> list[str]:
    """Create or resize the Twilio queue of every line to the configured size; returns the
    slugs whose Twilio queue was created or changed."""
    with rt.db.session() as s:
        slugs = list(s.scalars(select(Queue.slug).order_by(Queue.id)))
    size = rt.settings.twilio_queue_size
    changed = [slug for slug in slugs if rt.gateway.size_queue(slug, size)]
    if changed:
        log.info("Twilio queues sized to %d: %s", size, ", ".join(changed))
    return changed


def size_queues_job(rt: Runtime) -> str:
    """Job: size every line's Twilio queue (retried while Twilio cannot be reached)."""
    changed = size_queues(rt)
    return f"{len(changed)} Twilio queue(s) created or resized"

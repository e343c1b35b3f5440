"""A caller leaving: their call is over, wherever they were (menu, line, talking)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from holdless import tasks
from ivr.booking import CALLBACK_BOOKED
from ivr.interactions import CLOSED_OUTCOME, interaction_of
from models.entities import (
    ABANDONED,
    COMPLETED,
    CONNECTED,
    IVR,
    OFFERED,
    WAITING,
)
from models.states import advance
from queueing import lines, stats

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)


def caller_left(rt: Runtime, call_sid: str) -> None:
    """The caller's call is over: leave the line, count an abandon, release any offer."""
    with rt.db.session() as s:
        interaction = interaction_of(s, call_sid)
        was, now = interaction.status, rt.clock.now()
        interaction.ended_at = interaction.ended_at or now
        booked_callback = interaction.outcome == CALLBACK_BOOKED
        if booked_callback:
            advance(interaction, COMPLETED)
        elif was in (WAITING, OFFERED):
            advance(interaction, ABANDONED)
            interaction.outcome = "abandoned"
        elif was == IVR and interaction.outcome == CLOSED_OUTCOME:
            advance(interaction, COMPLETED)
        elif was == IVR:
            advance(interaction, ABANDONED)
            interaction.outcome = "hung up in menu"
        else:
            advance(interaction, COMPLETED)
        queue_slug = interaction.queue.slug if interaction.queue is not None else None
        waited = rt.clock.time() - (interaction.joined_at or rt.clock.time())
    entry = lines.load(rt.live, lines.caller_entry_id(interaction.id))
    if entry is not None:
        lines.forget(rt.live, entry)
    if was in (WAITING, OFFERED) and queue_slug is not None and not booked_callback:
        stats.record_outcome(rt.live, queue_slug, waited, abandoned=True)
    if was in (OFFERED, CONNECTED):  # an agent may be ringing, or alone in the conference
        rt.enqueue(tasks.STOP_AGENT_LEGS, interaction.id, job_id=f"caller-gone-{interaction.id}")

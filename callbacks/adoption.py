"""Crash recovery for dials: a call a worker placed and then died before recording.

Before ringing again an agent leg or a callback attempt's agent whose dial left no trace,
Twilio is asked for a call already placed to that contact since the leg began. One found is
adopted (recorded as the leg's), and nobody is rung twice; if it is already over, settling
its end is handed to the worker (tasks.SETTLE_ADOPTED_CALL) instead of done inline.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from holdless import tasks
from holdless.twilio_gateway import PlacedCall
from models.callbacks import CallbackAttempt
from models.entities import Interaction, Leg
from models.states import AGENT_LEG, CALLBACK_AGENT, CALLBACK_CUSTOMER, ENDED_CALL_STATUSES
from queueing import keys

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

# How long Redis remembers the CallSid of an agent leg just dialled (the database may not
# have it yet when a worker dies right after the dial).
LEG_CALL_MEMORY_SECONDS = 24 * 3600


def remember_leg_call(rt: Runtime, leg_id: int, sid: str) -> None:
    """Note at once, in Redis, the call just placed for an agent leg."""
    rt.live.set(keys.leg_call(leg_id), sid, ex=LEG_CALL_MEMORY_SECONDS)


def placed_call(rt: Runtime, to: str, since: datetime) -> PlacedCall | None:
    """A call placed to `to` since `since` that no leg or attempt has recorded (the oldest,
    if several), or None. Twilio errors raise."""
    placed = rt.gateway.calls_placed_to(to, since)
    if not placed:
        return None
    sids = [c.sid for c in placed]
    with rt.db.session() as s:
        known = set(s.scalars(select(Leg.call_sid).where(Leg.call_sid.in_(sids))))
        known |= set(s.scalars(select(Interaction.call_sid).where(Interaction.call_sid.in_(sids))))
        for column in (CallbackAttempt.agent_call_sid, CallbackAttempt.call_sid):
            known |= set(s.scalars(select(column).where(column.in_(sids))))
    free = [call for call in placed if call.sid not in known]
    return free[0] if free else None


def adopt_if_placed(rt: Runtime, kind: str, ident: int, to: str, since: datetime) -> bool:
    """Before ringing again a leg or a callback attempt's agent whose dial left no trace (its
    worker died mid-job, the `initiated` report lost): ask Twilio for a call placed to `to`
    since `since`. One found is adopted, and the settling of its end queued if it is over
    (as its lost status callback would have); True then, and nobody is rung twice. A Twilio
    error raises (the job is retried): never dial blind."""
    found = placed_call(rt, to, since)
    if found is None:
        log.warning("%s:%s was never dialled (worker lost mid-job); dialling", kind, ident)
        return False
    record_placed_call(rt, kind, ident, found.sid)
    log.warning("%s:%s was dialled by a worker lost mid-job; adopted its call (%s)", kind,
                ident, found.status)
    if found.status in ENDED_CALL_STATUSES:
        rt.enqueue(tasks.SETTLE_ADOPTED_CALL, kind, ident, found.sid,
                   job_id=f"settle-adopted-{kind}-{ident}")
    return True


def record_placed_call(rt: Runtime, kind: str, ident: int, sid: str) -> None:
    """Record a found call as the leg's (or the attempt's agent or customer call)."""
    with rt.db.session() as s:
        if kind == AGENT_LEG:
            leg = s.get(Leg, ident)
            if leg is not None and not leg.call_sid:
                leg.call_sid = sid
        else:
            attempt = s.get(CallbackAttempt, ident)
            if attempt is not None and kind == CALLBACK_AGENT and not attempt.agent_call_sid:
                attempt.agent_call_sid = sid
            elif attempt is not None and kind == CALLBACK_CUSTOMER and not attempt.call_sid:
                attempt.call_sid = sid
    if kind == AGENT_LEG:
        remember_leg_call(rt, ident, sid)

"""A caller's record as the IVR keeps it: found by CallSid, and the kinds and outcomes it
records."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.entities import (
    Interaction,
)

log = logging.getLogger(__name__)


# The outcome of a call that reached us while every queue was closed.
CLOSED_OUTCOME = "closed"


# The kind of interaction of a customer called back who waits for an agent (customer first).
CALLED_BACK = "callback"


class UnknownCall(LookupError):
    """A webhook named a CallSid Holdless has no record of."""


def interaction_of(s: Session, call_sid: str) -> Interaction:
    found = s.scalar(select(Interaction).where(Interaction.call_sid == call_sid))
    if found is None:
        raise UnknownCall(call_sid)
    return found

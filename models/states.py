"""An interaction's status only ever moves forward, however late or often Twilio reports."""

from __future__ import annotations

from models.entities import ABANDONED, COMPLETED, CONNECTED, IVR, OFFERED, WAITING, Interaction

ORDER = {IVR: 0, WAITING: 1, OFFERED: 2, CONNECTED: 3, COMPLETED: 4, ABANDONED: 4}
FINAL = frozenset({COMPLETED, ABANDONED})

# Twilio CallStatus values that mean the call is over.
ENDED_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def advance(interaction: Interaction, status: str) -> bool:
    """Move to `status` if it lies ahead. A caller may go back to WAITING from OFFERED (put
    back in line) or from CONNECTED (transferred back to a queue, keeping their place)."""
    current = interaction.status
    if current in FINAL:
        return False
    if ORDER[status] > ORDER[current] or (current in (OFFERED, CONNECTED) and status == WAITING):
        interaction.status = status
        return True
    return False


def is_final(interaction: Interaction) -> bool:
    """Whether the interaction is over."""
    return interaction.status in FINAL

# The kinds of call whose end Holdless settles (see callbacks/call_ends.py): a caller's own
# call, an agent's leg to a live caller (answering or taking a transfer), a callback
# attempt's call to its agent or to its customer, and a supervisor's phone leg on a call
# they monitor (named by its monitoring period).
CALLER_CALL, AGENT_LEG = "caller", "leg"
CALLBACK_AGENT, CALLBACK_CUSTOMER = "cb-agent", "cb-customer"
SUPERVISOR_CALL = "supervisor"

"""What happens when a call ends: one row per kind of call, one place that applies it.

The status webhooks, the job that settles a report deferred through a database outage, and
the sweeper (a report Twilio never delivered) all come through `settle`, so a call's end
has the same effect whichever way Holdless learns of it.

- a caller's own call (in the menu, in line, talking, or called back and waiting):
  `ivr.leaving.caller_left`;
- an agent's leg, rung for a live caller or for a transfer (a transfer leg that ends
  unanswered hands the caller back through `queueing.transfers`): `agent_legs.agent_leg_status`;
- a callback attempt's call to its agent (agent first): `placing.callback_agent_status`;
- a callback attempt's call to its customer: `customer_first.customer_call_status`;
- a supervisor's phone leg on a call they monitor (the sweeper, when its report was lost;
  its webhook calls it directly): `queueing.monitoring.phone_ended`, ending their period
  when Twilio says the call ended.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from callbacks import agent_legs, customer_first, placing
from ivr import leaving
from models.states import (
    AGENT_LEG,
    CALLBACK_AGENT,
    CALLBACK_CUSTOMER,
    CALLER_CALL,
    SUPERVISOR_CALL,
)
from queueing import monitoring

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

__all__ = ["AGENT_LEG", "CALLBACK_AGENT", "CALLBACK_CUSTOMER", "CALLER_CALL", "HANDLERS",
           "SUPERVISOR_CALL", "settle"]

Handler = Callable[["Runtime", int, str, str], None]


def _caller(rt: Runtime, _ident: int, _status: str, call_sid: str) -> None:
    leaving.caller_left(rt, call_sid)


def _agent_leg(rt: Runtime, ident: int, status: str, call_sid: str) -> None:
    agent_legs.agent_leg_status(rt, ident, status, call_sid)


def _callback_agent(rt: Runtime, ident: int, status: str, _call_sid: str) -> None:
    placing.callback_agent_status(rt, ident, status)


def _callback_customer(rt: Runtime, ident: int, status: str, call_sid: str) -> None:
    customer_first.customer_call_status(rt, ident, status, call_sid)


HANDLERS: dict[str, Handler] = {
    CALLER_CALL: _caller,
    AGENT_LEG: _agent_leg,
    CALLBACK_AGENT: _callback_agent,
    CALLBACK_CUSTOMER: _callback_customer,
}


def settle(rt: Runtime, kind: str, ident: int, status: str, call_sid: str,
           ended_at: datetime | None = None) -> None:
    """Apply Twilio's report `status` on a call of `kind` (a caller's call is named by its
    sid; the others by their leg, attempt or monitoring period id). `ended_at`, when Twilio
    said when the call ended, is when a supervisor's period ends (else now)."""
    if kind == SUPERVISOR_CALL:
        monitoring.phone_ended(rt, call_sid, status, ended_at)
        return
    HANDLERS[kind](rt, ident, status, call_sid)

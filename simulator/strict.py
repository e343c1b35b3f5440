"""What a day against the strict stand-in cost, counted from the database and from the
stand-in's own records (the legs its network carried, the REST requests it answered), never
from what the app says of itself: callers stranded, offers made twice, customers and agents'
voicemails bridged to a machine; and how often each of Twilio's faults happened, so that a
day with every count at 0 can be told from a day in which the faults never came up."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import select

from entrypoints.runtime import Runtime
from models.entities import ABANDONED, COMPLETED, Assignment, Interaction, Queue
from queueing import keys, lines
from simulator.call import VirtualCall
from simulator.endpoints import MACHINE_OUTCOMES
from simulator.rest import TwilioRestStandIn

FINAL_STATUSES = (COMPLETED, ABANDONED)
# How the network ended a call still live when the day was over (simulator.engine.close).
CUT_OFF_REASON = "network-closed"
# REST requests that ask Twilio to place a call (refused with a 4xx when it will not).
DIAL_REQUESTS = ("call-create", "participant-create")


@dataclass(frozen=True)
class StrictFigures:
    """The zeros a day against the strict stand-in must keep, and the faults it met."""

    stranded: int = 0
    """Inbound calls that ended neither answered nor with a reason (abandoned, called back,
    told closed or full...), or are not ended in the database, or were still live when the
    day was cut off, plus callers' entries left in a line at the end."""
    answered_twice: int = 0
    """Line entries (callers or callbacks) answered by more than one agent."""
    open_offers: int = 0
    """Pairings of an agent with an entry still open at the end of the day."""
    customers_bridged_to_machine: int = 0
    """Callback legs answered by a voicemail or fax that shared a conference with anyone."""
    voicemails_bridged: int = 0
    """Agents' legs answered by their voicemail that shared a conference with anyone."""
    refused_dials: int = 0
    """Dials Twilio refused (HTTP 400 on create: 21215, 21217...)."""
    cps_queued: int = 0
    """Calls that waited in the account's calls-per-second queue before being placed."""
    customers_machines: int = 0
    """Callback legs a voicemail or fax answered."""
    agent_voicemails: int = 0
    """Agents' legs their voicemail answered."""
    dials_twice: int = 0
    """Calls Twilio accepted for a status-callback address it had already placed a call for
    (each leg and callback attempt has its own): a dial job that ran twice."""


def stranded_in_db(rt: Runtime) -> int:
    """Inbound calls not ended, or ended unanswered with no recorded reason, and callers'
    entries (not callbacks') still in a line."""
    with rt.db.session() as s:
        rows = s.execute(select(Interaction.status, Interaction.answered_at, Interaction.outcome)
                         .where(Interaction.kind == "inbound")).all()
        slugs = list(s.scalars(select(Queue.slug)))
    stranded = sum(1 for status, answered, outcome in rows
                   if status not in FINAL_STATUSES or (answered is None and not outcome))
    caller = lines.caller_entry_id(0).removesuffix("0")
    for slug in slugs:
        members = cast(list[bytes | str], rt.live.zrange(keys.line(slug), 0, -1))
        stranded += sum(1 for member in members if _text(member).startswith(caller))
    return stranded


def _text(member: bytes | str) -> str:
    return member.decode() if isinstance(member, bytes) else str(member)


def offers(rt: Runtime) -> tuple[int, int]:
    """Entries answered by more than one agent, and pairings still open."""
    with rt.db.session() as s:
        answered = Counter(s.scalars(select(Assignment.entry).where(
            Assignment.outcome == "answered")))
        still_open = len(s.scalars(select(Assignment.id).where(
            Assignment.ended_at.is_(None))).all())
    return sum(1 for n in answered.values() if n > 1), still_open


def _presence(call: VirtualCall) -> list[tuple[str, float, float]]:
    """The conferences a leg was in: (name, joined, left) in virtual seconds."""
    spans, joined = [], {}
    for at, event in list(call.transcript):
        if event[0] == "dial-conference":
            joined[event[1]] = at
        elif event[0] == "leave-conference" and event[1] in joined:
            spans.append((event[1], joined.pop(event[1]), at))
    ended = call.state.ended_at or float("inf")
    spans += [(name, at, ended) for name, at in joined.items()]
    return spans


def bridged(machine: VirtualCall, legs: Iterable[VirtualCall]) -> bool:
    """Whether a leg answered by a machine was ever with another leg: in a conference at
    the same time, or bridged by a <Dial> to its parent."""
    mine = _presence(machine)
    for other in legs:
        if other.sid == machine.sid:
            continue
        if other.sid == machine.parent_sid and other.events("bridged"):
            return True
        for name, joined, left in _presence(other):
            if any(n == name and j < left and joined < lf for n, j, lf in mine):
                return True
    return False


def count(rt: Runtime, standin: TwilioRestStandIn, legs: list[VirtualCall],
          agent_contacts: set[str]) -> StrictFigures:
    """The strict figures of the day just run, from the database and the stand-in."""
    machines = [c for c in legs if c.answered_as in MACHINE_OUTCOMES]
    agents_vm = [c for c in machines if c.to in agent_contacts]
    customers = [c for c in machines if c.to not in agent_contacts]
    cut_off = sum(1 for c in legs if c.direction == "inbound"
                  and any(e[0] == "hangup" and e[1] == CUT_OFF_REASON for e in c.events()))
    twice, still_open = offers(rt)
    refused = sum(1 for kind in DIAL_REQUESTS for r in standin.requests(kind)
                  if r.status == 400)
    return StrictFigures(
        stranded=stranded_in_db(rt) + cut_off, answered_twice=twice, open_offers=still_open,
        customers_bridged_to_machine=sum(1 for c in customers if bridged(c, legs)),
        voicemails_bridged=sum(1 for c in agents_vm if bridged(c, legs)),
        refused_dials=refused, cps_queued=sum(1 for c in legs if c.events("queued")),
        customers_machines=len(customers), agent_voicemails=len(agents_vm),
        dials_twice=dials_twice(standin))


def dials_twice(standin: TwilioRestStandIn) -> int:
    """Dials accepted for a status-callback address an earlier accepted dial carried."""
    placed = Counter(r.field("StatusCallback") for kind in DIAL_REQUESTS
                     for r in standin.requests(kind) if r.status < 300)
    return sum(n - 1 for url, n in placed.items() if url and n > 1)


__all__ = ["StrictFigures", "bridged", "count", "dials_twice", "offers", "stranded_in_db"]

"""The caller directory as an administrator edits it (no Flask): attach a name and an
account reference to a phone number, every change audited with the record before and after.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import phonenumbers
from sqlalchemy import select

from admin import audit
from ivr.numbers import mask
from models.entities import Agent, Caller

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 120
MAX_ACCOUNT_CHARS = 60


class BadNumber(ValueError):
    """The text is not a valid phone number."""


def e164(raw: str, region: str) -> str:
    """The number in E.164 form; BadNumber unless it is a valid number."""
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise BadNumber(raw) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise BadNumber(raw)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def put(rt: Runtime, admin_id: int, number: str, name: str, account_ref: str,
        vip: bool | None = None) -> tuple[dict[str, Any], bool]:
    """Create or update the caller with this (E.164) number (`vip`: flag or unflag them as a
    VIP; None leaves the flag); returns the caller and whether it was created. Audited in
    the change's own transaction."""
    with rt.db.session() as s:
        agent = s.get(Agent, admin_id)
        if agent is None:
            raise audit.NotAllowed("unknown agent")
        actor = audit.Actor.admin(agent)
        caller = s.scalar(select(Caller).where(Caller.number == number))
        created = caller is None
        before = None if caller is None else audit.snapshot(caller)
        if caller is None:
            caller = Caller(number=number, difficult=False, vip=False)
            s.add(caller)
        caller.name, caller.account_ref = name, account_ref
        if vip is not None:
            caller.vip = vip
        s.flush()
        audit.record(s, actor, "create" if created else "update", "caller", caller.id,
                     before, audit.snapshot(caller))
        result = as_json(caller)
    log.info("admin %s %s caller %s", admin_id, "created" if created else "updated",
             mask(number))
    return result, created


def as_json(caller: Caller) -> dict[str, Any]:
    """A caller record as the API shows it."""
    return {"id": caller.id, "number": caller.number, "name": caller.name,
            "account_ref": caller.account_ref, "difficult": caller.difficult,
            "vip": bool(caller.vip)}

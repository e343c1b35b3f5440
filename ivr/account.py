"""An optional account number keyed before joining a line (queues with `ask_account` on).

The keys are kept in the interaction's IVR choices (the agent sees them) and used to find
the caller: a caller record holding that account reference identifies an unknown number;
a known caller without an account reference gets it attached.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from holdless import paths
from holdless.speech import N_
from ivr import in_line, language, twiml
from models.entities import IVR, Caller, Interaction, Queue

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

PROMPT = N_("If you have an account number, enter it now followed by pound, "
            "or press pound to skip.")
ACCOUNT_NUMBER = re.compile(r"^[0-9]{4,20}$")
ATTEMPTS = 2
SKIPPED = "skipped"


def wanted(interaction: Interaction, queue: Queue) -> bool:
    """Whether to ask this caller for an account number before they join `queue`."""
    return bool(queue.ask_account) and "account" not in (interaction.ivr_choices or {})


def ask(rt: Runtime, call_sid: str, queue: Queue, greeting: str, attempt: int = 1,
        note: str = "") -> VoiceResponse:
    """Ask for the account number (pound ends it; pound alone or silence skips); `note` is
    a msgid, `greeting` already in the caller's words."""
    sp = language.for_call(rt, call_sid)
    parts = (greeting, sp.gettext(note) if note else "", sp.gettext(PROMPT))
    text = " ".join(part for part in parts if part)
    return twiml.ask_number(text, rt.url(paths.ACCOUNT, queue=queue.slug, attempt=attempt),
                            sp=sp)


def keyed(rt: Runtime, call_sid: str, queue_slug: str, digits: str,
          attempt: int) -> VoiceResponse:
    """Act on the keys: a valid number is kept and matched, nothing skips, a malformed one
    gets a spoken retry (then skips); the caller then joins the line."""
    with rt.db.session() as s:
        interaction = s.scalar(select(Interaction).where(Interaction.call_sid == call_sid))
        queue = s.scalar(select(Queue).where(Queue.slug == queue_slug, Queue.active))
        if interaction is None or queue is None or interaction.status != IVR:
            return in_line.rejoin(rt, call_sid) if interaction is not None else twiml.goodbye(
                sp=language.for_call(rt, call_sid))
        valid = bool(ACCOUNT_NUMBER.match(digits))
        if digits and not valid and attempt < ATTEMPTS:
            return ask(rt, call_sid, queue, "", attempt + 1,
                       N_("Sorry, that is not a valid account number."))
        account = digits if valid else SKIPPED
        interaction.ivr_choices = {**(interaction.ivr_choices or {}), "account": account}
        if valid:
            attach(s, interaction, digits)
        return in_line.join(s, rt, interaction, queue, "")


def attach(s: Session, interaction: Interaction, account: str) -> None:
    """Identify the caller by a keyed account number (never moving it off another caller)."""
    holder = s.scalar(select(Caller).where(Caller.account_ref == account))
    if interaction.caller is None and holder is not None:
        interaction.caller = holder
        log.info("interaction %s: caller identified by account number", interaction.id)
    elif interaction.caller is not None and not interaction.caller.account_ref and holder is None:
        interaction.caller.account_ref = account
        log.info("interaction %s: account number attached to the caller", interaction.id)

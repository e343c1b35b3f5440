"""A caller phoning again while their callback is still booked: keep it, or cancel and hold."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from holdless import paths
from holdless.speech import Speech
from ivr import booking, language, slots, twiml, wording
from models.callbacks import Callback
from models.entities import COMPLETED, Interaction
from models.states import advance

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

KEPT = "kept callback"


def offer(rt: Runtime, interaction: Interaction, greeting: str) -> VoiceResponse | None:
    """The keep-or-cancel question when the caller has an open callback (None otherwise)."""
    if not interaction.caller_number or interaction.ivr_choices.get("callback"):
        return None
    with rt.db.session() as s:
        found = booking.open_for(s, interaction.caller_number)
        references = [c.reference for c in found]
    if not references:
        return None
    sp = language.for_call(rt, interaction.call_sid)
    text = sp.gettext("You already have a callback booked, reference {reference}. Press 1 to "
                      "keep your callback, or 2 to cancel it and wait on the line.",
                      reference=wording.spell(references[0]))
    return twiml.ask_digit(f"{greeting} {text}".strip(), rt.url(paths.CALLBACK_KEEP), sp=sp)


def choose(rt: Runtime, call_sid: str, digits: str) -> VoiceResponse:
    """2 cancels the callback and carries on into the line; anything else keeps it."""
    sp = language.for_call(rt, call_sid)
    with rt.db.session() as s:
        interaction = s.scalar(select(Interaction).where(Interaction.call_sid == call_sid))
        if interaction is None or not interaction.caller_number:
            return twiml.goodbye(sp=sp)
        number = interaction.caller_number
        when = _when(rt, booking.open_for(s, number), sp)
        interaction.ivr_choices = {**interaction.ivr_choices,
                                   "callback": "cancelled" if digits == "2" else "kept"}
        if digits != "2":
            interaction.outcome = KEPT
            advance(interaction, COMPLETED)
    if digits == "2":
        booking.cancel(rt, number)
        return twiml.say_then_redirect(sp.gettext("Your callback is cancelled."),
                                       rt.url(paths.INCOMING), sp=sp)
    return twiml.goodbye(sp.gettext("Your callback is still booked; we will call you {when}. "
                                    "Thank you for calling. Goodbye.", when=when), sp=sp)


def _when(rt: Runtime, found: list[Callback], sp: Speech) -> str:
    """When the kept callback comes: its slot ("tomorrow between 9 AM and 10 AM") or turn."""
    for callback in found:
        if callback.slot_start is not None and callback.slot_end is not None:
            zone = ZoneInfo(callback.queue.time_zone)
            return slots.Slot(callback.slot_start.astimezone(zone),
                              callback.slot_end.astimezone(zone), 0).phrase(rt.clock.now(), sp)
    return sp.gettext("when it is your turn")

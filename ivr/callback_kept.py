"""A caller phoning again while their callback is still booked: keep it, or cancel and hold."""

from __future__ import annotations

from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from callbacks import booking
from holdless.runtime import Runtime
from ivr import paths, twiml, wording
from ivr.states import advance
from models.entities import COMPLETED, Interaction

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
    text = (f"{greeting} You already have a callback booked, reference "
            f"{wording.spell(references[0])}. Press 1 to keep your callback, "
            "or 2 to cancel it and wait on the line.")
    return twiml.ask_digit(text.strip(), rt.url(paths.CALLBACK_KEEP))


def choose(rt: Runtime, call_sid: str, digits: str) -> VoiceResponse:
    """2 cancels the callback and carries on into the line; anything else keeps it."""
    with rt.db.session() as s:
        interaction = s.scalar(select(Interaction).where(Interaction.call_sid == call_sid))
        if interaction is None or not interaction.caller_number:
            return twiml.goodbye()
        number = interaction.caller_number
        interaction.ivr_choices = {**interaction.ivr_choices,
                                   "callback": "cancelled" if digits == "2" else "kept"}
        if digits != "2":
            interaction.outcome = KEPT
            advance(interaction, COMPLETED)
    if digits == "2":
        booking.cancel(rt, number)
        return twiml.say_then_redirect("Your callback is cancelled.", rt.url(paths.INCOMING))
    return twiml.goodbye("Your callback is still booked; we will call you when it is your "
                         "turn. Thank you for calling. Goodbye.")

"""A message instead of holding: the caller records it, and it becomes a callback at their
place in line carrying the recording's link (the agent hears it before the customer is
dialled; the console shows it from Callback.recording_url).

The caller pressed 2 while holding and confirmed the number to call back (as for a
callback); then <Record> takes the message. Its action (the recording ended) books the
callback; the recording status callback (the file is ready) stores or updates the link, and
books too if the action never came (the caller hung up while recording). Both are safe to
repeat: the booking is made once per call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from holdless import paths
from holdless.speech import N_, Speech
from ivr import booking, language, twiml, wording
from models.callbacks import Callback
from models.entities import Interaction
from queueing import keys
from queueing.estimate import WaitEstimate
from queueing.limits import VOICEMAIL_MAX_SECONDS

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

RECORD_PROMPT = N_("After the tone, please say your name and what your call is about, then "
                   "press the pound key or hang up.")


def record_prompt(rt: Runtime, call_sid: str) -> VoiceResponse:
    """Ask for the message and record it (at most VOICEMAIL_MAX_SECONDS)."""
    sp = language.for_call(rt, call_sid)
    return twiml.record_message(sp.gettext(RECORD_PROMPT), rt.url(paths.CALLBACK_RECORDED),
                                rt.url(paths.CALLBACK_RECORDING_STATUS), VOICEMAIL_MAX_SECONDS,
                                sp=sp)


def recorded(rt: Runtime, call_sid: str, recording_url: str) -> VoiceResponse:
    """The recording ended: book the callback carrying it, then confirm with the reference."""
    booked = _book_once(rt, call_sid, recording_url)
    sp = language.for_call(rt, call_sid)
    if booked is None:
        return twiml.goodbye(sp.gettext("Sorry, I could not keep your message. "
                                        "Please call again."), sp=sp)
    said = sp.gettext("Thank you, we have your message. We will call you back {when}, keeping "
                      "your place in line. Your reference is {reference}.", when=booked.when,
                      reference=wording.spell(booked.reference))
    goodbye = sp.gettext("Goodbye.")
    return twiml.goodbye(f"{said} {booking.text_promise(rt, booked.callback_id, sp)} {goodbye}",
                         sp=sp)


def recording_ready(rt: Runtime, call_sid: str, recording_url: str) -> None:
    """Twilio's report that the recording is stored: keep its link on the callback (booking
    it now if the caller hung up before the recording's action was fetched)."""
    if not recording_url:
        return
    with rt.db.session() as s:
        callback = _callback_of(s, call_sid)
        if callback is not None:
            callback.recording_url = recording_url
            return
    _book_once(rt, call_sid, recording_url)


def _book_once(rt: Runtime, call_sid: str, recording_url: str) -> booking.Booked | None:
    with rt.db.session() as s:
        callback = _callback_of(s, call_sid)
        if callback is not None:  # booked already (the other webhook came first)
            callback.recording_url = recording_url or callback.recording_url
            sp = language.for_call(rt, call_sid)
            return booking.Booked(callback.id, callback.reference, _when(rt, callback, sp), sp)
    number = rt.live.hget(keys.capture(call_sid), "number")
    if not number:
        return None
    try:
        booked = booking.book(rt, call_sid, str(number), recording_url=recording_url or None)
    except booking.NotWaiting:
        return None
    rt.live.delete(keys.capture(call_sid))
    return booked


def _callback_of(s: Session, call_sid: str) -> Callback | None:
    return s.scalar(select(Callback).join(Interaction, Callback.interaction_id == Interaction.id)
                    .where(Interaction.call_sid == call_sid,
                           Interaction.outcome == booking.CALLBACK_BOOKED))


def _when(rt: Runtime, callback: Callback, sp: Speech) -> str:
    if callback.promised_words:  # said again as it was said (and committed) at booking
        return callback.promised_words
    if callback.expected_at is None:
        return sp.gettext("when it is your turn")
    left = max(0.0, (callback.expected_at - rt.clock.now()).total_seconds())
    return wording.callback_wait_phrase(WaitEstimate(left, left, left), sp)

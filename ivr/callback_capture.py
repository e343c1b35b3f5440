"""Asking for a callback: confirm (or key in) the number, check it, book, or go back in line.

While the caller is here their entry is out of the line (so routing cannot hand them to
an agent) but keeps its record and score; going back rejoins at the original place.
The half-finished request lives in Redis under the call's sid (never in a URL or a log).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from holdless import paths
from holdless.speech import N_
from ivr import (
    booking,
    callback_number,
    callback_voicemail,
    language,
    policy,
    promise,
    slots,
    twiml,
    wording,
)
from ivr.numbers import last_four
from models.entities import Interaction, Queue
from queueing import keys, lines
from queueing.limits import CALLBACK_CAPTURE_TTL_SECONDS, CALLBACK_NUMBER_TRIES

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

CONFIRM_TRIES = 2
ENTER_PROMPT = N_("Please enter the number we should call you back on, including the area "
                  "code, then press the pound key.")
RETURNING = N_("I am returning you to your place in line.")
TOO_LONG = N_("Sorry, that took too long.")
NOT_CAUGHT = N_("Sorry, I didn't catch that.")
CLOSING_SOON = N_("We cannot call you back before we close today.")


def want(rt: Runtime, call_sid: str, voicemail: bool = False) -> bool:
    """The holding caller pressed the callback key (or the voicemail key): remember it;
    False if not in a line."""
    entry = lines.entry_for_call(rt.live, call_sid)
    if entry is None or lines.position(rt.live, entry.queue, entry.id) is None:
        return False
    key = keys.capture(call_sid)
    rt.live.hdel(key, "left")  # a new request: not yet out of the line for it
    rt.live.hset(key, mapping={"wanted": "1", "refusals": "0",
                               "voicemail": "1" if voicemail else ""})
    rt.live.expire(key, CALLBACK_CAPTURE_TTL_SECONDS)
    return True


def wanted(rt: Runtime, call_sid: str) -> bool:
    """Whether this call asked for a callback and is now choosing the number."""
    return bool(rt.live.hget(keys.capture(call_sid), "wanted"))


def start(rt: Runtime, call_sid: str) -> VoiceResponse:
    """The caller left the hold line to book: step out of the line; offer slots when the
    turn falls past closing, else offer their caller ID."""
    entry, capture = lines.entry_for_call(rt.live, call_sid), keys.capture(call_sid)
    if entry is not None and not lines.leave(rt.live, entry.queue, entry.id) \
            and not rt.live.hget(capture, "left"):  # (left already: this is a retry)
        rt.live.delete(capture)  # an agent was handed this caller meanwhile
        sp = language.for_call(rt, call_sid)
        return twiml.wait_in_line(sp.gettext("An agent is about to take your call. Please hold."),
                                  entry.queue, rt.url(paths.HOLD), rt.url(paths.QUEUE_EXIT),
                                  sp=sp)
    rt.live.hset(capture, "left", "1")
    with rt.db.session() as s:
        interaction = s.scalar(select(Interaction).where(Interaction.call_sid == call_sid))
        if interaction is None:
            return return_to_line(rt, call_sid, "")
        number = interaction.caller_number
        if not rt.live.hget(keys.capture(call_sid), "voicemail"):
            offered = _slots_if_late(rt, s, interaction)
            if offered is not None:
                return offered
    return number_step(rt, call_sid, number)


def number_step(rt: Runtime, call_sid: str, number: str | None) -> VoiceResponse:
    """Offer the caller ID to confirm, or ask for a number when there is none we would call."""
    sp = language.for_call(rt, call_sid)
    if number is None:
        return twiml.ask_number(sp.gettext(ENTER_PROMPT), rt.url(paths.CALLBACK_NUMBER), sp=sp)
    checked = _check(rt, call_sid, number)
    if not checked.ok:
        return twiml.ask_number(f"{checked.said(sp)} {sp.gettext(ENTER_PROMPT)}",
                                rt.url(paths.CALLBACK_NUMBER), sp=sp)
    return _confirm_prompt(rt, call_sid, number, attempt=1)


def _slots_if_late(rt: Runtime, s: Session, interaction: Interaction) -> VoiceResponse | None:
    queue = interaction.queue
    if queue is None or interaction.joined_at is None:
        return None
    wait = booking.wait_from_place(rt, queue.slug, interaction.joined_at)
    if promise.fits_today(s, queue, wait, rt.clock.now()):
        return None
    found = promise.open_slots(rt, s, queue, wait=wait, number=interaction.caller_number)
    if not found:
        return return_to_line(rt, interaction.call_sid,
                              N_("Sorry, we have no callback times left."))
    sp = language.for_call(rt, interaction.call_sid)
    return slot_question(rt, interaction.call_sid, found, sp.gettext(CLOSING_SOON))


def slot_question(rt: Runtime, call_sid: str, found: list[slots.Slot], intro: str,
                  attempt: int = 1) -> VoiceResponse:
    """Offer the slots (press 1 for the first, 2 for the next) and remember them; `intro`
    is already in the caller's words."""
    rt.live.hset(keys.capture(call_sid), "slots",
                 ",".join(f"{x.starts.timestamp()!r}/{x.ends.timestamp()!r}" for x in found))
    rt.live.expire(keys.capture(call_sid), CALLBACK_CAPTURE_TTL_SECONDS)
    now, sp = rt.clock.now(), language.for_call(rt, call_sid)
    choices = " ".join(sp.gettext("For a callback {slot}, press {digit}.",
                                  slot=x.phrase(now, sp), digit=n)
                       for n, x in enumerate(found, start=1))
    return twiml.ask_digit(f"{intro} {choices}".strip(),
                           rt.url(paths.CALLBACK_SLOT, attempt=attempt), sp=sp)


def offer_after_hours(rt: Runtime, s: Session, interaction: Interaction, queue: Queue,
                      closed_message: str,
                      invite: str = N_("We can call you back when we are open."),
                      ) -> VoiceResponse | None:
    """After hours (or with the line full): the message (in the caller's words), then the
    invitation (a msgid) and the next open slots of `queue` to book a callback in (None
    when none has room). Commits the queue chosen."""
    found = promise.open_slots(rt, s, queue, number=interaction.caller_number)
    if not found:
        return None
    interaction.queue_id = queue.id
    s.commit()
    key = keys.capture(interaction.call_sid)
    rt.live.hset(key, mapping={"wanted": "1", "refusals": "0", "closed": "1"})
    sp = language.for_call(rt, interaction.call_sid)
    return slot_question(rt, interaction.call_sid, found,
                         f"{closed_message} {sp.gettext(invite)}")


def choose_slot(rt: Runtime, call_sid: str, digits: str, attempt: int) -> VoiceResponse:
    """A key naming one of the offered slots takes it, then the number is confirmed."""
    key = keys.capture(call_sid)
    offered = str(rt.live.hget(key, "slots") or "").split(",")
    with rt.db.session() as s:
        interaction = s.scalar(select(Interaction).where(Interaction.call_sid == call_sid))
        number = interaction.caller_number if interaction is not None else None
        queue = interaction.queue if interaction is not None else None
        tz = ZoneInfo(queue.time_zone) if queue is not None else UTC
    if not offered[0] or queue is None:
        return return_to_line(rt, call_sid, TOO_LONG)
    if digits.isdigit() and 1 <= int(digits) <= len(offered):
        rt.live.hset(key, "slot", offered[int(digits) - 1])
        return number_step(rt, call_sid, number)
    if attempt >= CONFIRM_TRIES:
        return return_to_line(rt, call_sid, NOT_CAUGHT)
    again = [_slot(x, tz) for x in offered]
    sp = language.for_call(rt, call_sid)
    return slot_question(rt, call_sid, again, sp.gettext(NOT_CAUGHT), attempt + 1)


def _slot(text: str, tz: tzinfo | None) -> slots.Slot:
    starts, ends = (datetime.fromtimestamp(float(x), tz) for x in text.split("/"))
    return slots.Slot(starts, ends, 0)


def confirm(rt: Runtime, call_sid: str, digits: str, attempt: int) -> VoiceResponse:
    """1 books the offered number, 2 asks for another; nothing twice goes back in line."""
    number = rt.live.hget(keys.capture(call_sid), "number")
    if not number:
        return return_to_line(rt, call_sid, TOO_LONG)
    if digits == "1":
        return _book(rt, call_sid, str(number))
    if digits == "2":
        sp = language.for_call(rt, call_sid)
        return twiml.ask_number(sp.gettext(ENTER_PROMPT), rt.url(paths.CALLBACK_NUMBER), sp=sp)
    if attempt >= CONFIRM_TRIES:
        return return_to_line(rt, call_sid, NOT_CAUGHT)
    return _confirm_prompt(rt, call_sid, str(number), attempt + 1, NOT_CAUGHT)


def keyed(rt: Runtime, call_sid: str, digits: str) -> VoiceResponse:
    """The caller keyed a number: confirm it, or give the reason and one more try."""
    key = keys.capture(call_sid)
    if not rt.live.exists(key):
        return return_to_line(rt, call_sid, TOO_LONG)
    checked = _check(rt, call_sid, digits)
    if checked.ok and checked.number is not None:
        return _confirm_prompt(rt, call_sid, checked.number, attempt=1)
    refusals = int(rt.live.hincrby(key, "refusals", 1))
    if refusals >= CALLBACK_NUMBER_TRIES:
        return return_to_line(rt, call_sid, said=checked.said(language.for_call(rt, call_sid)))
    sp = language.for_call(rt, call_sid)
    once_more = sp.gettext("Please try once more.")
    return twiml.ask_number(f"{checked.said(sp)} {once_more} {sp.gettext(ENTER_PROMPT)}",
                            rt.url(paths.CALLBACK_NUMBER), sp=sp)


def return_to_line(rt: Runtime, call_sid: str, reason: str = "",
                   said: str = "") -> VoiceResponse:
    """Forget the request and send the caller back to their original place in line (after
    hours, when there is no line to go back to: say goodbye); why, as a msgid (`reason`)
    or already in the caller's words (`said`)."""
    closed = rt.live.hget(keys.capture(call_sid), "closed")
    rt.live.delete(keys.capture(call_sid))
    sp = language.for_call(rt, call_sid)
    said = sp.gettext(reason) if reason else said
    if closed:
        return twiml.goodbye(f"{said} {sp.gettext(twiml.GOODBYE)}".strip(), sp=sp)
    return twiml.say_then_redirect(f"{said} {sp.gettext(RETURNING)}".strip(),
                                   rt.url(paths.REJOIN), sp=sp)


def _confirm_prompt(rt: Runtime, call_sid: str, number: str, attempt: int,
                    note: str = "") -> VoiceResponse:
    rt.live.hset(keys.capture(call_sid), "number", number)
    sp = language.for_call(rt, call_sid)
    text = sp.gettext("We will call you at the number ending {digits}. "
                      "Press 1 to confirm, or 2 to enter another number.",
                      digits=" ".join(last_four(number)))
    if note:
        text = f"{sp.gettext(note)} {text}"
    return twiml.ask_digit(text, rt.url(paths.CALLBACK_CONFIRM, attempt=attempt), sp=sp)


def _book(rt: Runtime, call_sid: str, number: str) -> VoiceResponse:
    if rt.live.hget(keys.capture(call_sid), "voicemail"):
        return callback_voicemail.record_prompt(rt, call_sid)
    chosen = rt.live.hget(keys.capture(call_sid), "slot")
    slot = None
    if chosen:
        starts, ends = (datetime.fromtimestamp(float(x), UTC) for x in str(chosen).split("/"))
        slot = (starts, ends)
    try:
        booked = booking.book(rt, call_sid, number, slot)
    except booking.SlotTaken:
        return return_to_line(rt, call_sid, N_("Sorry, that time has just been taken."))
    except booking.NotWaiting:
        return return_to_line(rt, call_sid, N_("Sorry, I could not book that callback."))
    rt.live.delete(keys.capture(call_sid))
    return twiml.goodbye(_booked_words(rt, call_sid, booked, slot is None), sp=booked.sp)


def _booked_words(rt: Runtime, call_sid: str, booked: booking.Booked, keeps_place: bool) -> str:
    """"You're booked. We will call you back …", with the reference and the text promise."""
    sp = booked.sp
    if keeps_place:
        said = sp.gettext("You're booked. We will call you back {when}, keeping your place in "
                          "line. Your reference is {reference}.", when=booked.when,
                          reference=wording.spell(booked.reference))
    else:
        said = sp.gettext("You're booked. We will call you back {when}. Your reference is "
                          "{reference}.", when=booked.when,
                          reference=wording.spell(booked.reference))
    hang_up = sp.gettext("You can hang up now. Goodbye.")
    return f"{said} {booking.text_promise(rt, booked.callback_id, sp)} {hang_up}"


def _check(rt: Runtime, call_sid: str, raw: str) -> callback_number.NumberCheck:
    """The toll-fraud gate, then the queue's callback policy (countries, number types)."""
    with rt.db.session() as s:
        rules = policy.for_call(s, rt.settings, call_sid)
    checked = callback_number.check(raw, rt.settings.default_region, rules.countries)
    if checked.number is not None and not rules.allows(checked.number):
        return callback_number.NumberCheck(None, N_("I cannot call that kind of number."))
    return checked

"""Which language a call is spoken to in: the caller's (chosen on a line that serves
several, or remembered for their number), else their queue's; kept in Redis for the live
call so every webhook of it speaks the same language without reading the database.

A line serving several languages (its queues' languages and the further ones they offer)
asks a caller it does not know first, each offer in its own language and voice ("For
English, press 9."); silence keeps the line's first language. The choice is kept on the
call, on the caller's record (their next call, callbacks and texts) and in Redis."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

from holdless import prompts
from holdless.speech import DEFAULT_LANGUAGE, ENGLISH, LANGUAGES, N_, Speech, language, speech
from ivr import twiml
from models.entities import Caller, Interaction, Queue
from queueing import keys
from queueing.limits import CALL_LANGUAGE_TTL_SECONDS

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime
    from models.callbacks import Callback

# The keys that choose the line's further languages, in the order they are offered (the
# line's first language needs no key: silence keeps it).
CHOICE_DIGITS = "9876"
CHOICE_TIMEOUT_SECONDS = 4
LANGUAGE_CHOICE_PROMPT = N_("For {language}, press {digit}.")


# This process's memory of recent calls' languages: an apology during a store outage is
# said in the caller's language without reading a store (English when this process has
# not served the call yet).
RECENT_CALLS = 10_000
_recent: OrderedDict[str, str] = OrderedDict()
_recent_lock = threading.Lock()


def _note(call_sid: str, tag: str) -> None:
    with _recent_lock:
        _recent[call_sid] = tag
        _recent.move_to_end(call_sid)
        while len(_recent) > RECENT_CALLS:
            _recent.popitem(last=False)


def cached(call_sid: str) -> str | None:
    """The language this process last spoke to the call of `call_sid` in, reading no
    store (None: not known here)."""
    with _recent_lock:
        return _recent.get(call_sid)


def remember(rt: Runtime, call_sid: str, tag: str, voice: str | None = None) -> None:
    """Speak to the call of `call_sid` in `tag` from now on, with `voice` (the line's own
    voice for it, line_voice; None: the language's documented one)."""
    if not call_sid:
        return
    _note(call_sid, tag)
    rt.live.set(keys.call_language(call_sid), f"{tag} {voice}" if voice else tag,
                ex=CALL_LANGUAGE_TTL_SECONDS)


def forget(rt: Runtime, call_sid: str) -> None:
    """Undecide the call's language (it was read from a copy of the queues found out of
    date: the full path decides again from the queues as they are)."""
    with _recent_lock:
        _recent.pop(call_sid, None)
    rt.live.delete(keys.call_language(call_sid))


def _decided(rt: Runtime, call_sid: str) -> tuple[str, str | None] | None:
    """The language and voice decided for the call of `call_sid`, or None."""
    found = rt.live.get(keys.call_language(call_sid)) if call_sid else None
    if not found:
        return None
    tag, _, voice = str(found).partition(" ")
    return tag, voice or None


def known(rt: Runtime, call_sid: str) -> str | None:
    """The language decided for the call of `call_sid`, or None."""
    decided = _decided(rt, call_sid)
    return decided[0] if decided else None


def for_call(rt: Runtime, call_sid: str) -> Speech:
    """The words of the call of `call_sid` (in its line's voice for them): as decided for
    the live call, else (Redis lost it) as its record says, else English."""
    decided = _decided(rt, call_sid)
    if decided is None and call_sid:
        decided = _recorded_language(rt, call_sid)
        if decided is not None:
            remember(rt, call_sid, *decided)
    if decided is not None:
        _note(call_sid, decided[0])
    return spoken(rt, *decided) if decided else spoken(rt, None)


def _recorded_language(rt: Runtime, call_sid: str) -> tuple[str, str | None] | None:
    """The language of a call as the database has it (its own, else its queue's), with its
    queue's voice when the queue speaks it."""
    with rt.db.session() as s:
        row = s.execute(select(Interaction.language, Queue.language, Queue.voice)
                        .outerjoin(Queue, Interaction.queue_id == Queue.id)
                        .where(Interaction.call_sid == call_sid)).first()
    if row is None or not (row[0] or row[1]):
        return None
    tag = str(row[0] or row[1])
    return tag, row[2] if row[2] and (row[1] or DEFAULT_LANGUAGE) == tag else None


def line_voice(queues: Iterable[Any], tag: str) -> str | None:
    """The voice a line speaks `tag` in: the first of its queues (or their cached cards)
    whose own language it is and that names a voice (None: the language's own)."""
    return next((q.voice for q in queues
                 if q.voice and (q.language or DEFAULT_LANGUAGE) == tag), None)


def spoken(rt: Runtime | None, tag: str | None, voice: str | None = None) -> Speech:
    """The words of `tag` (None: English) with `voice` (None: the language's own); a
    language without a Twilio voice plays the app's recorded prompts."""
    sp = speech(tag or DEFAULT_LANGUAGE, voice or None) if tag in LANGUAGES or not tag \
        else ENGLISH
    if sp.recorded and rt is not None:
        return sp.with_prompts(prompts.url_builder(
            rt.settings.public_base_url or "http://127.0.0.1:5000",
            rt.settings.twilio_auth_token))
    return sp


def _queue_voice(queue: Any, tag: str) -> str | None:
    """The queue's own voice when it speaks `tag` in it (None: the language's)."""
    return queue.voice if queue is not None and queue.voice and (
        queue.language or DEFAULT_LANGUAGE) == tag else None


def for_queue(rt: Runtime | None, queue: Queue | None) -> Speech:
    """The words of a queue's line (its agents' whispers too)."""
    tag = (queue.language if queue is not None else None) or DEFAULT_LANGUAGE
    return spoken(rt, tag, _queue_voice(queue, tag))


def for_callback(rt: Runtime | None, callback: Callback) -> Speech:
    """The words a callback's customer is called and texted in (the language they booked
    in; else their queue's)."""
    tag = callback.language or callback.queue.language or DEFAULT_LANGUAGE
    return spoken(rt, tag, _queue_voice(callback.queue, tag))


def for_interaction(rt: Runtime, interaction: Interaction) -> Speech:
    """The words of a recorded call: its own language, else its queue's."""
    tag = interaction.language or (interaction.queue.language if interaction.queue else None)
    return spoken(rt, tag or DEFAULT_LANGUAGE, _queue_voice(interaction.queue, tag or ""))


def line_languages(queues: Iterable[Any]) -> list[str]:
    """The languages a line serves (its queues or their cached cards), its first language
    first: each queue's own, then the further ones they offer (unknown tags left out)."""
    found: list[str] = []
    queues = list(queues)
    wanted = [q.language or DEFAULT_LANGUAGE for q in queues] + [
        tag.strip() for q in queues for tag in (q.languages or "").split(",")]
    for tag in wanted:
        if tag in LANGUAGES and tag not in found:
            found.append(tag)
    return found or [DEFAULT_LANGUAGE]


def queue_text(queue: Any, field: str, sp: Speech, written: str = "") -> str:
    """An admin-written text of a queue (or its card) in the caller's language: the one
    entered for it, else `written` when that is the queue's own language, else "" (never
    one language's words read in another's voice)."""
    entered = ((queue.texts or {}).get(field) or {}).get(sp.tag)
    if entered:
        return str(entered)
    return written if (queue.language or DEFAULT_LANGUAGE) == sp.tag else ""


def choice_prompt(rt: Runtime, offered: Sequence[str], action: str) -> VoiceResponse:
    """Offer the line's further languages, each in itself ("For English, press 9."); no
    key keeps the first."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=action, method="POST", timeout=CHOICE_TIMEOUT_SECONDS)
    for digit, tag in zip(CHOICE_DIGITS, offered[1:], strict=False):
        sp = spoken(rt, tag)
        twiml.say(gather, sp.gettext(LANGUAGE_CHOICE_PROMPT, language=sp.language.name,
                                     digit=digit), sp)
    response.append(gather)
    response.redirect(action, method="POST")
    return response


def chosen(offered: Sequence[str], digits: str) -> str:
    """The language a key chose (no key or another: the line's first)."""
    index = CHOICE_DIGITS.find(digits) if len(digits) == 1 else -1
    return offered[index + 1] if 0 <= index < len(offered) - 1 else offered[0]


def keep(s: Session, rt: Runtime, interaction: Interaction, tag: str,
         voice: str | None = None) -> None:
    """Keep the caller's language on the call, their number's record and the live call."""
    language(tag)
    interaction.language = tag
    number = interaction.caller_number
    if number:
        caller = interaction.caller or s.scalar(select(Caller).where(Caller.number == number))
        if caller is None:
            caller = Caller(number=number)
            s.add(caller)
        caller.language = tag
        interaction.caller = caller
    remember(rt, interaction.call_sid, tag, voice)


def folder(rt: Runtime) -> Path:
    """Where this instance keeps recorded prompts."""
    return Path(rt.settings.instance_path) / "prompts"

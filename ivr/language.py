"""Which language a call is spoken to in: the caller's (chosen, or remembered for their
number), else their queue's; kept in Redis for the live call so every webhook of it
speaks the same language without reading the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from holdless.speech import ENGLISH, Speech, speech
from queueing import keys
from queueing.limits import CALL_LANGUAGE_TTL_SECONDS

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime
    from models.callbacks import Callback
    from models.entities import Queue


def remember(rt: Runtime, call_sid: str, tag: str) -> None:
    """Speak to the call of `call_sid` in `tag` from now on."""
    rt.live.set(keys.call_language(call_sid), tag, ex=CALL_LANGUAGE_TTL_SECONDS)


def for_call(rt: Runtime, call_sid: str) -> Speech:
    """The words of the call of `call_sid` (English when nothing was decided for it)."""
    tag = rt.live.get(keys.call_language(call_sid)) if call_sid else None
    return spoken(rt, str(tag) if tag else None)


def spoken(rt: Runtime, tag: str | None, voice: str | None = None) -> Speech:
    """The words of `tag` (None: English) with `voice` (None: the language's own)."""
    if not tag:
        return ENGLISH
    return speech(tag, voice or None)


def for_callback(rt: Runtime | None, callback: Callback) -> Speech:
    """The words a callback's customer is called and texted in (the language they booked in)."""
    return ENGLISH


def for_queue(rt: Runtime | None, queue: Queue | None) -> Speech:
    """The words of a queue's line (its agents' whispers too)."""
    return ENGLISH

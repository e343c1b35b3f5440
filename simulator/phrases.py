"""Simulated callers who understand their language: what each listens for before pressing
a key ("Press 1" in English, "Drücken Sie die 1" in German, "tryk 1" in Danish,
"vajutage 1" in Estonian).

A caller hears both what is said (<Say>) and what is played (<Play>). The stand-in cannot
transcribe audio, so for a played prompt the listener takes the sentence the address
names: Holdless's recorded prompts (its holdless/prompts.py, lines whose language Twilio
has no voice for) carry their sentence in the `text` query argument of the address. A
played clip without one (hold music) is heard as nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from simulator.endpoints import GatherPrompt

DEFAULT_LANGUAGE = "en-US"
# How each language asks for the key 1 (lower case), and asks for a rating.
PRESS_ONE = {"en-US": "press 1", "de-DE": "drücken sie die 1", "da-DK": "tryk 1",
             "et-EE": "vajutage 1"}
RATE = {"en-US": "rate the agent", "de-DE": "bewerten sie", "da-DK": "bedømme",
        "et-EE": "hindate"}
BEST_RATING = "5"


class UnknownLanguage(ValueError):
    """A language the simulated callers do not speak; the message names the choices."""


def check(tag: str) -> str:
    """`tag` when simulated callers speak it, else UnknownLanguage."""
    if tag not in PRESS_ONE:
        raise UnknownLanguage(f"language {tag!r}: simulated callers speak "
                              f"{', '.join(sorted(PRESS_ONE))}")
    return tag


def heard(prompt: GatherPrompt) -> str:
    """Everything the caller heard at a Gather, in lower case: what was said, then the
    sentences the played prompts carry."""
    played = [parse_qs(urlsplit(url).query).get("text", [""])[0] for url in prompt.played]
    return " ".join([prompt.prompt, *played]).lower()


def callback_taker(tag: str = DEFAULT_LANGUAGE, digit: str | None = None
                   ) -> Callable[[GatherPrompt], str | None]:
    """A caller's keys who picks `digit` at the menu, takes a callback when offered one,
    confirms the number and, asked for a rating, gives the best: pressing 1 wherever
    their language asks for it."""
    press_one, rate = PRESS_ONE[check(tag)], RATE[tag]

    def press(gather: GatherPrompt) -> str | None:
        if digit and gather.attempt == 0:
            return digit
        words = heard(gather)
        if rate in words:
            return BEST_RATING
        return "1" if press_one in words else None

    return press

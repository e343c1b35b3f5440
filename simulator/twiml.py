"""Parsing TwiML documents the app returns into a small verb tree, rejecting what Twilio would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

VERBS = frozenset(
    {"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Reject", "Leave", "Enqueue",
     "Dial", "Record", "Sms", "Connect"}
)
GATHER_CHILDREN = frozenset({"Say", "Play", "Pause"})
DIAL_NOUNS = frozenset({"Number", "Client", "Conference", "Sip", "Queue"})
QUEUE_WAIT_VERBS = frozenset({"Say", "Play", "Pause", "Gather", "Redirect", "Leave", "Hangup"})
CONFERENCE_WAIT_VERBS = frozenset({"Say", "Play", "Pause", "Redirect"})
WHISPER_VERBS = frozenset({"Say", "Play", "Pause", "Gather", "Redirect", "Hangup"})


class TwimlError(ValueError):
    """The document is not TwiML Twilio would execute (Twilio's error 12100/12200)."""


@dataclass(frozen=True)
class Verb:
    """One TwiML element: its name, attributes, text and nested elements."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    text: str = ""
    children: tuple[Verb, ...] = ()

    def attr(self, name: str, default: str | None = None) -> str | None:
        """An attribute's value, or `default`."""
        return self.attrs.get(name, default)

    def flag(self, name: str, default: bool) -> bool:
        """A true/false attribute."""
        value = self.attrs.get(name)
        return default if value is None else value.strip().lower() == "true"

    def number(self, name: str, default: float) -> float:
        """A numeric attribute; raises TwimlError when it is not a number."""
        value = self.attrs.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except ValueError as error:
            raise TwimlError(f"<{self.name} {name}={value!r}> is not a number") from error


@dataclass(frozen=True)
class Document:
    """A fetched TwiML document and the URL it came from (relative URLs resolve against it)."""

    url: str
    verbs: tuple[Verb, ...]


def _convert(element: ET.Element) -> Verb:
    return Verb(
        name=element.tag,
        attrs=dict(element.attrib),
        text=(element.text or "").strip(),
        children=tuple(_convert(child) for child in element),
    )


def _check(verb: Verb) -> None:
    if verb.name not in VERBS:
        raise TwimlError(f"<{verb.name}> is not a TwiML verb")
    if verb.name == "Gather":
        for child in verb.children:
            if child.name not in GATHER_CHILDREN:
                raise TwimlError(f"<Gather> cannot contain <{child.name}>")
    if verb.name == "Dial":
        nouns = [c for c in verb.children if c.name in DIAL_NOUNS]
        if len(nouns) != len(verb.children) or (not nouns and not verb.text):
            raise TwimlError("<Dial> needs a number or one of Number, Client, Conference, Queue")
    if verb.name in ("Redirect",) and not verb.text:
        raise TwimlError("<Redirect> needs a URL")


def parse_twiml(text: str, url: str = "") -> Document:
    """Parse a TwiML body into a Document; raise TwimlError for anything Twilio would reject."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise TwimlError(f"document is not well-formed XML: {error}") from error
    if root.tag != "Response":
        raise TwimlError(f"root element is <{root.tag}>, not <Response>")
    verbs = tuple(_convert(child) for child in root)
    for verb in verbs:
        _check(verb)
    return Document(url=url, verbs=verbs)


def ensure_allowed(document: Document, allowed: frozenset[str], where: str) -> None:
    """Raise TwimlError when the document uses a verb not allowed in this context."""
    for verb in document.verbs:
        if verb.name not in allowed:
            raise TwimlError(f"<{verb.name}> is not allowed in {where}")

"""Who picks up: endpoints the network can ring, how they answer, and what callers key in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from simulator.call import VirtualCall

ANSWER_OUTCOMES = frozenset({"human", "machine", "fax", "busy", "no-answer", "failed"})
# Who answers without a person: a voicemail or answering machine, or a fax. A call to a
# phone number completes when a voicemail picks up, exactly as when a person does
# (help.twilio.com "What are the possible call statuses": completed "could be ... a phone
# answered by a person, an IVR phone tree menu, or even a voicemail"). They never press keys.
MACHINE_OUTCOMES = frozenset({"machine", "fax"})
# What answering-machine detection can report (docs /docs/voice/answering-machine-detection,
# "AnsweredBy"): with MachineDetection=Enable human, machine_start, fax or unknown; with
# DetectMessageEnd a machine is reported when its greeting ends, as one of machine_end_*.
MACHINE_END_VALUES = ("machine_end_beep", "machine_end_silence", "machine_end_other")
DETECTABLE = frozenset({"human", "unknown", "fax", "machine_start", *MACHINE_END_VALUES})
# Detection listens a few seconds after the answer before it decides (the same page: it
# ends at the latest after MachineDetectionTimeout, 30 s by default, with "unknown").
DETECTION_SECONDS = 3.0


@dataclass(frozen=True)
class Answer:
    """How a rung endpoint responds, `after` virtual seconds of ringing.

    `answered_by`: what detection makes of it when asked ("" = the plain reading of the
    outcome; "unknown" = detection cannot tell; a machine_end_* value = how a machine's
    greeting ends); `detect_after`: virtual seconds detection listens after the answer.
    """

    outcome: str
    after: float = 0.0
    answered_by: str = ""
    detect_after: float = DETECTION_SECONDS

    def __post_init__(self) -> None:
        if self.outcome not in ANSWER_OUTCOMES:
            raise ValueError(f"unknown answer outcome {self.outcome!r}")
        if self.answered_by and self.answered_by not in DETECTABLE:
            raise ValueError(f"unknown AnsweredBy {self.answered_by!r}")

    def detected_as(self, mode: str) -> str:
        """The AnsweredBy Twilio reports for this answer under MachineDetection=`mode`."""
        if self.outcome == "fax":
            return "fax"
        if self.outcome == "machine":
            if mode != "DetectMessageEnd":
                return "machine_start"
            ending = self.answered_by
            return ending if ending in MACHINE_END_VALUES else "machine_end_beep"
        return "unknown" if self.answered_by == "unknown" else "human"

    @classmethod
    def human(cls, after: float = 2.0) -> Answer:
        """A person picks up after `after` seconds."""
        return cls("human", after)

    @classmethod
    def machine(cls, after: float = 2.0, ending: str = "",
                detect_after: float = DETECTION_SECONDS) -> Answer:
        """Voicemail picks up after `after` seconds (its greeting ends as `ending`, one of
        machine_end_*, when detection waits for the message end)."""
        return cls("machine", after, ending, detect_after)

    @classmethod
    def fax(cls, after: float = 2.0, detect_after: float = DETECTION_SECONDS) -> Answer:
        """A fax machine picks up after `after` seconds."""
        return cls("fax", after, "fax", detect_after)

    @classmethod
    def busy(cls, after: float = 0.5) -> Answer:
        """The line is busy."""
        return cls("busy", after)

    @classmethod
    def no_answer(cls) -> Answer:
        """It rings until the caller's timeout."""
        return cls("no-answer", float("inf"))

    @classmethod
    def failed(cls) -> Answer:
        """The number cannot be reached."""
        return cls("failed", 0.0)


@dataclass(frozen=True)
class GatherPrompt:
    """What a caller faces at a <Gather>: the prompt text and how many digits are wanted."""

    call: VirtualCall
    prompt: str
    num_digits: int | None
    attempt: int
    played: tuple[str, ...] = ()
    """The media URLs the Gather's nested <Play> verbs played (heard, not read)."""


KeypressScript = Sequence[str | None] | Callable[[GatherPrompt], str | None] | None


class Keypad:
    """Answers Gathers from a script: a list (one entry per Gather) or a callable."""

    def __init__(self, script: KeypressScript = None) -> None:
        """Wrap a keypress script; None never presses anything."""
        self._script = script
        self._attempt = 0

    def respond(self, call: VirtualCall, prompt: str, num_digits: int | None,
                played: tuple[str, ...] = ()) -> str | None:
        """Digits the caller keys in at this Gather, or None to stay silent."""
        attempt, self._attempt = self._attempt, self._attempt + 1
        script = self._script
        if script is None:
            return None
        if callable(script):
            return script(GatherPrompt(call, prompt, num_digits, attempt, played))
        items = list(script)
        return items[attempt] if attempt < len(items) else None


def answer_when(replies: dict[str, str | None],
                default: str | None = None) -> Callable[[GatherPrompt], str | None]:
    """A keypress script pressing `replies[phrase]` when a prompt contains `phrase`."""

    def respond(prompt: GatherPrompt) -> str | None:
        text = prompt.prompt.lower()
        for phrase, digits in replies.items():
            if phrase.lower() in text:
                return digits
        return default

    return respond


AnswerRule = Answer | Callable[[VirtualCall], Answer]


@dataclass
class Endpoint:
    """A phone or browser client the network can ring, and how its person behaves."""

    address: str
    answer: AnswerRule = Answer.human()
    handle_time: float | None = None
    keypresses: KeypressScript = None
    record_seconds: float = 5.0

    def decide(self, call: VirtualCall) -> Answer:
        """How this endpoint answers this particular call."""
        return self.answer(call) if callable(self.answer) else self.answer

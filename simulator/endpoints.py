"""Who picks up: endpoints the network can ring, how they answer, and what callers key in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from simulator.call import VirtualCall

ANSWER_OUTCOMES = frozenset({"human", "machine", "busy", "no-answer", "failed"})


@dataclass(frozen=True)
class Answer:
    """How a rung endpoint responds, `after` virtual seconds of ringing."""

    outcome: str
    after: float = 0.0

    def __post_init__(self) -> None:
        if self.outcome not in ANSWER_OUTCOMES:
            raise ValueError(f"unknown answer outcome {self.outcome!r}")

    @classmethod
    def human(cls, after: float = 2.0) -> Answer:
        """A person picks up after `after` seconds."""
        return cls("human", after)

    @classmethod
    def machine(cls, after: float = 2.0) -> Answer:
        """Voicemail picks up after `after` seconds."""
        return cls("machine", after)

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


KeypressScript = Sequence[str | None] | Callable[[GatherPrompt], str | None] | None


class Keypad:
    """Answers Gathers from a script: a list (one entry per Gather) or a callable."""

    def __init__(self, script: KeypressScript = None) -> None:
        """Wrap a keypress script; None never presses anything."""
        self._script = script
        self._attempt = 0

    def respond(self, call: VirtualCall, prompt: str, num_digits: int | None) -> str | None:
        """Digits the caller keys in at this Gather, or None to stay silent."""
        attempt, self._attempt = self._attempt, self._attempt + 1
        script = self._script
        if script is None:
            return None
        if callable(script):
            return script(GatherPrompt(call, prompt, num_digits, attempt))
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

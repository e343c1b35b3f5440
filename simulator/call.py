"""`VirtualCall`: one simulated call leg, its transcript, and the signals that steer it."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from simulator.clock import VirtualClock

Event = tuple[str, ...]
TranscriptEntry = tuple[float, Event]
_scope_ids = itertools.count(1)


class DigitSource(Protocol):
    """What keys in a caller's digits at a <Gather> (`endpoints.Keypad` is the one in use)."""

    def respond(self, call: VirtualCall, prompt: str, num_digits: int | None,
                played: tuple[str, ...] = ()) -> str | None:
        """Digits the caller keys in at this Gather (having heard `prompt` said and the
        media of `played` played), or None to stay silent."""


class CallSignal(Exception):  # noqa: N818 - control flow, not an error
    """Something outside the TwiML the call is executing changes its course."""


class HangupSignal(CallSignal):
    """The call ends now; `reason` says who ended it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RedirectSignal(CallSignal):
    """A REST update: drop what the call is doing and execute a new document."""

    def __init__(self, url: str | None, method: str, twiml: str | None) -> None:
        super().__init__(url or "inline TwiML")
        self.url = url
        self.method = method
        self.twiml = twiml


class ScopeExit(CallSignal):
    """The condition a scoped wait was waiting on came true (e.g. a conference started)."""

    def __init__(self, token: int) -> None:
        super().__init__(token)
        self.token = token


@dataclass(frozen=True)
class CallError:
    """A failure Twilio would log for the call: where it happened and what went wrong."""

    kind: str
    url: str
    detail: str
    fatal: bool = True


@dataclass
class CallState:
    """Mutable state of a call, changed only under the network lock."""

    status: str = "queued"
    answered_at: float | None = None
    ended_at: float | None = None
    rang_at: float | None = None
    hangup_at: float | None = None
    hangup_reason: str = "patience"
    finished: bool = False
    pending: CallSignal | None = None
    digits: str = ""
    gathering: bool = False
    joined_conference: str | None = None
    scopes: list[tuple[int, Callable[[], bool]]] = field(default_factory=list)


class VirtualCall:
    """A simulated call leg: a handle tests observe and steer (hang up, press keys)."""

    def __init__(self, sid: str, account_sid: str, from_: str, to: str, direction: str,
                 cond: threading.Condition, clock: VirtualClock, keypad: DigitSource,
                 talk_time: float | None = None, parent_sid: str | None = None) -> None:
        """Make a call leg; the network runs it in its own thread."""
        self.sid = sid
        self.account_sid = account_sid
        self.from_ = from_
        self.to = to
        self.direction = direction
        self.parent_sid = parent_sid
        self.keypad = keypad
        self.talk_time = talk_time
        self.record_seconds = 5.0
        self.transcript: list[TranscriptEntry] = []
        self.errors: list[CallError] = []
        self.status_reports: list[tuple[str, int]] = []  # (CallStatus, SequenceNumber) as sent
        # Who picked up when it was answered (human, machine or fax): the network's truth,
        # whatever detection reported.
        self.answered_as: str | None = None
        self.state = CallState()
        self.thread: threading.Thread | None = None
        self._cond = cond
        self._clock = clock

    # -- what tests read ---------------------------------------------------------------

    @property
    def status(self) -> str:
        """Twilio's status for the call: queued, ringing, in-progress, completed, busy…"""
        return self.state.status

    @property
    def joined_conference(self) -> str | None:
        """Friendly name of the conference the call is in right now, if any."""
        return self.state.joined_conference

    @property
    def ended(self) -> bool:
        """True once the call has ended, whatever the outcome."""
        return self.state.finished

    def events(self, kind: str | None = None) -> list[Event]:
        """Transcript events without their times, optionally only one kind (e.g. "say")."""
        with self._cond:
            return [e for _, e in self.transcript if kind is None or e[0] == kind]

    def said(self) -> str:
        """Everything the call heard said, joined by spaces."""
        return " ".join(e[1] for e in self.events("say"))

    def duration(self) -> int:
        """Whole virtual seconds from answer to end (0 if never answered)."""
        if self.state.answered_at is None:
            return 0
        end = self.state.ended_at if self.state.ended_at is not None else self._clock.now()
        return int(round(end - self.state.answered_at))

    # -- what tests do -----------------------------------------------------------------

    def hangup(self) -> None:
        """The person on this leg hangs up."""
        self.signal(HangupSignal("caller"))

    def press(self, digits: str) -> None:
        """The person on this leg keys in `digits` now. Twilio collects keys only while a
        <Gather> runs (its nested verbs and its timeout); keys pressed at any other moment
        are lost (www.twilio.com/docs/voice/twiml/gather)."""
        with self._cond:
            if not self.state.gathering:
                self.transcript.append((self._clock.now(), ("key-ignored", digits)))
                self._cond.notify_all()
                return
            self.state.digits += digits
            self._cond.notify_all()

    @contextmanager
    def gathering(self) -> Iterator[None]:
        """Within the block a <Gather> is listening: keys pressed are kept for it."""
        with self._cond:
            self.state.gathering, self.state.digits = True, ""
        try:
            yield
        finally:
            with self._cond:
                self.state.gathering = False

    def wait_until(self, predicate: Callable[[VirtualCall], bool], timeout: float = 5.0) -> None:
        """Block (real seconds) until `predicate(call)` holds; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"call {self.sid} status={self.status} transcript={self.events()[-8:]}"
                        f" errors={self.errors}"
                    )
                self._cond.wait(min(remaining, 0.05))

    def wait_ended(self, timeout: float = 5.0) -> None:
        """Block until the call has ended."""
        self.wait_until(lambda c: c.ended, timeout)

    # -- what the engine does ----------------------------------------------------------

    def log(self, *event: str) -> None:
        """Append an event to the transcript at the current virtual time."""
        with self._cond:
            self.transcript.append((self._clock.now(), tuple(event)))
            self._cond.notify_all()

    def signal(self, signal: CallSignal) -> None:
        """Deliver a hang-up or redirect; a pending hang-up is never replaced."""
        with self._cond:
            if self.ended or isinstance(self.state.pending, HangupSignal):
                return
            self.state.pending = signal
            self._cond.notify_all()

    def set_status(self, status: str) -> None:
        """Change the call's status and wake anyone waiting on it; the first "ringing" is
        kept as the moment the called phone rang (the call-progress status "ringing",
        /docs/voice/api/call-resource#call-progress-events)."""
        with self._cond:
            if status == "ringing" and self.state.rang_at is None:
                self.state.rang_at = self._clock.now()
            self.state.status = status
            self._cond.notify_all()

    def check(self, allow_redirect: bool = True) -> None:
        """Raise a pending signal, if any."""
        with self._cond:
            pending = self.state.pending
            if isinstance(pending, HangupSignal):
                raise pending
            if pending is not None and allow_redirect:
                self.state.pending = None
                raise pending
            for token, predicate in self.state.scopes:
                if predicate():
                    raise ScopeExit(token)

    def wait(self, seconds: float | None, until: Callable[[], bool] | None = None,
             allow_redirect: bool = True) -> bool:
        """Let `seconds` virtual seconds pass (None: forever) or until `until()` holds.

        Returns True when `until` came true; raises a CallSignal when the call is hung up,
        redirected, past its hang-up deadline, or an enclosing scope's condition holds.
        """
        clock = self._clock
        end = None if seconds is None else clock.now() + seconds
        with self._cond:
            while True:
                self.check(allow_redirect)
                if until is not None and until():
                    return True
                now = clock.now()
                hangup_at = self.state.hangup_at
                if hangup_at is not None and now >= hangup_at:
                    raise HangupSignal(self.state.hangup_reason)
                if end is not None and now >= end:
                    return False
                limits = [t for t in (end, hangup_at) if t is not None]
                real = clock.to_real(min(limits) - now) if limits else 1.0
                self._cond.wait(min(max(real, 0.0005), 1.0))

    @contextmanager
    def scope(self, done: Callable[[], bool]) -> Iterator[int]:
        """Within the block, every wait raises ScopeExit(token) once `done()` holds."""
        token = next(_scope_ids)
        with self._cond:
            self.state.scopes.append((token, done))
        try:
            yield token
        finally:
            with self._cond:
                self.state.scopes = [s for s in self.state.scopes if s[0] != token]

    def take_digits(self) -> str:
        """Remove and return the digits keyed in so far."""
        with self._cond:
            digits, self.state.digits = self.state.digits, ""
            return digits

    def peek_digits(self) -> str:
        """Digits keyed in so far, left in place."""
        with self._cond:
            return self.state.digits

    def connected(self) -> None:
        """The call reached a person: from now on it lasts at most its talk time."""
        with self._cond:
            self.state.hangup_reason = "talk-time"
            self.state.hangup_at = (
                None if self.talk_time is None else self._clock.now() + self.talk_time
            )
            self._cond.notify_all()

    def fail(self, kind: str, url: str, detail: str, fatal: bool = True) -> None:
        """Record an error Twilio would report for this call."""
        with self._cond:
            self.errors.append(CallError(kind, url, detail, fatal))
        self.log("error", kind, detail)

"""Where calls wait together: named call queues (Enqueue) and conferences (Dial Conference).

All state here is read and changed under the network's lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.call import VirtualCall
from simulator.clock import VirtualClock
from simulator.resources import QueueResource, queue_sid


@dataclass
class QueueEntry:
    """A call waiting in a queue since `since` (virtual seconds)."""

    call: VirtualCall
    since: float


class CallQueue:
    """A named FIFO of waiting calls with Twilio's position and wait statistics."""

    def __init__(self, resource: QueueResource, clock: VirtualClock) -> None:
        """An empty queue, the calls of the REST `resource` (its name, sid and MaxSize)."""
        self.name = resource.friendly_name
        self.sid = queue_sid(self.name)
        self.resource = resource
        self.entries: list[QueueEntry] = []
        self._clock = clock

    @property
    def max_size(self) -> int:
        """The queue's maximum size, as last set through REST (or its default)."""
        return self.resource.max_size

    def full(self) -> bool:
        """Whether the queue already holds its maximum size (an <Enqueue> is then refused:
        QueueResult queue-full, twilio.com/docs/voice/twiml/enqueue, and warning 14207)."""
        return len(self.entries) >= self.max_size

    def join(self, call: VirtualCall) -> QueueEntry:
        """Put a call at the back of the line."""
        entry = QueueEntry(call, self._clock.now())
        self.entries.append(entry)
        self.resource.current_size = len(self.entries)
        return entry

    def remove(self, entry: QueueEntry) -> None:
        """Take a call out of the line (no-op if already gone)."""
        if entry in self.entries:
            self.entries.remove(entry)
        self.resource.current_size = len(self.entries)

    def position(self, entry: QueueEntry) -> int:
        """1-based place in line, as Twilio's QueuePosition."""
        return self.entries.index(entry) + 1

    def wait_params(self, entry: QueueEntry) -> dict[str, str]:
        """The queue fields Twilio adds to wait URL requests."""
        now = self._clock.now()
        waits = [now - e.since for e in self.entries]
        return {
            "QueueSid": self.sid,
            "QueuePosition": str(self.position(entry)),
            "QueueTime": str(int(now - entry.since)),
            "AvgQueueTime": str(int(sum(waits) / len(waits))) if waits else "0",
            "CurrentQueueSize": str(len(self.entries)),
            # With a waitUrl, Twilio also sends the queue's maximum size
            # (twilio.com/docs/api/errors/14207: "MaxQueueSize and CurrentQueueSize").
            "MaxQueueSize": str(self.max_size),
        }


@dataclass
class Participant:
    """A call in a conference and its flags."""

    call: VirtualCall
    start_on_enter: bool = True
    end_on_exit: bool = False
    muted: bool = False
    hold: bool = False
    removed: bool = False
    # The call this participant coaches (CallSidToCoach), or None: a coach is heard by that
    # call only (twilio.com/docs/voice/api/conference-participant-resource, `coaching` and
    # `call_sid_to_coach`; TwiML's <Conference coach="CA...">).
    coaching: str | None = None


@dataclass
class Conference:
    """A conference by friendly name: starts when a moderator and another party are in."""

    name: str
    sid: str
    participants: dict[str, Participant] = field(default_factory=dict)
    started: bool = False
    ended: bool = False
    sequence: int = 0  # SequenceNumber of its status callbacks

    def join(self, participant: Participant) -> bool:
        """Add a participant; return True when this join starts the conference."""
        self.participants[participant.call.sid] = participant
        people = list(self.participants.values())
        if self.started or self.ended or len(people) < 2:
            return False
        if not any(p.start_on_enter for p in people):
            return False
        self.started = True
        return True

    def leave(self, call: VirtualCall) -> bool:
        """Remove a call; return True when its leaving ends the conference."""
        participant = self.participants.pop(call.sid, None)
        if participant is None or self.ended:
            return False
        ends = (participant.end_on_exit and self.started) or not self.participants
        if ends:
            self.ended = True
        return ends

    def hears(self, listener: str, speaker: str) -> bool:
        """Whether the call `listener` hears the call `speaker` in this conference, as the
        Participant resource page describes the flags (twilio.com/docs/voice/api/
        conference-participant-resource): a muted participant is heard by nobody, one on
        hold neither hears nor is heard, and a coach is heard only by the call it coaches."""
        heard, hearing = self.participants.get(speaker), self.participants.get(listener)
        if heard is None or hearing is None or listener == speaker or not self.started:
            return False
        if heard.muted or heard.hold or hearing.hold:
            return False
        return heard.coaching is None or heard.coaching == listener

"""Twilio-shaped REST resources (calls, conferences, participants, messages) kept in memory.

The store is what the REST stand-in answers from; the phone network writes call and
conference state into it as calls progress.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from simulator.messaging import Messaging

API_VERSION = "2010-04-01"
TERMINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def new_sid(prefix: str) -> str:
    """Return a fresh Twilio-style sid: two-letter prefix and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime) -> str:
    """Format a timestamp the way Twilio's REST API does."""
    return format_datetime(moment, usegmt=True)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CallResource:
    """A call as the REST API shows it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    direction: str
    status: str = "queued"
    parent_call_sid: str | None = None
    answered_by: str | None = None
    duration: int | None = None
    created: datetime = field(default_factory=_now)
    updated: datetime = field(default_factory=_now)

    @property
    def start_time(self) -> datetime | None:
        """When dialling began: none while the call is still queued (as Twilio shows it)."""
        return None if self.status == "queued" else self.created

    @property
    def end_time(self) -> datetime | None:
        """When the call ended, once it has."""
        return self.updated if self.status in TERMINAL_CALL_STATUSES else None

    def to_json(self) -> dict[str, Any]:
        """Render the resource as Twilio's JSON body."""
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        start, end = self.start_time, self.end_time
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "parent_call_sid": self.parent_call_sid,
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from_,
            "from_formatted": self.from_,
            "status": self.status,
            "direction": self.direction,
            "answered_by": self.answered_by,
            "duration": None if self.duration is None else str(self.duration),
            "api_version": API_VERSION,
            "date_created": rfc2822(self.created),
            "date_updated": rfc2822(self.updated),
            "start_time": None if start is None else rfc2822(start),
            "end_time": None if end is None else rfc2822(end),
            "price": None,
            "price_unit": "USD",
            "uri": base + ".json",
            "subresource_uris": {"recordings": base + "/Recordings.json"},
        }


@dataclass
class ConferenceResource:
    """A conference as the REST API shows it (status `in-progress` or `completed`)."""

    sid: str
    account_sid: str
    friendly_name: str
    status: str = "in-progress"
    created: datetime = field(default_factory=_now)
    updated: datetime = field(default_factory=_now)

    def to_json(self) -> dict[str, Any]:
        """Render the resource as Twilio's JSON body."""
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "friendly_name": self.friendly_name,
            "status": self.status,
            "region": "us1",
            "api_version": API_VERSION,
            "date_created": rfc2822(self.created),
            "date_updated": rfc2822(self.updated),
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Conferences/{self.sid}.json",
        }


@dataclass
class ParticipantResource:
    """A conference participant as the REST API shows it."""

    call_sid: str
    conference_sid: str
    account_sid: str
    flags: dict[str, str] = field(default_factory=dict)
    status: str = "queued"

    def coached_call(self) -> str | None:
        """The call this participant coaches: `call_sid_to_coach` while coaching. Coaching
        "defaults to false unless call_sid_to_coach is defined"
        (twilio.com/docs/voice/api/conference-participant-resource)."""
        coach = self.flags.get("CallSidToCoach") or None
        coaching = self.flags.get("Coaching")
        if coach is None or (coaching is not None and coaching.lower() != "true"):
            return None
        return coach

    def to_json(self) -> dict[str, Any]:
        """Render the resource as Twilio's JSON body."""

        def flag(name: str, default: bool) -> bool:
            value = self.flags.get(name)
            return default if value is None else value.lower() == "true"

        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Conferences/{self.conference_sid}"
        return {
            "account_sid": self.account_sid,
            "call_sid": self.call_sid,
            "conference_sid": self.conference_sid,
            "label": self.flags.get("Label"),
            "hold": flag("Hold", False),
            "muted": flag("Muted", False),
            "end_conference_on_exit": flag("EndConferenceOnExit", False),
            "start_conference_on_enter": flag("StartConferenceOnEnter", True),
            "coaching": self.coached_call() is not None,
            "call_sid_to_coach": self.coached_call(),
            "status": self.status,
            "date_created": rfc2822(_now()),
            "date_updated": rfc2822(_now()),
            "uri": f"{base}/Participants/{self.call_sid}.json",
        }


@dataclass
class MessageResource:
    """An outbound SMS as the REST API shows it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str = "queued"
    created: datetime = field(default_factory=_now)
    status_callback: str | None = None
    error_code: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Render the resource as Twilio's JSON body."""
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "error_code": self.error_code,
            "error_message": None,
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "api_version": API_VERSION,
            "date_created": rfc2822(self.created),
            "date_updated": rfc2822(self.created),
            "date_sent": None,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json",
        }


# A queue's maximum size. Twilio's pages disagree on the default: the <Enqueue> page
# (twilio.com/docs/voice/twiml/enqueue: "The <Enqueue> verb will create a queue on demand
# ... The default maximum length of the queue is 100", as served; its newer text says 1000)
# and the Queue resource (twilio-oai CreateQueue/UpdateQueue MaxSize, and max_size: "The
# default is 1000. The maximum is 5000."). The stand-in gives a queue <Enqueue> creates on
# demand the stricter 100, one created through REST without MaxSize 1000; MaxSize above
# 5000 is refused (error 14207's page: "A queue's maxSize can be adjusted to a maximum of
# 5000", twilio.com/docs/api/errors/14207).
ON_DEMAND_QUEUE_SIZE = 100
REST_QUEUE_SIZE = 1000
MAX_QUEUE_SIZE = 5000


def queue_sid(friendly_name: str) -> str:
    """The stand-in's sid for the queue with this name (stable, so REST and calls agree)."""
    return "QU" + hashlib.md5(friendly_name.encode(), usedforsecurity=False).hexdigest()


@dataclass
class QueueResource:
    """A call queue as the REST API shows it (Queue resource, docs/voice/api/queue-resource)."""

    sid: str
    account_sid: str
    friendly_name: str
    max_size: int
    current_size: int = 0
    created: datetime = field(default_factory=_now)
    updated: datetime = field(default_factory=_now)

    def to_json(self) -> dict[str, Any]:
        """Render the resource as Twilio's JSON body."""
        return {
            "sid": self.sid, "account_sid": self.account_sid,
            "friendly_name": self.friendly_name, "max_size": self.max_size,
            "current_size": self.current_size, "average_wait_time": 0,
            "date_created": rfc2822(self.created), "date_updated": rfc2822(self.updated),
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Queues/{self.sid}.json",
        }


class ResourceStore:
    """Thread-safe in-memory REST state: what Twilio would answer about calls and the rest."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.calls: dict[str, CallResource] = {}
        self.conferences: dict[str, ConferenceResource] = {}
        self.participants: dict[tuple[str, str], ParticipantResource] = {}
        self.messages: dict[str, MessageResource] = {}
        self.messaging = Messaging()
        self.recordings: dict[str, bytes] = {}  # recording sid -> its media
        self.queues: dict[str, QueueResource] = {}  # by friendly name

    def ensure_queue(self, account_sid: str, friendly_name: str,
                     max_size: int = ON_DEMAND_QUEUE_SIZE) -> QueueResource:
        """The queue with this name, created with `max_size` when it does not exist yet."""
        with self._lock:
            found = self.queues.get(friendly_name)
            if found is None:
                found = QueueResource(queue_sid(friendly_name), account_sid, friendly_name,
                                      max_size)
                self.queues[friendly_name] = found
            return found

    def queue_by_sid(self, sid: str) -> QueueResource | None:
        """The queue with this sid, if known."""
        with self._lock:
            return next((q for q in self.queues.values() if q.sid == sid), None)

    def list_queues(self) -> list[QueueResource]:
        """Every queue, oldest first."""
        with self._lock:
            return sorted(self.queues.values(), key=lambda q: q.created)

    def add_call(self, call: CallResource) -> CallResource:
        """Register a call so the REST API can fetch and update it."""
        with self._lock:
            self.calls[call.sid] = call
            return call

    def get_call(self, sid: str) -> CallResource | None:
        """Return the call with this sid, if known."""
        with self._lock:
            return self.calls.get(sid)

    def list_calls(self, keep: Any) -> list[CallResource]:
        """Calls for which `keep(call)` is true, newest first (Twilio's order)."""
        with self._lock:
            found = [c for c in self.calls.values() if keep(c)]
        return sorted(found, key=lambda c: c.created, reverse=True)

    def update_call(self, sid: str, **changes: Any) -> None:
        """Change fields of a known call (status, duration, answered_by)."""
        with self._lock:
            call = self.calls.get(sid)
            if call is None:
                return
            for name, value in changes.items():
                setattr(call, name, value)
            call.updated = _now()

    def ensure_conference(self, account_sid: str, friendly_name: str) -> ConferenceResource:
        """Return the live conference with this name, creating one when none is live."""
        with self._lock:
            for conference in self.conferences.values():
                if conference.friendly_name == friendly_name and conference.status != "completed":
                    return conference
            conference = ConferenceResource(new_sid("CF"), account_sid, friendly_name)
            self.conferences[conference.sid] = conference
            return conference

    def find_conference(self, key: str) -> ConferenceResource | None:
        """Find a conference by sid, or the live (else latest) one by friendly name."""
        with self._lock:
            if key in self.conferences:
                return self.conferences[key]
            named = [c for c in self.conferences.values() if c.friendly_name == key]
            live = [c for c in named if c.status != "completed"]
            found = live or named
            return found[-1] if found else None

    def complete_conference(self, sid: str) -> None:
        """Mark a conference as ended."""
        with self._lock:
            conference = self.conferences.get(sid)
            if conference is not None:
                conference.status = "completed"
                conference.updated = _now()

    def list_conferences(
        self, friendly_name: str | None = None, status: str | None = None
    ) -> list[ConferenceResource]:
        """Conferences matching an optional friendly name and status, oldest first."""
        with self._lock:
            return [
                c
                for c in self.conferences.values()
                if (friendly_name is None or c.friendly_name == friendly_name)
                and (status is None or c.status == status)
            ]

    def put_participant(self, participant: ParticipantResource) -> None:
        """Add or replace a participant record."""
        with self._lock:
            key = (participant.conference_sid, participant.call_sid)
            self.participants[key] = participant

    def get_participant(self, conference_sid: str, call_sid: str) -> ParticipantResource | None:
        """Return a participant record, if known."""
        with self._lock:
            return self.participants.get((conference_sid, call_sid))

    def update_message(self, sid: str, status: str, error_code: int | None) -> None:
        """Move a known message to a later status (with Twilio's error code on failure)."""
        with self._lock:
            message = self.messages.get(sid)
            if message is not None:
                message.status, message.error_code = status, error_code

    def add_message(self, message: MessageResource) -> MessageResource:
        """Record an outbound message."""
        with self._lock:
            self.messages[message.sid] = message
            return message

"""Call recordings started through the REST API, as Twilio's Recordings resource documents
them (twilio.com/docs/voice/api/recording):

- "Create a Recording resource": POST to the Recordings list of an in-progress call starts
  recording it (CreateCallRecording); a call Twilio does not know is 404 (20404), one not
  in progress is refused (21220, "Invalid call state": twilio.com/docs/api/errors/21220).
- "Update a Recording resource": Status `paused`, `in-progress` (resume) or `stopped`
  (UpdateCallRecording); a recording that is over can no longer change (21220).
- The recording ends when it is stopped or when its call ends; Twilio then posts the
  RecordingStatusCallback (RecordingStatus `completed`, RecordingUrl, RecordingDuration,
  RecordingChannels, RecordingSource `StartCallRecordingAPI`: "RecordingStatusCallback
  parameters" on the same page), and the media is at RecordingUrl.
- "Delete a Recording resource": DELETE /Recordings/{Sid}.json removes the media and the
  metadata (204); a recording Twilio does not have is 404 (20404).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.resources import API_VERSION, new_sid, rfc2822

# Events Twilio posts when none are asked for (CreateCallRecording's
# RecordingStatusCallbackEvent: "the default is `completed`").
DEFAULT_EVENTS = ("completed",)
API_SOURCE = "StartCallRecordingAPI"
RECORDING_STATUSES = ("in-progress", "paused", "stopped")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CallRecording:
    """One recording of a call started through REST, and what happened to it."""

    sid: str
    account_sid: str
    call_sid: str
    channels: int
    callback: str | None
    events: tuple[str, ...]
    status: str = "in-progress"
    created: datetime = field(default_factory=_now)
    updated: datetime = field(default_factory=_now)
    history: list[str] = field(default_factory=lambda: ["in-progress"])
    duration: int = 0

    def to_json(self) -> dict[str, Any]:
        """The Recording as the call's Recordings list answers it (call_recording schema)."""
        over = self.status in ("completed", "absent")
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION,
            "call_sid": self.call_sid, "conference_sid": None,
            "date_created": rfc2822(self.created), "date_updated": rfc2822(self.updated),
            "start_time": rfc2822(self.created),
            "duration": str(self.duration) if over else "-1", "sid": self.sid,
            "price": None, "price_unit": "USD", "encryption_details": None,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.call_sid}"
                   f"/Recordings/{self.sid}.json",
            "status": self.status, "channels": self.channels, "source": API_SOURCE,
            "error_code": None, "track": "both",
        }


class Recordings:
    """Every call recording of the account, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.by_sid: dict[str, CallRecording] = {}

    def start(self, account: str, call_sid: str, channels: str, callback: str | None,
              events: list[str]) -> CallRecording:
        """A new recording of a live call, in progress."""
        wanted = tuple(e for value in events for e in value.split()) or DEFAULT_EVENTS
        recording = CallRecording(new_sid("RE"), account, call_sid,
                                  2 if channels == "dual" else 1, callback, wanted)
        with self._lock:
            self.by_sid[recording.sid] = recording
        return recording

    def of_call(self, call_sid: str, sid: str) -> CallRecording | None:
        """The recording `sid` of the call, if it exists (and is not deleted)."""
        with self._lock:
            found = self.by_sid.get(sid)
            return found if found is not None and found.call_sid == call_sid else None

    def set_status(self, recording: CallRecording, status: str) -> bool:
        """Pause, resume or stop; False when the recording is already over."""
        with self._lock:
            if recording.status in ("stopped", "completed", "absent"):
                return False
            recording.status = status
            recording.updated = _now()
            recording.history.append(status)
            return True

    def finish(self, call_sid: str | None = None, sid: str | None = None) -> list[CallRecording]:
        """End the live recordings of a call (or the one stopped): now `completed`."""
        with self._lock:
            ended = [r for r in self.by_sid.values()
                     if sid in (None, r.sid) and call_sid in (None, r.call_sid)
                     and r.status in ("in-progress", "paused", "stopped")]
            for recording in ended:
                recording.status = "completed"
                recording.duration = max(1, int((_now() - recording.created).total_seconds()))
                recording.updated = _now()
        return ended

    def delete(self, sid: str) -> bool:
        """Remove a recording; False when there is none by that sid."""
        with self._lock:
            return self.by_sid.pop(sid, None) is not None


def status_form(recording: CallRecording, url: str) -> dict[str, str]:
    """The RecordingStatusCallback of a completed recording (Recordings resource page,
    "RecordingStatusCallback parameters")."""
    return {"AccountSid": recording.account_sid, "CallSid": recording.call_sid,
            "RecordingSid": recording.sid, "RecordingUrl": url,
            "RecordingStatus": "completed", "RecordingDuration": str(recording.duration),
            "RecordingChannels": str(recording.channels),
            "RecordingStartTime": rfc2822(recording.created), "RecordingSource": API_SOURCE,
            "RecordingTrack": "both"}

"""`TwilioRestStandIn`: a local HTTP server answering the Twilio REST calls the app makes.

Point twilio-python at it with `client.api.base_url = standin.base_url`. Every request is
recorded; hooks let the phone network react to calls being created or updated.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from simulator import contract
from simulator.messaging import (
    NOT_MOBILE_CODE,
    OPTED_OUT_CODE,
    SERVER_ERROR_CODE,
    callback_form,
    status_sequence,
)
from simulator.recordings import RECORDING_STATUSES, CallRecording, Recordings, status_form
from simulator.resources import (
    API_VERSION,
    MAX_QUEUE_SIZE,
    REST_QUEUE_SIZE,
    TERMINAL_CALL_STATUSES,
    CallResource,
    ConferenceResource,
    MessageResource,
    ParticipantResource,
    ResourceStore,
    new_sid,
)

Form = dict[str, list[str]]
CallHook = Callable[[CallResource, Form], None]
FetchHook = Callable[[str], None]
ParticipantCreateHook = Callable[[ConferenceResource, CallResource, Form], None]
ParticipantHook = Callable[[ConferenceResource, ParticipantResource, Form], None]
MessageHook = Callable[[MessageResource], None]

_ACCOUNT = rf"/{API_VERSION}/Accounts/(?P<account>AC[0-9a-zA-Z]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(_ACCOUNT + r"/Calls\.json$"), "call-create"),
    ("GET", re.compile(_ACCOUNT + r"/Calls\.json$"), "call-list"),
    ("POST", re.compile(_ACCOUNT + r"/Calls/(?P<call>[^/]+)\.json$"), "call-update"),
    ("GET", re.compile(_ACCOUNT + r"/Calls/(?P<call>[^/]+)\.json$"), "call-fetch"),
    ("POST", re.compile(_ACCOUNT + r"/Calls/(?P<call>[^/]+)/Recordings\.json$"),
     "call-recording-create"),
    ("POST", re.compile(_ACCOUNT + r"/Calls/(?P<call>[^/]+)/Recordings/(?P<rec>[^/]+)\.json$"),
     "call-recording-update"),
    ("DELETE", re.compile(_ACCOUNT + r"/Recordings/(?P<rec>[^/]+)\.json$"), "recording-delete"),
    ("GET", re.compile(_ACCOUNT + r"/Conferences\.json$"), "conference-list"),
    ("GET", re.compile(_ACCOUNT + r"/Conferences/(?P<conf>[^/]+)\.json$"), "conference-fetch"),
    (
        "POST",
        re.compile(_ACCOUNT + r"/Conferences/(?P<conf>[^/]+)/Participants\.json$"),
        "participant-create",
    ),
    (
        "POST",
        re.compile(_ACCOUNT + r"/Conferences/(?P<conf>[^/]+)/Participants/(?P<call>[^/]+)\.json$"),
        "participant-update",
    ),
    (
        "DELETE",
        re.compile(_ACCOUNT + r"/Conferences/(?P<conf>[^/]+)/Participants/(?P<call>[^/]+)\.json$"),
        "participant-delete",
    ),
    ("POST", re.compile(_ACCOUNT + r"/Messages\.json$"), "message-create"),
    ("POST", re.compile(_ACCOUNT + r"/Queues\.json$"), "queue-create"),
    ("GET", re.compile(_ACCOUNT + r"/Queues\.json$"), "queue-list"),
    ("POST", re.compile(_ACCOUNT + r"/Queues/(?P<queue>QU[0-9a-f]{32})\.json$"), "queue-update"),
    ("GET", re.compile(_ACCOUNT + r"/Queues/(?P<queue>QU[0-9a-f]{32})\.json$"), "queue-fetch"),
]
# Recording media: GET .../Recordings/RE....mp3 (or .wav, or no extension: WAV), served
# only with the account's HTTP basic auth, as for accounts that enforce it
# (twilio.com/docs/voice/api/recording#fetch-a-recording-media-file).
_RECORDING_MEDIA = re.compile(_ACCOUNT + r"/Recordings/(?P<recording>RE[0-9a-f]{32})"
                              r"(?P<ext>\.mp3|\.wav)?$")
# Where Twilio says recordings are (RecordingUrl): its own https host, never the app's.
TWILIO_API_HOST = "https://api.twilio.com"


# Calls Twilio refuses to place: POST /Calls answers HTTP 400 with its error body. Each
# code's page is /docs/api/errors/<code>; the body's shape (code, message, more_info,
# status) is twilio-oai's error schema for the 2010 API. Caller-ID codes are about `From`,
# the others about `To`.
DIAL_REFUSALS = {
    21215: "Account not authorized to call {number}. Perhaps you need to enable some "
           "international permissions: https://www.twilio.com/console/voice/calls/geo-permissions",
    21210: "The source phone number provided, {number}, is not yet verified for your account.",
    21212: "The source {number} is not a valid phone number.",
    21216: "Account not allowed to call {number}",
    21217: "Phone number {number} does not appear to be valid",
    13224: "Twilio does not support calling {number} or the number is invalid",
}
CALLER_ID_REFUSALS = frozenset({21210, 21212})


class RestError(Exception):
    """A REST failure answered in Twilio's error shape."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_json(self) -> dict[str, Any]:
        """Twilio's error body."""
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


@dataclass(frozen=True)
class RecordedRequest:
    """One request the app made to the stand-in, as received."""

    method: str
    path: str
    kind: str
    form: Form
    query: Form
    status: int
    time: float

    def field(self, name: str, default: str | None = None) -> str | None:
        """First value of a form field (or query parameter), or `default`."""
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else default


def _one(form: Form, name: str, default: str | None = None) -> str | None:
    values = form.get(name)
    return values[0] if values else default


def _required(form: Form, name: str, code: int) -> str:
    value = _one(form, name)
    if not value:
        raise RestError(400, code, f"Required parameter '{name}' missing.")
    return value


def _day(value: str | None) -> date | None:
    """A StartTime filter's day: `YYYY-MM-DD`, or the day of an ISO 8601 timestamp."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise RestError(400, 20001, f"Invalid date '{value}'.") from None


def _on_days(start: date, days: dict[str, date | None]) -> bool:
    after, before, on = days[">"], days["<"], days[""]
    return ((after is None or start >= after) and (before is None or start <= before)
            and (on is None or start == on))


def _page(account: str, key: str, query: Form, found: list[Any], page: int,
          size: int) -> dict[str, Any]:
    """One page of a list in the 2010 API's shape (records under `key`, paging URIs)."""
    uri = f"/{API_VERSION}/Accounts/{account}/{key.title()}.json"
    filters = [(k, v) for k, values in query.items() for v in values
               if k not in ("Page", "PageSize", "PageToken")]

    def page_uri(number: int) -> str:
        return uri + "?" + urlencode([*filters, ("PageSize", size), ("Page", number)])

    start = page * size
    records = found[start:start + size]
    more = start + size < len(found)
    return {key: [r.to_json() for r in records], "page": page, "page_size": size,
            "start": start, "end": start + max(0, len(records) - 1),
            "uri": page_uri(page), "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if more else None,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.server.standin._serve(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.server.standin._serve(self, "POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.standin._serve(self, "DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence per-request logging: paths and bodies hold phone numbers."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: TwilioRestStandIn


class TwilioRestStandIn:
    """Twilio's REST API on 127.0.0.1, recording every request; a context manager."""

    def __init__(self, port: int = 0, account_sid: str | None = None,
                 auth_token: str | None = None) -> None:
        """Prepare the server; when `account_sid`/`auth_token` are given, Basic auth is checked."""
        self.store = ResourceStore()
        self.call_recordings = Recordings()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.on_call_create: CallHook | None = None
        self.on_call_update: CallHook | None = None
        # Called with the sid of every call fetch; may raise RestError (a Twilio fault).
        self.on_call_fetch: FetchHook | None = None
        self.on_participant_create: ParticipantCreateHook | None = None
        self.on_participant_update: ParticipantHook | None = None
        self.on_participant_delete: ParticipantHook | None = None
        # Called with the status callbacks of recordings stopped through REST (to post them).
        self.on_recording_end: Callable[[list[tuple[str, dict[str, str]]]], None] | None = None
        # Called with every message created (the phone network sends its status callbacks).
        self.on_message_create: MessageHook | None = None
        # Requests of a kind (e.g. "recording-delete") answered 500 the next N times, as
        # Twilio's own faults are (error 20500, twilio.com/docs/api/errors/20500).
        self.server_errors: dict[str, int] = {}
        # Numbers Twilio will not call (or caller IDs it will not use): number -> error code.
        self.refusals: dict[str, int] = {}
        self._port = port
        self._log: list[RecordedRequest] = []
        self._changed = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def refuse(self, number: str, code: int) -> None:
        """Refuse every call to `number` (or from it, for a caller-ID code) with `code`, one
        of DIAL_REFUSALS, as Twilio does for numbers its account settings will not call."""
        if code not in DIAL_REFUSALS:
            raise ValueError(f"not a refusal code Twilio answers for calls: {code}")
        self.refusals[number] = code

    def _refusal(self, to: str, from_: str) -> RestError | None:
        """The error Twilio answers a call-create with when it will not place the call."""
        for number, code in self.refusals.items():
            side = from_ if code in CALLER_ID_REFUSALS else to
            if number == side:
                return RestError(400, code, DIAL_REFUSALS[code].format(number=number))
        return None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> TwilioRestStandIn:
        """Bind the port and serve in a daemon thread."""
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.standin = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name="twilio-rest-standin", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> TwilioRestStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Where to point `client.api.base_url`, e.g. `http://127.0.0.1:54321`."""
        if self._server is None:
            raise RuntimeError("stand-in is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- request log -------------------------------------------------------------------

    def requests(self, kind: str | None = None) -> list[RecordedRequest]:
        """Recorded requests, oldest first, optionally only one kind (e.g. `call-create`)."""
        with self._changed:
            return [r for r in self._log if kind is None or r.kind == kind]

    def wait_for(
        self, predicate: Callable[[RecordedRequest], bool], timeout: float = 5.0
    ) -> RecordedRequest:
        """Block until a recorded request satisfies `predicate`; return it or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for request in self._log:
                    if predicate(request):
                        return request
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    kinds = [r.kind for r in self._log]
                    raise TimeoutError(f"no matching REST request within {timeout}s; saw {kinds}")
                self._changed.wait(remaining)

    def messages(self) -> list[MessageResource]:
        """SMS messages the app has sent, oldest first."""
        return sorted(self.store.messages.values(), key=lambda m: m.created)

    def calls_created(self) -> list[RecordedRequest]:
        """The app's call-create requests, oldest first."""
        return self.requests("call-create")

    # -- serving -----------------------------------------------------------------------

    def _serve(self, handler: _Handler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        form = parse_qs(raw, keep_blank_values=True)
        kind, status = "unknown", 500
        body: dict[str, Any] = {}
        media = _RECORDING_MEDIA.match(parts.path) if method == "GET" else None
        if media is not None:
            self._serve_recording(handler, media)
            return
        try:
            self._check_auth(handler.headers.get("Authorization"))
            kind, match = self._route(method, parts.path)
            self._server_error(kind)
            status, body = self._dispatch(kind, match, form, query)
        except RestError as error:
            status, body = error.status, error.to_json()
        self._check_contract(method, parts.path, form, query, body)
        self._record(RecordedRequest(method, parts.path, kind, form, query, status, time.time()))
        self._respond(handler, status, body)

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Answer the next `times` requests of `kind` with Twilio's 500 (error 20500)."""
        with self._changed:
            self.server_errors[kind] = self.server_errors.get(kind, 0) + times

    def _server_error(self, kind: str) -> None:
        with self._changed:
            left = self.server_errors.get(kind, 0)
            if left:
                self.server_errors[kind] = left - 1
        if left:
            raise RestError(500, 20500, "Internal Server Error")

    @staticmethod
    def _check_contract(method: str, path: str, form: Form, query: Form,
                        body: dict[str, Any]) -> None:
        """Report what in the request, or in our answer, Twilio does not document."""
        problems = contract.request_problems(method, path, form, query)
        operation = contract.operation_for(method, path)
        if operation is not None and "code" not in body:
            problems += contract.response_problems(operation, body)
        contract.PROBLEMS.add(problems)

    def _serve_recording(self, handler: _Handler, match: re.Match[str]) -> None:
        """A recording's media to a client with the account's basic auth; 401 otherwise."""
        media = self.store.recordings.get(match.group("recording"))
        authorized = self._media_auth(handler.headers.get("Authorization"),
                                      match.group("account"))
        status = 401 if not authorized else 404 if media is None else 200
        self._record(RecordedRequest("GET", handler.path, "recording-media", {}, {}, status,
                                     time.time()))
        if status != 200 or media is None:
            self._respond(handler, status, {"code": 20003 if status == 401 else 20404,
                                            "message": "Authenticate" if status == 401
                                            else "The requested resource was not found",
                                            "status": status})
            return
        kind = "audio/x-wav" if match.group("ext") in (None, ".wav") else "audio/mpeg"
        handler.send_response(200)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(media)))
        handler.end_headers()
        handler.wfile.write(media)

    def _media_auth(self, header: str | None, account: str) -> bool:
        """Basic auth of the account (with its token when the stand-in knows it)."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == account and bool(password) and (
            self.auth_token is None or password == self.auth_token)

    def add_recording(self, account: str, sid: str, media: bytes) -> str:
        """Keep a recording's media; returns its RecordingUrl as Twilio gives it (https,
        Twilio's host, no extension)."""
        self.store.recordings[sid] = media
        return f"{TWILIO_API_HOST}/{API_VERSION}/Accounts/{account}/Recordings/{sid}"

    def _record(self, request: RecordedRequest) -> None:
        with self._changed:
            self._log.append(request)
            self._changed.notify_all()

    @staticmethod
    def _respond(handler: _Handler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode() if status != 204 else b""
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _check_auth(self, header: str | None) -> None:
        if self.account_sid is None or self.auth_token is None:
            return
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if header != f"Basic {expected}":
            raise RestError(401, 20003, "Authenticate")

    @staticmethod
    def _route(method: str, path: str) -> tuple[str, re.Match[str]]:
        for route_method, pattern, kind in _ROUTES:
            match = pattern.match(path)
            if match and route_method == method:
                return kind, match
        raise RestError(404, 20404, f"The requested resource {path} was not found")

    def _dispatch(
        self, kind: str, match: re.Match[str], form: Form, query: Form
    ) -> tuple[int, dict[str, Any]]:
        account = match.group("account")
        if self.account_sid is not None and account != self.account_sid:
            raise RestError(404, 20404, f"The requested resource {match.group(0)} was not found")
        groups = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
        handlers: dict[str, Callable[[dict[str, str], Form, Form], tuple[int, dict[str, Any]]]]
        handlers = {
            "call-create": self._create_call,
            "call-update": self._update_call,
            "call-fetch": self._fetch_call,
            "call-list": self._list_calls,
            "conference-list": self._list_conferences,
            "conference-fetch": self._fetch_conference,
            "participant-create": self._create_participant,
            "participant-update": self._update_participant,
            "participant-delete": self._delete_participant,
            "call-recording-create": self._create_call_recording,
            "call-recording-update": self._update_call_recording,
            "recording-delete": self._delete_recording,
            "message-create": self._create_message,
            "queue-create": self._create_queue,
            "queue-list": self._list_queues,
            "queue-update": self._update_queue,
            "queue-fetch": self._fetch_queue,
        }
        return handlers[kind](groups, form, query)

    # -- resources ---------------------------------------------------------------------

    def _create_call(self, groups: dict[str, str], form: Form, _q: Form) -> tuple[int, dict]:
        to = _required(form, "To", 21201)
        from_ = _required(form, "From", 21213)
        if not (_one(form, "Url") or _one(form, "Twiml") or _one(form, "ApplicationSid")):
            raise RestError(400, 21205, "Url parameter is required.")
        refused = self._refusal(to, from_)
        if refused is not None:
            raise refused
        call = self.store.add_call(
            CallResource(new_sid("CA"), groups["account"], to, from_, "outbound-api")
        )
        if self.on_call_create is not None:
            self.on_call_create(call, form)
        return 201, call.to_json()

    def _known_call(self, sid: str) -> CallResource:
        call = self.store.get_call(sid)
        if call is None:
            raise RestError(
                404, 20404, f"The requested resource /{API_VERSION}/Calls/{sid}.json was not found"
            )
        return call

    def _update_call(self, groups: dict[str, str], form: Form, _q: Form) -> tuple[int, dict]:
        call = self._known_call(groups["call"])
        redirects = _one(form, "Url") or _one(form, "Twiml")
        if redirects and call.status in TERMINAL_CALL_STATUSES:
            raise RestError(400, 21220, "Call is not in-progress. Cannot redirect.")
        status = _one(form, "Status")
        if status is not None and status not in ("completed", "canceled"):
            raise RestError(400, 21218, f"Invalid Status '{status}'.")
        if status is not None and call.status == "queued":
            # A call still waiting in the account's CPS queue never starts: both `canceled`
            # and `completed` hang it up before it is placed, and no status callback follows
            # (docs/voice/api/call-resource: "Update a Call resource", "Calls Per Second").
            self.store.update_call(call.sid, status="canceled")
        if self.on_call_update is not None:
            self.on_call_update(call, form)
        return 200, call.to_json()

    def _fetch_call(self, groups: dict[str, str], _f: Form, _q: Form) -> tuple[int, dict]:
        if self.on_call_fetch is not None:
            self.on_call_fetch(groups["call"])
        return 200, self._known_call(groups["call"]).to_json()

    def _list_calls(self, groups: dict[str, str], _f: Form, query: Form) -> tuple[int, dict]:
        """Calls newest first, filtered by To, From, Status, ParentCallSid and StartTime
        (`StartTime>` on or after, `StartTime<` on or before, `StartTime` on: whole UTC days,
        as Twilio documents; a queued call has no start time yet), in Twilio's page format."""
        wanted = {name: _one(query, param) for name, param in (
            ("to", "To"), ("from_", "From"), ("status", "Status"),
            ("parent_call_sid", "ParentCallSid"))}
        days = {op: _day(_one(query, f"StartTime{op}")) for op in (">", "<", "")}

        def keep(call: CallResource) -> bool:
            if any(v is not None and getattr(call, k) != v for k, v in wanted.items()):
                return False
            if all(d is None for d in days.values()):
                return True
            start = call.start_time.date() if call.start_time is not None else None
            return start is not None and _on_days(start, days)

        found = self.store.list_calls(keep)
        size = max(1, min(1000, int(_one(query, "PageSize") or 50)))
        page = max(0, int(_one(query, "Page") or 0))
        return 200, _page(groups["account"], "calls", query, found, page, size)

    def _list_conferences(self, groups: dict[str, str], _f: Form, query: Form) -> tuple[int, dict]:
        """Conferences filtered by FriendlyName and Status, in the 2010 API's page format
        (records under `conferences`, `next_page_uri` and the rest, no `meta` block: the
        Conference resource page, /docs/voice/api/conference-resource#read-multiple-
        conference-resources, and ListConferenceResponse in Twilio's OpenAPI description)."""
        found = self.store.list_conferences(_one(query, "FriendlyName"), _one(query, "Status"))
        size = max(1, min(1000, int(_one(query, "PageSize") or 50)))
        page = max(0, int(_one(query, "Page") or 0))
        return 200, _page(groups["account"], "conferences", query, found, page, size)

    def _known_conference(self, key: str) -> ConferenceResource:
        conference = self.store.find_conference(key)
        if conference is None:
            raise RestError(404, 20404, f"Conference {key} was not found")
        return conference

    def _fetch_conference(self, groups: dict[str, str], _f: Form, _q: Form) -> tuple[int, dict]:
        return 200, self._known_conference(groups["conf"]).to_json()

    def _create_participant(
        self, groups: dict[str, str], form: Form, _q: Form
    ) -> tuple[int, dict]:
        to = _required(form, "To", 21201)
        from_ = _required(form, "From", 21213)
        key, account = groups["conf"], groups["account"]
        if key.startswith("CF") and self.store.find_conference(key) is None:
            raise RestError(404, 20404, f"Conference {key} was not found")
        conference = self.store.find_conference(key)
        if conference is None or conference.status == "completed":
            conference = self.store.ensure_conference(account, key)
        flags = {k: v[0] for k, v in form.items() if v}
        self._check_coaching(conference, flags)
        call = self.store.add_call(CallResource(new_sid("CA"), account, to, from_, "outbound-api"))
        self.store.put_participant(ParticipantResource(call.sid, conference.sid, account, flags))
        if self.on_participant_create is not None:
            self.on_participant_create(conference, call, form)
        participant = self.store.get_participant(conference.sid, call.sid)
        assert participant is not None
        return 201, participant.to_json()

    def _check_coaching(self, conference: ConferenceResource, flags: dict[str, str]) -> None:
        """Refuse coaching without a call to coach, or of a call not in this conference: "If
        `true`, `call_sid_to_coach` must be defined", and the coached call is a participant
        of the conference (twilio.com/docs/voice/api/conference-participant-resource,
        `coaching`, `call_sid_to_coach`). The page names no error code for it; the stand-in
        answers 400 with 20001, as for its other refused parameters."""
        coach = flags.get("CallSidToCoach")
        coaching = (flags.get("Coaching") or ("true" if coach else "")).lower() == "true"
        if coaching and not coach:
            raise RestError(400, 20001, "CallSidToCoach is required when Coaching is true.")
        coached = self.store.get_participant(conference.sid, coach) if coaching and coach else None
        if coaching and (coached is None or coached.status == "completed"):
            raise RestError(400, 20001, f"CallSidToCoach {coach} is not a participant of "
                                        f"conference {conference.sid}.")

    def _known_participant(
        self, groups: dict[str, str]
    ) -> tuple[ConferenceResource, ParticipantResource]:
        conference = self._known_conference(groups["conf"])
        participant = self.store.get_participant(conference.sid, groups["call"])
        if participant is None or participant.status == "completed":
            raise RestError(404, 20404, f"Participant {groups['call']} was not found")
        return conference, participant

    def _update_participant(
        self, groups: dict[str, str], form: Form, _q: Form
    ) -> tuple[int, dict]:
        conference, participant = self._known_participant(groups)
        flags = {**participant.flags, **{k: v[0] for k, v in form.items() if v}}
        self._check_coaching(conference, flags)
        participant.flags.update(flags)
        if self.on_participant_update is not None:
            self.on_participant_update(conference, participant, form)
        return 200, participant.to_json()

    def _delete_participant(
        self, groups: dict[str, str], form: Form, _q: Form
    ) -> tuple[int, dict]:
        conference, participant = self._known_participant(groups)
        if self.on_participant_delete is not None:
            self.on_participant_delete(conference, participant, form)
        return 204, {}

    # Call recordings: see simulator/recordings.py for the pages each behaviour follows.

    def _create_call_recording(self, groups: dict[str, str], form: Form,
                               _q: Form) -> tuple[int, dict]:
        call = self._known_call(groups["call"])
        if call.status != "in-progress":
            raise RestError(400, 21220, "Call is not in-progress. Cannot start a recording.")
        recording = self.call_recordings.start(
            groups["account"], call.sid, _one(form, "RecordingChannels") or "mono",
            _one(form, "RecordingStatusCallback"), form.get("RecordingStatusCallbackEvent", []))
        return 201, recording.to_json()

    def _update_call_recording(self, groups: dict[str, str], form: Form,
                               _q: Form) -> tuple[int, dict]:
        recording = self.call_recordings.of_call(groups["call"], groups["rec"])
        if recording is None:
            raise RestError(404, 20404, f"Recording {groups['rec']} was not found")
        status = _required(form, "Status", 20001)
        if status not in RECORDING_STATUSES:
            raise RestError(400, 20001, f"Invalid Status '{status}'.")
        if not self.call_recordings.set_status(recording, status):
            raise RestError(400, 21220, "The recording is not in progress.")
        body = recording.to_json()
        if status == "stopped":  # over at once: its status callback follows
            callbacks = self.end_recordings(sid=recording.sid)
            if self.on_recording_end is not None:
                self.on_recording_end(callbacks)
        return 200, body

    def _delete_recording(self, groups: dict[str, str], _f: Form, _q: Form) -> tuple[int, dict]:
        sid = groups["rec"]
        if not self.call_recordings.delete(sid) and self.store.recordings.pop(sid, None) is None:
            raise RestError(404, 20404, f"The requested resource Recording {sid} was not found")
        self.store.recordings.pop(sid, None)
        return 204, {}

    def end_recordings(self, call_sid: str | None = None,
                       sid: str | None = None) -> list[tuple[str, dict[str, str]]]:
        """Complete the live recordings of an ended call (or one stopped): keep their media
        and return the status callbacks Twilio posts for them (URL, form), in order."""
        requests = []
        for recording in self.call_recordings.finish(call_sid, sid):
            url = self.add_recording(recording.account_sid, recording.sid,
                                     b"ID3" + recording.sid.encode())
            if recording.callback and "completed" in recording.events:
                requests.append((recording.callback, status_form(recording, url)))
        return requests

    def recordings_of(self, call_sid: str) -> list[CallRecording]:
        """The call's recordings started through REST (not deleted), oldest first."""
        return sorted((r for r in self.call_recordings.by_sid.values() if r.call_sid == call_sid),
                      key=lambda r: r.created)

    # Queues (twilio.com/docs/voice/api/queue-resource; twilio-oai CreateQueue, ListQueue,
    # FetchQueue, UpdateQueue): FriendlyName up to 64 characters, MaxSize at most 5000.

    @staticmethod
    def _max_size(form: Form, default: int | None) -> int | None:
        """A queue's MaxSize from the form (`default` when absent); Twilio refuses one over
        its maximum, 5000 (twilio.com/docs/api/errors/14207), or not a positive integer."""
        raw = _one(form, "MaxSize")
        if raw is None:
            return default
        try:
            size = int(raw)
        except ValueError:
            raise RestError(400, 20001, f"Invalid MaxSize '{raw}'.") from None
        if not 1 <= size <= MAX_QUEUE_SIZE:
            raise RestError(400, 20001,
                            f"MaxSize must be between 1 and {MAX_QUEUE_SIZE}, not {size}.")
        return size

    def _create_queue(self, groups: dict[str, str], form: Form, _q: Form) -> tuple[int, dict]:
        name = _required(form, "FriendlyName", 20001)
        if len(name) > 64:
            raise RestError(400, 20001, "FriendlyName must be 64 characters or less.")
        size = self._max_size(form, REST_QUEUE_SIZE)
        assert size is not None
        # A second create with a name in use is not documented; the app lists first.
        queue = self.store.ensure_queue(groups["account"], name, size)
        queue.max_size = size
        return 201, queue.to_json()

    def _list_queues(self, groups: dict[str, str], _f: Form, query: Form) -> tuple[int, dict]:
        size = max(1, min(1000, int(_one(query, "PageSize") or 50)))
        page = max(0, int(_one(query, "Page") or 0))
        return 200, _page(groups["account"], "queues", query, self.store.list_queues(), page,
                          size)

    def _known_queue(self, sid: str) -> Any:
        queue = self.store.queue_by_sid(sid)
        if queue is None:
            raise RestError(404, 20404, f"The requested resource Queue {sid} was not found")
        return queue

    def _fetch_queue(self, groups: dict[str, str], _f: Form, _q: Form) -> tuple[int, dict]:
        return 200, self._known_queue(groups["queue"]).to_json()

    def _update_queue(self, groups: dict[str, str], form: Form, _q: Form) -> tuple[int, dict]:
        queue = self._known_queue(groups["queue"])
        size = self._max_size(form, None)
        if size is not None:
            queue.max_size = size
        name = _one(form, "FriendlyName")
        if name:
            queue.friendly_name = name
        return 200, queue.to_json()

    def _create_message(self, groups: dict[str, str], form: Form, _q: Form) -> tuple[int, dict]:
        to = _required(form, "To", 21604)
        from_ = _one(form, "From") or _one(form, "MessagingServiceSid")
        if not from_:
            raise RestError(400, 21603, "A 'From' phone number is required.")
        body = _one(form, "Body")
        if not body and not _one(form, "MediaUrl"):
            raise RestError(400, 21602, "Message body is required.")
        messaging = self.store.messaging
        if messaging.take_server_error():
            raise RestError(500, SERVER_ERROR_CODE, "Internal Server Error")
        if messaging.is_opted_out(to, from_):
            # https://help.twilio.com/hc/en-us/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-
            raise RestError(400, OPTED_OUT_CODE, "Attempt to send to unsubscribed recipient")
        if to in messaging.fixed_lines:
            # https://www.twilio.com/docs/api/errors/21614
            raise RestError(400, NOT_MOBILE_CODE, f"'To' number {to} is not a valid mobile number")
        message = MessageResource(new_sid("SM"), groups["account"], to, from_, body or "",
                                  status_callback=_one(form, "StatusCallback"))
        self.store.add_message(message)
        if self.on_message_create is not None:
            self.on_message_create(message)
        return 201, message.to_json()

    def message_callbacks(self, sid: str) -> list[tuple[str, dict[str, str]]]:
        """The status callback requests Twilio makes for a message after creating it, in
        order (URL, form), each moving the stored message on; none without a StatusCallback.
        https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
        """
        message = self.store.messages[sid]
        fate = self.store.messaging.fate(message.to)
        requests = []
        for status in status_sequence(fate):
            code = fate.error_code if status == fate.status else None
            self.store.update_message(sid, status, code)
            if message.status_callback:
                requests.append((message.status_callback, callback_form(
                    sid, message.account_sid, message.from_, message.to, status, code)))
        return requests

"""Phones in the browser for the stand-in's phone network: what Twilio's Voice JavaScript
SDK does for a page, done over plain HTTP so a console can take calls with no Twilio
account (`make run`), and tests can drive a page's phone.

A page registers with the same access token Twilio's SDK would use (a JWT signed with the
API key's secret, its VoiceGrant allowing incoming calls for an identity); it is then
`client:<identity>` on the network. Calls to it ring the page (an "incoming" event) until
the page accepts or rejects them, the caller gives up or the dial's timeout passes. The
events follow the SDK's documented ones (twilio.github.io/twilio-voice.js
enums/Device.EventName.html: registered, incoming, error, tokenWillExpire; Call events
accept, disconnect, cancel, reject: twilio.com/docs/voice/sdks/javascript/twiliocall).

- A rejected call ends `busy` for the caller side, as a <Reject reason="busy"> does
  (twilio.com/docs/voice/twiml/reject); one not answered rings until the dial's timeout
  (`no-answer`).
- Mute is the page's own (the SDK's call.mute() stops sending audio; nothing reaches
  Twilio): the stand-in only writes it in the call's transcript.
- Keys (call.sendDigits) are tones on the call: collected only by a running <Gather>,
  as any keypad's (twilio.com/docs/voice/twiml/gather), otherwise heard and recorded.
- tokenWillExpire comes 10 s before the token's expiry (the SDK's default,
  Device.tokenWillExpireEvent.html); a page that does not renew is unregistered at expiry.

Pages poll `GET /phone/events` (held up to 20 s while nothing happens). Every answer
carries CORS headers for the app's own origin only.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from simulator.call import VirtualCall
from simulator.endpoints import Answer
from simulator.engine import PhoneNetwork

log = logging.getLogger(__name__)

POLL_SECONDS = 20.0
TOKEN_WARNING_SECONDS = 10.0
EVENTS_KEPT = 200


class TokenRefused(ValueError):
    """The access token is not one Twilio would accept for incoming calls."""


def identity_of(token: str, secret: str) -> tuple[str, float]:
    """The client identity and expiry of a Voice access token (TokenRefused otherwise)."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError as exc:
        raise TokenRefused(f"access token refused: {exc}") from exc
    grants = claims.get("grants") or {}
    identity = grants.get("identity")
    if not identity or not (grants.get("voice") or {}).get("incoming", {}).get("allow"):
        raise TokenRefused("access token has no identity allowed incoming calls")
    return str(identity), float(claims["exp"])


@dataclass
class Device:
    """One registered page: its identity, token expiry and the events it has not read."""

    id: str
    identity: str
    expires: float
    events: list[dict[str, Any]] = field(default_factory=list)
    warned: bool = False


@dataclass
class Ringing:
    """A call ringing (or answered on) a page, and what the page decided."""

    call: VirtualCall
    identity: str
    decision: str = ""  # "accept" or "reject"


class BrowserPhones:
    """The pages registered as clients of the network, and the calls they are on."""

    def __init__(self, network: PhoneNetwork, api_key_secret: str, origin: str) -> None:
        """Serve pages of `origin` whose tokens are signed with `api_key_secret`."""
        self.network, self.secret, self.origin = network, api_key_secret, origin
        self.cond = threading.Condition()
        self.devices: dict[str, Device] = {}
        self.calls: dict[str, Ringing] = {}
        self._numbers = itertools.count(1)

    # -- the page's side -------------------------------------------------------------

    def register(self, token: str) -> Device:
        """A page registers with its access token; it can now be rung as client:<identity>."""
        identity, expires = identity_of(token, self.secret)
        device = Device(secrets.token_hex(8), identity, expires)
        with self.cond:
            self.devices[device.id] = device
            self._emit(device, "registered", {"identity": identity})
        self.network.register_endpoint(f"client:{identity}", self._answer_rule(identity))
        return device

    def update_token(self, device_id: str, token: str) -> None:
        """device.updateToken: the same identity, a later expiry."""
        identity, expires = identity_of(token, self.secret)
        with self.cond:
            device = self._device(device_id)
            if identity != device.identity:
                raise TokenRefused("a renewed token must carry the same identity")
            device.expires, device.warned = expires, False

    def events(self, device_id: str, after: int,
               wait: float = POLL_SECONDS) -> list[dict[str, Any]]:
        """The device's events numbered past `after`, waiting up to `wait` s for one."""
        deadline = time.monotonic() + wait
        with self.cond:
            while True:
                device = self._device(device_id)
                self._check_token(device)
                found = [e for e in device.events if e["n"] > after]
                if found or time.monotonic() >= deadline:
                    return found
                self.cond.wait(min(1.0, deadline - time.monotonic()))

    def act(self, device_id: str, call_sid: str, action: str, value: str = "") -> None:
        """The page acts on a call: accept, reject, hangup, digits, mute."""
        with self.cond:
            device = self._device(device_id)
            ringing = self.calls.get(call_sid)
            if ringing is None or ringing.identity != device.identity:
                raise KeyError(call_sid)
            if action in ("accept", "reject") and not ringing.decision:
                ringing.decision = action
                self.cond.notify_all()
        call = ringing.call
        if action == "hangup":
            call.hangup()
        elif action == "digits":
            call.log("dtmf", value)
            call.press(value)
        elif action == "mute":
            call.log("mute", value)
        with self.network.cond:
            self.network.cond.notify_all()

    # -- the test caller page (demo): a phone number in a page -------------------------

    def caller(self, number: str) -> Device:
        """A caller's phone in a page: rung at `number` (a callback rings the page), and
        able to dial in. Demo only: it needs no token, as a customer's phone needs none."""
        device = Device(secrets.token_hex(8), number, float("inf"))
        with self.cond:
            self.devices[device.id] = device
            self._emit(device, "registered", {"identity": number})
        self.network.register_endpoint(number, self._answer_rule(number))
        return device

    def dial(self, device_id: str, to: str) -> str:
        """The page's caller dials `to` (the contact center's number); returns the CallSid."""
        with self.cond:
            device = self._device(device_id)
        call = self.network.place_call(device.identity, to)
        ringing = Ringing(call, device.identity, decision="accept")
        with self.cond:
            self.calls[call.sid] = ringing
        threading.Thread(target=self._relay, args=(ringing,), daemon=True).start()
        return call.sid

    def _relay(self, ringing: Ringing) -> None:
        """Tell the page what its call hears (each <Say>'s text), until it ends."""
        told = 0
        call = ringing.call
        while True:
            with self.network.cond:
                events = [e for _, e in call.transcript[told:]]
                told += len(events)
                ended = call.ended
                if not events and not ended:
                    self.network.cond.wait(0.2)
            for event in events:
                if event[0] in ("say", "gather", "enqueue", "dial-conference") and len(event) > 1:
                    self._tell(ringing.identity, "heard", call.sid, verb=event[0],
                               text=event[1])
            if ended and not events:
                break
        self._tell(ringing.identity, "disconnect", call.sid)

    # -- the network's side ----------------------------------------------------------

    def _answer_rule(self, identity: str) -> Any:
        phones = self

        class Person:
            """The agent at the page: answers as they click."""

            def ring(self, call: VirtualCall, timeout: float) -> Answer:
                return phones._ring(identity, call, timeout)

        return Person()

    def _ring(self, identity: str, call: VirtualCall, timeout: float) -> Answer:
        ringing = Ringing(call, identity)
        with self.cond:
            self.calls[call.sid] = ringing
            devices = [d for d in self.devices.values() if d.identity == identity]
            for device in devices:
                self._emit(device, "incoming", {"call": call.sid, "from": call.from_,
                                                "to": call.to})
        if not devices:
            return Answer.no_answer()
        try:
            decided = call.wait(timeout, until=lambda: bool(ringing.decision),
                                allow_redirect=False)
        except BaseException:
            self._tell(identity, "cancel", call.sid)  # the caller gave up, or it was withdrawn
            raise
        if not decided:  # it has rung the whole Timeout already: no-answer now, not after a
            # second Timeout (Call resource, Timeout: "the number of seconds that we should
            # allow the phone to ring before assuming there is no answer",
            # twilio.com/docs/voice/api/call-resource#create-a-call-resource)
            self._tell(identity, "cancel", call.sid)
            return Answer("no-answer", 0.0)
        if ringing.decision == "reject":
            self._tell(identity, "reject", call.sid)
            return Answer.busy(after=0)
        self._tell(identity, "accept", call.sid)
        threading.Thread(target=self._relay, args=(ringing,), daemon=True).start()
        return Answer.human(after=0)

    def _tell(self, identity: str, event: str, call_sid: str, **data: str) -> None:
        with self.cond:
            for device in [d for d in self.devices.values() if d.identity == identity]:
                self._emit(device, event, {"call": call_sid, **data})

    def _emit(self, device: Device, kind: str, data: dict[str, Any]) -> None:
        device.events.append({"n": next(self._numbers), "type": kind, **data})
        del device.events[:-EVENTS_KEPT]
        self.cond.notify_all()

    def _device(self, device_id: str) -> Device:
        device = self.devices.get(device_id)
        if device is None:
            raise KeyError(device_id)
        return device

    def _check_token(self, device: Device) -> None:
        left = device.expires - time.time()
        if left <= 0:
            self._emit(device, "error", {"code": 20104, "message": "Access Token expired"})
            del self.devices[device.id]
        elif left <= TOKEN_WARNING_SECONDS and not device.warned:
            device.warned = True
            self._emit(device, "tokenWillExpire", {})


class _Handler(BaseHTTPRequestHandler):
    phones: BrowserPhones

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Quiet: the network's own log says what happened."""

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", self.phones.origin)
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Access-Control-Allow-Methods", "GET, POST")
        self.send_header("Vary", "Origin")

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_OPTIONS(self) -> None:  # noqa: N802 - http.server's naming
        """CORS preflight."""
        self.send_response(204)
        self._cors()
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        """GET /phone/events?device=ID&after=N."""
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path != "/phone/events":
            self._reply(404, {"message": "not found"})
            return
        try:
            events = self.phones.events(query.get("device", [""])[0],
                                        int(query.get("after", ["0"])[0] or 0))
        except (KeyError, ValueError):
            self._reply(404, {"message": "unknown device: register again"})
            return
        self._reply(200, {"events": events})

    def do_POST(self) -> None:  # noqa: N802
        """POST /phone/register {token}, /phone/token {device, token},
        /phone/calls/<sid>/<action> {device, value}; the caller page's /phone/caller
        {number} and /phone/dial {device, to}."""
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            self._reply(200, self._route(urlsplit(self.path).path.split("/")[2:], body))
        except TokenRefused as exc:
            self._reply(401, {"code": 20101, "message": str(exc)})
        except (KeyError, ValueError, IndexError):
            self._reply(404, {"message": "unknown device or call"})

    def _route(self, parts: list[str], body: dict[str, Any]) -> dict[str, Any]:
        if parts == ["register"]:
            device = self.phones.register(str(body.get("token", "")))
            return {"device": device.id, "identity": device.identity}
        if parts == ["caller"]:
            device = self.phones.caller(str(body["number"]))
            return {"device": device.id, "identity": device.identity}
        if parts == ["dial"]:
            return {"call": self.phones.dial(str(body["device"]), str(body["to"]))}
        if parts == ["token"]:
            self.phones.update_token(str(body["device"]), str(body.get("token", "")))
            return {"ok": True}
        if len(parts) == 3 and parts[0] == "calls":
            self.phones.act(str(body["device"]), parts[1], parts[2], str(body.get("value", "")))
            return {"ok": True}
        raise KeyError("/".join(parts))


class BrowserPhoneServer:
    """The HTTP face of BrowserPhones, on 127.0.0.1 (port chosen by the OS unless given)."""

    def __init__(self, phones: BrowserPhones, port: int = 0) -> None:
        """Bind now; serve once started."""
        handler = type("Handler", (_Handler,), {"phones": phones})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="browser-phones")

    @property
    def base_url(self) -> str:
        """Where pages reach the phones, e.g. http://127.0.0.1:53123."""
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> BrowserPhoneServer:
        """Serve in a thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

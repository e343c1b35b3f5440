"""Requests from the simulated Twilio to the app: resolved, signed and sent as Twilio sends them."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from twilio.request_validator import RequestValidator

from simulator.twiml import Document, parse_twiml

# Twilio tries for 10 s to open a TCP connection (two 5 s attempts) and waits 15 s in all for
# the HTTP answer; past either it fails the request with error 11205 and requests the
# number's Fallback URL if it has one (twilio.com/docs/api/errors/11205).
CONNECT_TIMEOUT = 5.0
REQUEST_TIMEOUT = 15.0
# Twilio's error codes for a webhook that fails: no answer in time or no connection (11205),
# an HTTP error status (11200, twilio.com/docs/api/errors/11200), a document that is not
# TwiML (12100, twilio.com/docs/api/errors/12100).
HTTP_CONNECTION_FAILURE = "11205"
HTTP_RETRIEVAL_FAILURE = "11200"
DOCUMENT_PARSE_FAILURE = "12100"


class WebhookError(Exception):
    """The app answered a webhook with an HTTP error, no answer, or unusable TwiML."""

    def __init__(self, url: str, detail: str, status: int | None = None,
                 code: str = HTTP_RETRIEVAL_FAILURE) -> None:
        super().__init__(f"{detail} ({_path(url)})")
        self.url = url
        self.detail = detail
        self.status = status
        self.code = code


def _path(url: str) -> str:
    return urlsplit(url).path or url


@dataclass(frozen=True)
class WebhookResponse:
    """What the app answered: status and body."""

    status: int
    body: str


class AppClient:
    """Signs and sends webhook requests to the app at `base_url`."""

    def __init__(self, base_url: str, auth_token: str,
                 timeout: float = REQUEST_TIMEOUT) -> None:
        """Prepare a client for the app's base URL and the account's auth token; `timeout`:
        how long an answer is waited for (Twilio's 15 s; shorter only to test it quickly)."""
        self.base_url = base_url.rstrip("/") + "/"
        self.validator = RequestValidator(auth_token)
        self.timeout = (min(CONNECT_TIMEOUT, timeout), timeout)

    def resolve(self, url: str, relative_to: str | None = None) -> str:
        """Absolute URL for `url`, resolved against a document URL or the app's base URL."""
        return urljoin(relative_to or self.base_url, url)

    def send(self, url: str, params: dict[str, str], method: str = "POST") -> WebhookResponse:
        """Send a signed request; raise WebhookError on a transport failure or HTTP error."""
        method = (method or "POST").upper()
        if method == "GET":
            sep = "&" if urlsplit(url).query else "?"
            url = url + sep + urlencode(params) if params else url
            params_to_sign: dict[str, str] = {}
        else:
            params_to_sign = params
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, params_to_sign),
                   "User-Agent": "TwilioProxy/1.1 (holdless-simulator)"}
        try:
            if method == "GET":
                reply = requests.get(url, headers=headers, timeout=self.timeout)
            else:
                reply = requests.post(url, data=params, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            raise WebhookError(url, f"request failed: {type(error).__name__}",
                               code=HTTP_CONNECTION_FAILURE) from error
        with reply:
            if reply.status_code >= 400:
                raise WebhookError(url, f"HTTP {reply.status_code}", reply.status_code)
            return WebhookResponse(reply.status_code, reply.text)

    def fetch_twiml(self, url: str, params: dict[str, str], method: str = "POST") -> Document:
        """Send a signed request and parse the answer as TwiML (error 12100 if it is not)."""
        reply = self.send(url, params, method)
        try:
            return parse_twiml(reply.body, url)
        except ValueError as error:
            raise WebhookError(url, f"invalid TwiML: {error}", reply.status,
                               code=DOCUMENT_PARSE_FAILURE) from error

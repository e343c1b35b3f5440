"""Messaging as Twilio does it on a long code: opt-out keywords, numbers that cannot take
texts, and the status callbacks of an outbound message.

Opt-out keywords (STOP, STOPALL, UNSUBSCRIBE, END, QUIT, REVOKE, OPTOUT, CANCEL), opt-in
keywords (START, UNSTOP, YES) and help keywords (HELP, INFO): Twilio answers them itself,
only when the message is that single word, blocks the sender-recipient pair on opt-out
(later messages: REST 400, error 21610) and still passes the message on to the number's
messaging webhook.
https://help.twilio.com/hc/en-us/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-
https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out (the list of keywords)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE",
                              "OPTOUT", "CANCEL"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

# Twilio's standard replies to the keywords (same page).
OPT_OUT_REPLY = ("You have successfully been unsubscribed. You will not receive any more "
                 "messages from this number. Reply START to resubscribe.")
OPT_IN_REPLY = ("You have successfully been re-subscribed to messages from this number. "
                "Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.")
HELP_REPLY = "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
HELP_AFTER_OPT_OUT_PAGE = ("https://help.twilio.com/hc/en-us/articles/360058144374-"
                           "Opt-out-keyword-handling-SMS-STOP-Filtering-for-Toll-Free-SMS")

# Error 21610: https://www.twilio.com/docs/api/errors/21610
OPTED_OUT_CODE = 21610
# Error 21614, 'To' number is not a valid mobile number (a landline):
# https://www.twilio.com/docs/api/errors/21614
NOT_MOBILE_CODE = 21614
SERVER_ERROR_CODE = 20500
# Final statuses of an outbound message and their error codes (30003 unreachable
# destination handset, 30005 unknown destination handset, 30008 unknown error):
# https://www.twilio.com/docs/messaging/api/message-resource#message-status-values
DELIVERED, UNDELIVERED, FAILED = "delivered", "undelivered", "failed"


def keyword(body: str) -> str | None:
    """The reserved keyword a message is, if it is exactly one (case and surrounding
    spaces ignored; "STOP PLEASE" is not one, as the page says)."""
    word = body.strip().upper()
    if word in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | HELP_KEYWORDS:
        return word
    return None


@dataclass(frozen=True)
class Fate:
    """How a message to one number ends: its final status and Twilio's error code."""

    status: str = DELIVERED
    error_code: int | None = None


@dataclass
class Messaging:
    """The account's messaging state: opted-out pairs, fixed lines, each number's fate,
    and Twilio's own keyword replies."""

    opted_out: set[tuple[str, str]] = field(default_factory=set)
    fixed_lines: set[str] = field(default_factory=set)
    fates: dict[str, Fate] = field(default_factory=dict)
    auto_replies: list[tuple[str, str, str]] = field(default_factory=list)
    # How many of the next creates Twilio answers 500, error 20500 (an internal error;
    # nothing was sent): https://www.twilio.com/docs/api/errors/20500
    server_errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, from_: str, to: str, body: str) -> str | None:
        """An inbound message from `from_` to our number `to`: apply its keyword, if any
        (recording Twilio's own reply); returns the keyword."""
        word = keyword(body)
        if word is None:
            return None
        with self._lock:
            pair = (from_, to)
            if word in OPT_OUT_KEYWORDS:
                self.opted_out.add(pair)
                reply = OPT_OUT_REPLY
            elif word in OPT_IN_KEYWORDS:
                self.opted_out.discard(pair)
                reply = OPT_IN_REPLY
            else:
                # No help reply to an opted-out number (HELP_AFTER_OPT_OUT_PAGE).
                reply = "" if pair in self.opted_out else HELP_REPLY
            if reply:
                self.auto_replies.append((to, from_, reply))
        return word

    def is_opted_out(self, to: str, from_: str) -> bool:
        """Whether `to` has opted out of messages from our number `from_`."""
        with self._lock:
            return (to, from_) in self.opted_out

    def take_server_error(self) -> bool:
        """Whether this create is answered with a server error (one fewer to come)."""
        with self._lock:
            if self.server_errors <= 0:
                return False
            self.server_errors -= 1
            return True

    def fate(self, to: str) -> Fate:
        """How a message to `to` will end (delivered unless configured otherwise)."""
        with self._lock:
            return self.fates.get(to, Fate())


def status_sequence(fate: Fate) -> list[str]:
    """The statuses Twilio reports by status callback after `queued` (never sent for the
    initial status): sent then the final one, or failed at once.
    https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
    """
    if fate.status == FAILED:
        return [FAILED]
    return ["sent", fate.status]


def callback_form(message_sid: str, account_sid: str, from_: str, to: str, status: str,
                  error_code: int | None) -> dict[str, str]:
    """The parameters of one message status callback request (ErrorCode only on failure).
    https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
    """
    form = {"MessageSid": message_sid, "SmsSid": message_sid, "AccountSid": account_sid,
            "From": from_, "To": to, "MessageStatus": status, "SmsStatus": status,
            "ApiVersion": "2010-04-01"}
    if status in (FAILED, UNDELIVERED) and error_code is not None:
        form["ErrorCode"] = str(error_code)
    return form

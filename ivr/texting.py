"""Whether a customer can be texted, and the app's record of opt-outs and delivery.

On a long code Twilio itself answers the opt-out keywords (STOP, STOPALL, UNSUBSCRIBE,
END, QUIT, REVOKE, OPTOUT, CANCEL), refuses every later message to that number with error
21610 until the customer sends START, UNSTOP or YES, and passes the keyword on to the
messaging webhook, which records it here. Only a message that is the single word counts.
https://help.twilio.com/hc/en-us/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-
https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from holdless.speech import ENGLISH, LANGUAGES, N_, Speech
from models.texts import FINAL_STATUSES, SENDING, TextMessage, TextOptOut

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE",
                              "OPTOUT", "CANCEL"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
# Twilio answers these itself too (its help reply); the app adds nothing.
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
# The word our texts ask for to cancel a callback. Not CANCEL: Twilio reserves it as an
# opt-out keyword, so a customer replying CANCEL would be unsubscribed from every text
# instead. NOCALL is in none of Twilio's keyword lists (pages above).
CANCEL_WORD = "NOCALL"
# Every language's cancel word (holdless/speech.py LANGUAGES): each is recognised whatever
# the language of the texts the number got; none is one of Twilio's keywords above.
CANCEL_WORDS = frozenset(lang.cancel_word for lang in LANGUAGES.values())

# Where an opt-out or opt-in came from: the customer's keyword, or Twilio's 21610.
SOURCE_KEYWORD, SOURCE_TWILIO_REFUSAL = "keyword", "21610"


def cancel_word(sp: Speech = ENGLISH) -> str:
    """The word a customer texts in `sp`'s language to cancel their callback."""
    return sp.language.cancel_word


def keyword(body: str) -> str:
    """The message as one upper-case word, trimmed of spaces and end punctuation ("" for
    an empty message)."""
    return body.strip().strip(".!").strip().upper()


def record_opt(s: Session, number: str, opted_out: bool, source: str, now: datetime) -> None:
    """Record that `number` opted out of texts (or back in)."""
    row = s.get(TextOptOut, number)
    if row is None:
        s.add(TextOptOut(number=number, opted_out=opted_out, source=source, updated_at=now))
        return
    row.opted_out, row.source, row.updated_at = opted_out, source, now


def record_opt_job(rt: Runtime, number: str, opted_out: bool, received_at: str) -> str:
    """Job: an opt-out or opt-in keyword that came while the database was unreachable,
    recorded now as of when it came, unless a later word was recorded meanwhile."""
    received = datetime.fromisoformat(received_at)
    with rt.db.session() as s:
        row = s.get(TextOptOut, number)
        if row is not None and row.updated_at > received:
            return "a later word was recorded"
        record_opt(s, number, opted_out, SOURCE_KEYWORD, received)
    return "recorded"


def is_opted_out(s: Session, number: str) -> bool:
    """Whether `number` has opted out of texts (and not back in)."""
    row = s.get(TextOptOut, number)
    return row is not None and row.opted_out


def is_fixed_line(number: str) -> bool:
    """Whether `number` is a fixed line, which cannot receive texts (Twilio refuses them
    with 21614: https://www.twilio.com/docs/api/errors/21614)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE


def can_text(s: Session, number: str) -> bool:
    """Whether a text to `number` can be sent: not opted out, not a fixed line."""
    return not is_fixed_line(number) and not is_opted_out(s, number)


TEXT_PROMISE = N_("We will also send it to you by text message.")
NO_TEXT_PROMISE = N_("We cannot send text messages to this number, so please write your "
                     "reference down now.")


def reference_promise(s: Session, number: str) -> str:
    """What the caller is told about the text with their reference (a msgid): that it
    comes, or, for a number that opted out or is a fixed line, that it cannot (never a
    promise we break)."""
    return TEXT_PROMISE if can_text(s, number) else NO_TEXT_PROMISE


def record_status(s: Session, sid: str, status: str, error_code: int | None,
                  now: datetime, to: str = "") -> TextMessage | None:
    """Record Twilio's status of a text (None when the sid is not ours). Callbacks may
    arrive out of order: a final status is never replaced by an earlier one. A callback
    that comes before the send job stored the sid finds its text by number (`to`)."""
    text = s.scalar(select(TextMessage).where(TextMessage.sid == sid))
    if text is None and to:
        text = s.scalar(select(TextMessage).where(
            TextMessage.number == to, TextMessage.sid.is_(None),
            TextMessage.status == SENDING).order_by(TextMessage.id.desc()).limit(1))
        if text is not None:
            text.sid = sid
    if text is None:
        return None
    if text.status in FINAL_STATUSES and status not in FINAL_STATUSES:
        return text
    text.status, text.updated_at = status, now
    if error_code is not None:
        text.error_code = error_code
    return text


def record_status_job(rt: Runtime, sid: str, status: str, error_code: int | None,
                      to: str) -> str:
    """Job: a text's status reported while the database was unreachable, recorded now
    (`record_status`; retried while the database is still away)."""
    with rt.db.session() as s:
        found = record_status(s, sid, status, error_code, rt.clock.now(), to)
    return "recorded" if found is not None else "not one of our texts"


def failures(s: Session, statuses: tuple[str, ...], limit: int) -> list[TextMessage]:
    """The latest texts in `statuses`, newest first."""
    return list(s.scalars(select(TextMessage).where(TextMessage.status.in_(statuses))
                          .order_by(TextMessage.updated_at.desc(), TextMessage.id.desc())
                          .limit(limit)))


def counts(s: Session) -> dict[str, int]:
    """How many texts are in each status."""
    rows = s.execute(select(TextMessage.status, func.count()).group_by(TextMessage.status))
    return {status: int(n) for status, n in rows}

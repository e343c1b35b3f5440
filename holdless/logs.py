"""Logs never hold a full phone number: every log record, from any library, is redacted
as it is created (digit runs as long as phone numbers keep only their last four digits).

Holdless's own code logs `ivr.numbers.mask(...)` already; this is the safety net for what
it does not control: SQLAlchemy's statement and row logs at DEBUG, RQ's job descriptions,
tracebacks quoting a value. Rows SQLAlchemy logs at DEBUG are left out altogether: they can
hold any column, notes and names among them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# 7 to 15 digits (E.164 holds at most 15), optionally after "+", not inside a longer run.
PHONE_LIKE = re.compile(r"(?<!\d)\+?\d{7,15}(?!\d)")


def redact(text: str) -> str:
    """`text` with every phone-number-like digit run cut to its last four digits."""
    return PHONE_LIKE.sub(lambda m: "…" + m.group(0)[-4:], text)


SQL_ROW_MESSAGE = "Row %r"  # what SQLAlchemy logs for each result row at DEBUG


def _redacting(factory: Any) -> Any:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = factory(*args, **kwargs)
        if record.name.startswith("sqlalchemy.engine") and record.msg == SQL_ROW_MESSAGE:
            record.msg, record.args = "Row (values not logged)", None
            return record
        try:
            message = record.getMessage()
            record.msg, record.args = redact(message), None
            if record.exc_info and not record.exc_text:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        except Exception:  # a malformed log call: leave it to the handler to report
            return record
        return record

    make.holdless_redacting = True  # type: ignore[attr-defined]
    return make


def install_redaction() -> None:
    """Redact every log record of this process from now on (once; safe to call again)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "holdless_redacting", False):
        logging.setLogRecordFactory(_redacting(factory))

"""Checks on what an administrator enters; each failure names the field it is about.

Values may arrive typed (from code) or as text (from a form or the command line); every
checker returns the clean, typed value or raises `ConfigError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers

from ivr.callback_number import REFUSED_TYPES
from models.base import MAX_STORED_INT

MIDNIGHT = time(0)
# Dates an administrator may enter (holidays, report days): far enough from the calendar's
# ends that the day before and after, in any time zone, still exist.
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2199, 12, 31)
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class ConfigError(ValueError):
    """A configuration change refused because one field is wrong (a 400 naming the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def whole_number(field: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """An integer within [low, high] (either bound optional; never past what the database
    stores)."""
    if isinstance(value, bool):
        raise ConfigError(field, "must be a whole number")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ConfigError(field, "must be a whole number") from None
    if not isinstance(value, int):
        raise ConfigError(field, "must be a whole number")
    high = MAX_STORED_INT if high is None else min(high, MAX_STORED_INT)
    low = -MAX_STORED_INT if low is None else max(low, -MAX_STORED_INT)
    if low is not None and value < low:
        raise ConfigError(field, f"must be at least {low}")
    if high is not None and value > high:
        raise ConfigError(field, f"must be at most {high}")
    return value


def flag(field: str, value: Any) -> bool:
    """A yes/no value (a bool, or a form's "on"/"true"/"1" and their opposites)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ConfigError(field, "must be yes or no")


def text(field: str, value: Any, max_length: int, required: bool = True) -> str:
    """Trimmed text no longer than `max_length`; empty only when not required."""
    if not isinstance(value, str):
        raise ConfigError(field, "must be text")
    value = value.strip()
    if required and not value:
        raise ConfigError(field, "must not be empty")
    if len(value) > max_length:
        raise ConfigError(field, f"must be at most {max_length} characters")
    return value


MARKUP = ("<", ">")


def name(field: str, value: Any, max_length: int) -> str:
    """A name a person reads on the pages (a queue's, an agent's, a holiday's): trimmed
    text, refused when it holds markup (< or >), which no name needs."""
    clean = text(field, value, max_length)
    if any(mark in clean for mark in MARKUP):
        raise ConfigError(field, "may not contain < or > (names are shown as plain text)")
    return clean


def weekday(value: Any) -> int:
    """A weekday number, 0 = Monday to 6 = Sunday."""
    return whole_number("weekday", value, 0, 6)


def time_zone(value: Any) -> str:
    """An IANA time zone name that zoneinfo knows."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("time_zone", "must be a time zone name such as Europe/Berlin")
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("time_zone", f"unknown time zone {name!r}") from None
    if name not in available_timezones() and name != "UTC":
        raise ConfigError("time_zone", f"unknown time zone {name!r}")
    return name


def clock_time(field: str, value: Any, end: bool = False) -> time:
    """A wall-clock time (HH:MM text or a time); "24:00" means midnight at the end of a range."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        raw = value.strip()
        if end and raw == "24:00":
            return MIDNIGHT
        try:
            return datetime.strptime(raw, "%H:%M").time()
        except ValueError:
            pass
    raise ConfigError(field, f"{value!r} is not a time HH:MM")


def calendar_date(field: str, value: Any) -> date:
    """A date (YYYY-MM-DD text or a date) between EARLIEST_DATE and LATEST_DATE."""
    found: date | None = None
    if isinstance(value, date) and not isinstance(value, datetime):
        found = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            found = date.fromisoformat(value.strip())
    if found is None:
        raise ConfigError(field, f"{value!r} is not a date YYYY-MM-DD")
    if not EARLIEST_DATE <= found <= LATEST_DATE:
        raise ConfigError(field, f"{found.isoformat()} is not between "
                                 f"{EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}")
    return found


MAX_REPORT_DAYS = 366


def date_range(first: Any, last: Any) -> tuple[date, date]:
    """A range of days for a report: from `first` to `last` (empty: the same day), in
    order, at most MAX_REPORT_DAYS long."""
    start = calendar_date("from", first)
    end = start if last in (None, "") else calendar_date("to", last)
    if end < start:
        raise ConfigError("to", "must not be before the first day")
    if (end - start).days >= MAX_REPORT_DAYS:
        raise ConfigError("to", f"a report covers at most {MAX_REPORT_DAYS} days")
    return start, end


def minutes(moment: time, end: bool = False) -> int:
    """Minutes after midnight; an end at 00:00 is the midnight that ends the day (1440)."""
    value = moment.hour * 60 + moment.minute
    return 1440 if end and value == 0 else value


def parse_ranges(value: str) -> list[tuple[time, time]]:
    """Ranges from text like "09:00-12:00,13:00-17:00" ("" or "closed" for none)."""
    raw = value.strip()
    if raw.lower() in ("", "closed"):
        return []
    ranges = []
    for part in raw.split(","):
        opens, sep, closes = part.strip().partition("-")
        if not sep:
            raise ConfigError("hours", f"{part.strip()!r} is not a range HH:MM-HH:MM")
        ranges.append((clock_time("hours", opens), clock_time("hours", closes, end=True)))
    return ranges


def _pair(field: str, pair: Any) -> tuple[time, time]:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        raise ConfigError(field, f"{pair!r} is not an (opens, closes) pair")
    return clock_time(field, pair[0]), clock_time(field, pair[1], end=True)


def day_ranges(field: str, value: str | Iterable[Sequence[Any]]) -> list[tuple[time, time]]:
    """One day's open ranges, sorted, each ending after it starts and none overlapping."""
    if isinstance(value, str):
        pairs = parse_ranges(value)
    else:
        pairs = [_pair(field, pair) for pair in value]
    pairs.sort(key=lambda r: minutes(r[0]))
    previous_end = 0
    for opens, closes in pairs:
        label = f"{opens:%H:%M}-{'24:00' if closes == MIDNIGHT else f'{closes:%H:%M}'}"
        if minutes(closes, end=True) <= minutes(opens):
            raise ConfigError(field, f"{label} must end after it starts "
                                     "(a range past midnight continues on the next day)")
        if minutes(opens) < previous_end:
            raise ConfigError(field, f"{label} overlaps the range before it")
        previous_end = minutes(closes, end=True)
    return pairs


def special_hours(opens: Any, closes: Any) -> tuple[time | None, time | None]:
    """A holiday's special opening (both given) or a closed day (neither)."""
    if (opens in (None, "")) != (closes in (None, "")):
        raise ConfigError("opens" if opens in (None, "") else "closes",
                          "give both opening and closing time, or neither for a closed day")
    if opens in (None, ""):
        return None, None
    ((o, c),) = day_ranges("closes", [(opens, closes)])
    return o, c


def country(value: Any, field: str = "country") -> str:
    """An ISO 3166 alpha-2 region code that phonenumbers knows (upper case)."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if len(code) != 2 or phonenumbers.country_code_for_region(code) == 0:
        raise ConfigError(field, f"{value!r} is not an ISO country code such as US or DE")
    return code


def listed(value: Any) -> list[str]:
    """A list from a list, or from comma-separated text."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value]
    return []


def number_types(value: Any) -> list[str]:
    """phonenumbers.PhoneNumberType names ("mobile", "FIXED_LINE", ...), upper case; the
    types the IVR always refuses (premium rate, shared cost, ...) are refused here too."""
    names = [n.upper().replace("-", "_").replace(" ", "_") for n in listed(value)]
    if not names:
        raise ConfigError("allowed_number_types", "name at least one number type")
    for kind in names:
        code = getattr(phonenumbers.PhoneNumberType, kind, None)
        if not isinstance(code, int):
            raise ConfigError("allowed_number_types", f"{kind.lower()!r} is not a number type")
        if code in REFUSED_TYPES:
            raise ConfigError("allowed_number_types",
                              f"{REFUSED_TYPES[code]} cannot be allowed: the phone menu never "
                              "calls them back (they cost the line money or reach no person)")
    return sorted(set(names))


def e164(field: str, value: Any) -> str:
    """A valid phone number in E.164 form (+ and digits)."""
    try:
        parsed = phonenumbers.parse(value, None) if isinstance(value, str) else None
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise ConfigError(field, "must be a valid number in +E.164 form")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

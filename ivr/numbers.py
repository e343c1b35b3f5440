"""Phone numbers: parsing caller IDs, and masking them for logs and screens."""

from __future__ import annotations

import phonenumbers

# What carriers put in From when the caller withholds their number.
HIDDEN_CALLER_IDS = frozenset({"", "anonymous", "restricted", "unknown", "private",
                               "unavailable", "+266696687", "266696687", "+86282452253",
                               "+7378742833", "+2562533"})


def caller_number(raw: str | None, region: str) -> str | None:
    """The caller's number in E.164, or None when hidden, anonymous or not a real number."""
    text = (raw or "").strip()
    if text.lower() in HIDDEN_CALLER_IDS or text.lower().startswith("client:"):
        return None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(number: str | None) -> str:
    """A number safe for logs and screens: all but the last four digits hidden."""
    if not number:
        return "hidden"
    digits = [c for c in number if c.isdigit()]
    return "…" + "".join(digits[-4:]) if len(digits) > 4 else "…"


def last_four(number: str | None) -> str:
    """The last four digits, spoken to confirm a number."""
    return "".join(c for c in (number or "") if c.isdigit())[-4:]

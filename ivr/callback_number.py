"""Checking a number before we promise to call it back (the toll-fraud gate).

Only valid numbers of the allowed countries, of a type a person answers, are accepted:
never premium rate, shared cost, universal access (UAN), personal (follow-me) numbers,
pagers, short codes or emergency numbers. Every refusal carries the reason the caller
hears.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo

REFUSED_TYPES = {
    PhoneNumberType.PREMIUM_RATE: "premium rate numbers",
    PhoneNumberType.SHARED_COST: "shared cost numbers",
    PhoneNumberType.UAN: "company access numbers",
    PhoneNumberType.PERSONAL_NUMBER: "personal forwarding numbers",
    PhoneNumberType.PAGER: "pagers",
    PhoneNumberType.VOICEMAIL: "voicemail access numbers",
}
MAX_KEYED_DIGITS = 16
# An international (E.164) number has at most 15 digits after the +.
MAX_E164_DIGITS = 15


@dataclass(frozen=True)
class NumberCheck:
    """The outcome of checking a number: the E.164 number, or the spoken reason it is refused."""

    number: str | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Whether the number may be called back."""
        return self.number is not None


def allowed_regions(setting: str, default_region: str) -> tuple[str, ...]:
    """The countries callbacks may go to: the setting's list, or the line's own region."""
    regions = tuple(r.strip().upper() for r in setting.split(",") if r.strip())
    return regions or (default_region.upper(),)


def check(raw: str, default_region: str, regions: tuple[str, ...]) -> NumberCheck:
    """Whether `raw` (keyed digits or a caller ID) is a number we will call back, and why not."""
    text = (raw or "").strip()
    digits = text.removeprefix("+")
    if not digits:
        return NumberCheck(None, "I did not hear any digits.")
    if not digits.isdigit() or len(digits) > MAX_KEYED_DIGITS:
        return NumberCheck(None, "That is not a phone number I can call.")
    if _is_short_or_emergency(text, default_region):
        return NumberCheck(None, "I cannot call emergency numbers or short codes.")
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return NumberCheck(None, "That is not a complete phone number.")
    if not phonenumbers.is_valid_number(parsed):
        return NumberCheck(None, "That is not a complete phone number.")
    region = phonenumbers.region_code_for_number(parsed)
    if region not in regions:
        return NumberCheck(None, "I can only call you back on a number in "
                                 f"{_country_names(regions)}.")
    refused = REFUSED_TYPES.get(phonenumbers.number_type(parsed))
    if refused is not None:
        return NumberCheck(None, f"I cannot call {refused}.")
    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if len(number) - 1 > MAX_E164_DIGITS:  # keyed digits plus the country code run too long
        return NumberCheck(None, "That is not a phone number I can call.")
    return NumberCheck(number)


def _is_short_or_emergency(text: str, region: str) -> bool:
    if phonenumbers.is_emergency_number(text, region):
        return True
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(len(text) <= 6 and shortnumberinfo.is_possible_short_number_for_region(
        parsed, region))


def _country_names(regions: tuple[str, ...]) -> str:
    names = [COUNTRY_NAMES.get(r, r) for r in regions]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


COUNTRY_NAMES = {"US": "the United States", "CA": "Canada", "GB": "the United Kingdom",
                 "IE": "Ireland", "FR": "France", "DE": "Germany", "ES": "Spain",
                 "IT": "Italy", "AU": "Australia", "NL": "the Netherlands"}

"""Checking a number before we promise to call it back (the toll-fraud gate).

Only valid numbers of the allowed countries, of a type a person answers, are accepted:
never premium rate, shared cost, universal access (UAN), personal (follow-me) numbers,
pagers, short codes or emergency numbers. Every refusal carries the reason the caller
hears.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import phonenumbers
from babel.lists import format_list
from phonenumbers import PhoneNumberType, shortnumberinfo

from holdless.speech import ENGLISH, N_, Speech

REFUSED_TYPES = {
    PhoneNumberType.PREMIUM_RATE: N_("I cannot call premium rate numbers."),
    PhoneNumberType.SHARED_COST: N_("I cannot call shared cost numbers."),
    PhoneNumberType.UAN: N_("I cannot call company access numbers."),
    PhoneNumberType.PERSONAL_NUMBER: N_("I cannot call personal forwarding numbers."),
    PhoneNumberType.PAGER: N_("I cannot call pagers."),
    PhoneNumberType.VOICEMAIL: N_("I cannot call voicemail access numbers."),
}
NOT_CALLABLE = N_("That is not a phone number I can call.")
INCOMPLETE = N_("That is not a complete phone number.")
MAX_KEYED_DIGITS = 16
# An international (E.164) number has at most 15 digits after the +.
MAX_E164_DIGITS = 15


@dataclass(frozen=True)
class NumberCheck:
    """The outcome of checking a number: the E.164 number, or the spoken reason it is refused."""

    number: str | None
    why: str = ""
    """The refusal as a catalog sentence (English msgid); `said` gives it in words."""
    regions: tuple[str, ...] = field(default=())

    @property
    def reason(self) -> str:
        """The refusal in English ("" for a number we call)."""
        return self.said(ENGLISH)

    def said(self, sp: Speech = ENGLISH) -> str:
        """The refusal in the caller's language ("" for a number we call)."""
        if not self.why:
            return ""
        return sp.gettext(self.why, countries=_country_names(self.regions, sp))

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
        return NumberCheck(None, N_("I did not hear any digits."))
    if not digits.isdigit() or len(digits) > MAX_KEYED_DIGITS:
        return NumberCheck(None, NOT_CALLABLE)
    if _is_short_or_emergency(text, default_region):
        return NumberCheck(None, N_("I cannot call emergency numbers or short codes."))
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return NumberCheck(None, INCOMPLETE)
    if not phonenumbers.is_valid_number(parsed):
        return NumberCheck(None, INCOMPLETE)
    region = phonenumbers.region_code_for_number(parsed)
    if region not in regions:
        return NumberCheck(None, N_("I can only call you back on a number in {countries}."),
                           regions)
    refused = REFUSED_TYPES.get(phonenumbers.number_type(parsed))
    if refused is not None:
        return NumberCheck(None, refused)
    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if len(number) - 1 > MAX_E164_DIGITS:  # keyed digits plus the country code run too long
        return NumberCheck(None, NOT_CALLABLE)
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


def _country_names(regions: tuple[str, ...], sp: Speech) -> str:
    """The countries as said after "in" ("the United States", "Canada or France"): the
    catalog's words where it has them, else CLDR's name; joined by CLDR's "or" list."""
    if not regions:
        return ""
    names = [sp.gettext(COUNTRY_NAMES[r]) if r in COUNTRY_NAMES
             else sp.locale.territories.get(r, r) for r in regions]
    return str(format_list(names, style="or", locale=sp.locale))


# Countries as said after "in" (with the article English and German need there).
COUNTRY_NAMES = {"US": N_("the United States"), "CA": N_("Canada"),
                 "GB": N_("the United Kingdom"), "IE": N_("Ireland"), "FR": N_("France"),
                 "DE": N_("Germany"), "ES": N_("Spain"), "IT": N_("Italy"),
                 "AU": N_("Australia"), "NL": N_("the Netherlands"), "DK": N_("Denmark"),
                 "EE": N_("Estonia"), "AT": N_("Austria"), "CH": N_("Switzerland")}

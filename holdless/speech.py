"""What callers hear and read, in their language: gettext catalogs through Babel, with
plurals, ordinal categories, dates, times and numbers from CLDR (no grammar by hand).

Every caller-facing sentence is an English msgid marked in code (`sp.gettext(...)`,
`sp.ngettext(...)`, `sp.pgettext(...)`, or `N_(...)` for a constant translated where it is
used) and translated in holdless/locales/<lang>/LC_MESSAGES/caller.po. Placeholders are
named str.format fields ("{minutes}"), filled after translation. docs/languages.md says
how to add a sentence or a language.

Catalogs are compiled in memory from the .po files on first use (no .mo to build or to
forget): a clean clone with only Python speaks every language, and the .po is the one
source reviewers read. This module imports no Flask: the domain layers use it directly.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = Path(__file__).parent / "locales"
CALLER_DOMAIN = "caller"
STAFF_DOMAIN = "staff"


@dataclass(frozen=True)
class Language:
    """A language Holdless speaks: its BCP-47 tag as Twilio's <Say language> takes it, its
    catalog, the Twilio voice documented for it ("" when Twilio has none: recorded prompts
    are played instead), its name in itself, and the word its texts ask for to cancel."""

    tag: str
    catalog: str
    voice: str
    name: str
    cancel_word: str


# Voices: Twilio's <Say> takes "any of the Twilio-supported Amazon Polly voices" with the
# matching language (www.twilio.com/docs/voice/twiml/say, the voices listed at
# www.twilio.com/docs/voice/twiml/say/text-speech); Amazon Polly has Vicki (de-DE) and
# Naja (da-DK) and no Estonian voice at all (docs.aws.amazon.com/polly/latest/dg/
# available-voices.html), nor does Twilio's own language list (da-DK and de-DE, no et-EE).
# So an Estonian line plays recorded prompts (holdless/prompts.py), never a foreign voice.
# Cancel words: none is one of the keywords Twilio reserves (ivr/texting.py).
LANGUAGES: dict[str, Language] = {lang.tag: lang for lang in (
    Language("en-US", "en", "Polly.Joanna", "English", "NOCALL"),
    Language("de-DE", "de", "Polly.Vicki", "Deutsch", "KEINANRUF"),
    Language("da-DK", "da", "Polly.Naja", "Dansk", "INGENOPKALD"),
    Language("et-EE", "et", "", "Eesti", "KONEPOLE"),
)}
DEFAULT_LANGUAGE = "en-US"


class LanguageError(ValueError):
    """A language tag Holdless has no catalog for; the message names it and the choices."""


def language(tag: str | None) -> Language:
    """The language of `tag` ("" or None: English); LanguageError for one we do not speak."""
    found = LANGUAGES.get(tag or DEFAULT_LANGUAGE)
    if found is None:
        raise LanguageError(f"language {tag!r} is not one Holdless speaks: choose one of "
                            f"{', '.join(LANGUAGES)}")
    return found


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "mark, translate later")
    """Mark `message` for the catalogs without translating it here (translated on use)."""
    return message


@cache
def translations(catalog: str, domain: str = CALLER_DOMAIN) -> NullTranslations:
    """The compiled catalog of one language and domain, read from its .po once a process
    (English with no catalog falls back to the msgids themselves)."""
    path = LOCALES / catalog / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        parsed = read_po(po, locale=catalog, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, parsed, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


def warm_catalogs() -> None:
    """Compile every language's caller catalog now, so a process's first callers (a rush
    at opening) do not each wait for it inside their webhook's time budget."""
    for folder in sorted(LOCALES.iterdir()):
        if (folder / "LC_MESSAGES").is_dir():
            translations(folder.name)


@dataclass(frozen=True)
class Speech:
    """Words in one language, and how a line says them (its Twilio voice; "" plays recorded
    prompts). Sentences are English msgids; fields are filled after translation."""

    language: Language
    voice: str = ""
    _t: NullTranslations = field(default_factory=NullTranslations, repr=False, compare=False)
    prompts: Callable[[str, str], str] | None = field(default=None, repr=False, compare=False)
    """Where a line without a voice gets the recording of a sentence: (tag, text) → URL."""

    @property
    def tag(self) -> str:
        """The BCP-47 tag Twilio's <Say language> takes ("de-DE")."""
        return self.language.tag

    @property
    def locale(self) -> Locale:
        """The CLDR locale of this language."""
        return Locale.parse(self.language.tag, sep="-")

    @property
    def recorded(self) -> bool:
        """Whether this line plays recorded prompts (no Twilio voice for its language)."""
        return not self.voice

    def with_prompts(self, prompts: Callable[[str, str], str]) -> Speech:
        """These words, their recorded prompts fetched from the addresses `prompts` gives."""
        return replace(self, prompts=prompts)

    def prompt_url(self, text: str) -> str:
        """The address of the recording of `text` in this language (lines without a
        voice); a line without recorded prompts set up is a configuration error."""
        if self.prompts is None:
            raise LanguageError(f"{self.language.name} ({self.tag}) has no Twilio voice and "
                                "no recorded prompts are set up for it")
        return self.prompts(self.tag, text)

    def gettext(self, message: str, **fields: object) -> str:
        """`message` in this language, its fields filled."""
        return self._t.gettext(message).format(**fields)

    def pgettext(self, context: str, message: str, **fields: object) -> str:
        """`message` in this language where the same English means different things."""
        return str(self._t.pgettext(context, message)).format(**fields)

    def ngettext(self, singular: str, plural: str, count: int, **fields: object) -> str:
        """The form of a sentence for `count` (the language's CLDR plural rule); `{count}`
        and the other fields filled."""
        return self._t.ngettext(singular, plural, count).format(count=count, **fields)

    def ordinal_category(self, n: int) -> str:
        """CLDR's ordinal category of `n` in this language: "one", "two", "few" or
        "other" (English 1st, 2nd, 3rd, 4th; German, Danish and Estonian only "other")."""
        return str(self.locale.ordinal_form(n))

    def clock(self, moment: datetime) -> str:
        """A time of day as this language says it: "9 AM" / "1:30 PM" in English, "9:00"
        in German, "9.00" in Danish and Estonian (CLDR's short time, the locale's clock)."""
        pattern = self.locale.time_formats["short"].pattern
        if "h" in pattern and moment.minute == 0:  # a 12-hour clock says whole hours alone
            said = format_skeleton("h", moment, locale=self.locale)
        else:  # spoken, an hour has no leading zero
            said = format_time(moment, pattern.replace("HH", "H"), locale=self.locale)
        return said.replace("\u202f", " ").replace("\u00a0", " ")  # CLDR's no-break spaces

    def weekday(self, moment: datetime) -> str:
        """The day's name in this language ("Monday", "Montag", "mandag", "esmaspäev")."""
        return format_date(moment, "EEEE", locale=self.locale)

    def day_and_month(self, moment: datetime) -> str:
        """A date without its year ("March 3", "3. März", "3. marts", "3. märts")."""
        return format_skeleton("MMMMd", moment, locale=self.locale)

    def spell(self, code: str) -> str:
        """A reference read out one character at a time: "A, 3, 7"."""
        return ", ".join(code)




@cache
def speech(tag: str | None = None, voice: str | None = None) -> Speech:
    """The words of language `tag` spoken by `voice` (None: the voice Twilio documents for
    the language, or recorded prompts where it has none). LanguageError for a tag we do
    not speak."""
    lang = language(tag)
    return Speech(lang, lang.voice if voice is None else voice, translations(lang.catalog))


ENGLISH = speech(DEFAULT_LANGUAGE)

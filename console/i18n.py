"""Staff pages in the reader's language with Flask-Babel: the `staff` catalogs beside the
callers' (holdless/locales/<lang>/LC_MESSAGES/staff.po), compiled in memory like them.

The language is the one chosen with ?lang= (kept in the session), else the browser's
(Accept-Language), else English. Templates mark text with `_()`; the pages' scripts get
their sentences, translated, from `staff_words()` (window.HOLDLESS_WORDS) and look them
up with `t("…")` (console/static/words.js)."""

from __future__ import annotations

import json
from typing import Any

from babel.messages.extract import extract_from_file
from babel.support import NullTranslations
from flask import Flask, request, session
from flask_babel import Babel, Domain, get_locale
from markupsafe import Markup

from holdless.speech import LANGUAGES, STAFF_DOMAIN, translations

STAFF_LANGUAGES = ("en", "de")
DEFAULT_STAFF_LANGUAGE = "en"


def staff_language() -> str:
    """The language of the page being built (see the module's note)."""
    chosen = request.args.get("lang", "")
    if chosen in STAFF_LANGUAGES:
        session["lang"] = chosen
    kept = session.get("lang")
    if kept in STAFF_LANGUAGES:
        return str(kept)
    return request.accept_languages.best_match(STAFF_LANGUAGES) or DEFAULT_STAFF_LANGUAGE


class StaffDomain(Domain):
    """Flask-Babel's domain, reading the staff catalogs compiled in memory."""

    def get_translations(self) -> NullTranslations:
        """The staff catalog of the page's language."""
        return translations(str(get_locale() or DEFAULT_STAFF_LANGUAGE), STAFF_DOMAIN)


def script_sentences(path: str) -> list[str]:
    """The sentences a page's script looks up with t("…") (its keys in the catalog)."""
    return [str(message) for _line, message, _comments, _context in extract_from_file(
        "javascript", path, keywords={"t": None}) if isinstance(message, str)]


def staff_words(*scripts: str) -> Markup:
    """The translated sentences of `scripts` (static file names) as a JSON object for
    window.HOLDLESS_WORDS; English pages get an empty one (the keys are the English)."""
    words: dict[str, Any] = {}
    catalog = translations(str(get_locale() or DEFAULT_STAFF_LANGUAGE), STAFF_DOMAIN)
    folder = f"{__file__.rsplit('/', 1)[0]}/static"
    for script in scripts:
        for sentence in script_sentences(f"{folder}/{script}"):
            said = catalog.gettext(sentence)
            if said != sentence:
                words[sentence] = said
    return Markup(json.dumps(words, ensure_ascii=False).replace("</", "<\\/"))


def init_app(app: Flask) -> None:
    """Staff pages speak the reader's language: Flask-Babel with the staff catalogs."""
    babel = Babel(app, locale_selector=staff_language)
    babel.domain_instance = StaffDomain(domain=STAFF_DOMAIN)
    app.jinja_env.globals["staff_words"] = staff_words
    app.jinja_env.globals["staff_language"] = lambda: str(get_locale() or "en")
    app.jinja_env.globals["caller_languages"] = LANGUAGES  # for the admin pages' fields

"""The translation catalogs kept in step with the code: extraction of every marked
sentence, merging into each language's .po, and the check the suite runs (every key in
every catalog, translated, every placeholder kept).

    python -m holdless.catalogs update   # after adding or changing a sentence
    python -m holdless.catalogs check    # what the suite checks, in words

docs/languages.md says how to add a sentence or a language.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from holdless.speech import CALLER_DOMAIN, LANGUAGES, LOCALES, STAFF_DOMAIN

ROOT = Path(__file__).resolve().parent.parent
# Where each domain's sentences are marked: what callers hear and read is marked in the
# domain layers; what staff read, in the pages (Python and Jinja templates).
SOURCES: dict[str, tuple[str, ...]] = {
    CALLER_DOMAIN: ("holdless", "models", "queueing", "ivr", "callbacks", "admin", "webhooks"),
    STAFF_DOMAIN: ("console", "webhooks/templates", "entrypoints"),
}
METHODS: dict[str, list[tuple[str, str]]] = {
    CALLER_DOMAIN: [("**.py", "python")],
    STAFF_DOMAIN: [("**.py", "python"), ("**.html", "jinja2"),
                   ("**/static/*.js", "javascript")],
}
# The pages' scripts mark their sentences with t("…") (console/static/words.js).
KEYWORDS: dict[str, dict[str, Any]] = {
    CALLER_DOMAIN: dict(DEFAULT_KEYWORDS),
    STAFF_DOMAIN: {**DEFAULT_KEYWORDS, "t": None},
}
# Languages that must translate every sentence of a domain (English is the msgids).
COMPLETE: dict[str, tuple[str, ...]] = {
    CALLER_DOMAIN: tuple(lang.catalog for lang in LANGUAGES.values() if lang.catalog != "en"),
    STAFF_DOMAIN: ("de",),
}
FIELD = re.compile(r"\{(\w*)[^{}]*\}")
# Jinja's and Flask-Babel's placeholders in the staff pages: %(name)s.
PERCENT_FIELD = re.compile(r"%\((\w+)\)s")


@cache
def extract(domain: str) -> Catalog:
    """Every sentence marked for `domain` in the code, as a template catalog (read once a
    process; do not change it)."""
    template = Catalog(domain=domain, project="Holdless", fuzzy=False)
    for folder in SOURCES[domain]:
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / folder, METHODS[domain], keywords=KEYWORDS[domain],
                comment_tags=("Translators:",), strip_comment_tags=True):
            template.add(message, None, [(f"{folder}/{filename}", lineno)],
                         auto_comments=comments, context=context)
    return template


def po_path(catalog: str, domain: str) -> Path:
    """Where the .po of one language and domain lives."""
    return LOCALES / catalog / "LC_MESSAGES" / f"{domain}.po"


def read(catalog: str, domain: str) -> Catalog:
    """The .po of one language and domain (an empty catalog when it has none yet)."""
    path = po_path(catalog, domain)
    if not path.exists():
        return Catalog(locale=catalog, domain=domain, project="Holdless", fuzzy=False)
    with path.open("rb") as po:
        return read_po(po, locale=catalog, domain=domain)


def update(domain: str) -> list[Path]:
    """Merge the code's sentences into every language's .po of `domain`: new sentences
    arrive untranslated, sentences gone from the code are dropped. The paths written."""
    extract.cache_clear()
    template = extract(domain)
    written = []
    for lang in LANGUAGES.values():
        if domain == STAFF_DOMAIN and lang.catalog not in (*COMPLETE[domain], "en"):
            continue
        catalog = read(lang.catalog, domain)
        template.creation_date = catalog.creation_date  # no churn in an unchanged header
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        path = po_path(lang.catalog, domain)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=96, ignore_obsolete=True, sort_output=False,
                     include_lineno=False)
        written.append(path)
    return written


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalog, said in words."""

    catalog: str
    domain: str
    message: str

    def __str__(self) -> str:
        return f"{self.catalog}/{self.domain}.po: {self.message}"


def _fields(text: str) -> set[str]:
    return set(FIELD.findall(text)) | {f"%({name})s" for name in PERCENT_FIELD.findall(text)}


def _strings(message: Message) -> tuple[list[str], list[str]]:
    ids = list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]
    strs = list(message.string) if isinstance(message.string, (list, tuple)) else [
        message.string]
    return ids, [s or "" for s in strs]


def _message_problems(message: Message, translated: bool) -> Iterable[str]:
    ids, strs = _strings(message)
    name = f"{message.id!r}" + (f" (context {message.context!r})" if message.context else "")
    if translated and (not strs or not all(strs)):
        yield f"{name} is not translated"
        return
    wanted = set().union(*(_fields(i) for i in ids))
    for text in (s for s in strs if s):
        if _fields(text) != wanted:
            yield (f"{name}: the translation {text!r} has the fields {sorted(_fields(text))}, "
                   f"the sentence {sorted(wanted)}")


def check(domain: str, catalogs: Iterable[str] | None = None) -> list[Problem]:
    """What is wrong with the catalogs of `domain`: a sentence of the code missing from a
    catalog, one not translated where the language must be complete, a placeholder lost
    or invented. Empty when all is well."""
    template = extract(domain)
    names = catalogs or ["en", *COMPLETE[domain]]
    problems: list[Problem] = []
    for name in names:
        catalog = read(name, domain)
        must_translate = name in COMPLETE[domain]
        for wanted in template:
            if not wanted.id:
                continue
            found = catalog.get(wanted.id, context=wanted.context)
            if found is None:
                problems.append(Problem(name, domain, f"{wanted.id!r} is missing "
                                        f"(run python -m holdless.catalogs update)"))
                continue
            problems += [Problem(name, domain, text)
                         for text in _message_problems(found, must_translate)]
    return problems


def main(argv: list[str]) -> int:
    """`update` or `check` both domains; the exit status says whether all is well."""
    if argv[:1] == ["update"]:
        for domain in SOURCES:
            for path in update(domain):
                print(f"wrote {path.relative_to(ROOT)}")
        return 0
    problems = [p for domain in SOURCES for p in check(domain)]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

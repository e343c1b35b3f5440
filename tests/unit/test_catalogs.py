"""The translation catalogs: every sentence the code marks is in every shipped language's
catalog, translated, with the same placeholders; and a catalog missing a key is caught."""

from __future__ import annotations

import shutil

import pytest
from babel.messages.pofile import read_po, write_po

from holdless import catalogs, speech
from holdless.speech import CALLER_DOMAIN, LANGUAGES


@pytest.mark.parametrize("domain", list(catalogs.SOURCES))
def test_every_sentence_is_in_every_catalog_translated_with_its_placeholders(domain):
    problems = catalogs.check(domain)
    assert not problems, "\n".join(str(p) for p in problems)


def test_the_code_marks_the_callers_sentences():
    template = catalogs.extract(CALLER_DOMAIN)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template}
    assert "Thank you for calling. Goodbye." in ids
    assert "You are next in line." in ids
    assert "about {count} minute" in ids


@pytest.fixture
def scratch_locales(tmp_path, monkeypatch):
    """A copy of the catalogs the test may break."""
    copy = tmp_path / "locales"
    shutil.copytree(speech.LOCALES, copy)
    monkeypatch.setattr(catalogs, "LOCALES", copy)
    return copy


def _rewrite(path, change):
    with path.open("rb") as po:
        catalog = read_po(po)
    change(catalog)
    with path.open("wb") as po:
        write_po(po, catalog)


def test_a_catalog_missing_a_key_fails_the_check(scratch_locales):
    for tag in LANGUAGES.values():
        path = scratch_locales / tag.catalog / "LC_MESSAGES" / f"{CALLER_DOMAIN}.po"
        _rewrite(path, lambda c: c.delete("You are next in line."))
        problems = catalogs.check(CALLER_DOMAIN, [tag.catalog])
        assert any("'You are next in line.' is missing" in str(p) for p in problems), tag


def test_a_lost_placeholder_fails_the_check(scratch_locales):
    path = scratch_locales / "en" / "LC_MESSAGES" / f"{CALLER_DOMAIN}.po"
    _rewrite(path, lambda c: setattr(c["Your expected wait is {wait}."], "string",
                                     "Your expected wait is {wiat}."))
    problems = [str(p) for p in catalogs.check(CALLER_DOMAIN, ["en"])]
    assert any("{wiat}" in p or "'wiat'" in p for p in problems), problems

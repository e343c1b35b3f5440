"""Staff pages in the reader's language (Flask-Babel with the staff catalogs): German from
the browser's Accept-Language or ?lang=de (kept for the session), English otherwise, and
the console's scripts given their German sentences."""

from __future__ import annotations

import json
import re

from tests.console_helpers import PASSWORD, seed_people_and_admin


def _signed_in(app, username, **headers):
    client = app.test_client()
    page = client.get("/sign-in", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/sign-in", data={"username": username, "password": PASSWORD,
                                  "csrf_token": token}, headers=headers)
    return client


def test_a_german_browser_gets_the_console_in_german_with_its_scripts_words(rt, app):
    seed_people_and_admin(rt)
    sign_in = app.test_client().get("/sign-in", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert "Benutzername" in sign_in.get_data(as_text=True)
    client = _signed_in(app, "alice", **{"Accept-Language": "de-DE,de;q=0.9"})
    page = client.get("/console", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert '<html lang="de">' in page
    for words in ("Verfügbar", "Gerade kein Kontakt.", "Sprache", "Nachbearbeitung abschließen"):
        assert words in page, words
    found = re.search(r'<script type="application/json" id="holdless-words">(.*?)</script>',
                      page, re.S)
    words = json.loads(found.group(1))
    assert words["Wrapped up. You are {state}."] == \
        "Nachbearbeitung abgeschlossen. Sie sind {state}."


def test_an_english_browser_gets_english_and_lang_de_switches_the_session(rt, app):
    seed_people_and_admin(rt)
    client = _signed_in(app, "ada")
    english = client.get("/admin/queues").get_data(as_text=True)
    assert "Save settings" in english and "Einstellungen speichern" not in english
    german = client.get("/admin/queues?lang=de").get_data(as_text=True)
    assert "Einstellungen speichern" in german and "Begrüßung auf Deutsch" in german
    assert "Warteschlangen & Zeiten" in client.get("/admin/holidays").get_data(as_text=True)


def test_an_error_page_speaks_the_readers_language(rt, app):
    seed_people_and_admin(rt)
    client = _signed_in(app, "alice")
    refused = client.get("/admin/queues?lang=de", headers={"Accept": "text/html"})
    assert refused.status_code == 403
    assert "Diese Seite ist für Administratorinnen" in refused.get_data(as_text=True)

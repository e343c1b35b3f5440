"""The agent console in German in a real Chromium: the page and its scripts speak the
browser's language, and the agent sees the language the caller is spoken to in."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from models.entities import Caller, Queue
from queueing import directory
from tests.conftest import SignedTwilioClient
from tests.console_helpers import PASSWORD, seed_people
from tests.helpers import call_form
from tests.system.test_console_browser import WITHIN, answer

pytestmark = pytest.mark.browser


def sign_in_german(browser: Any, base: str, username: str) -> Any:
    """A German browser signed in as `username`, on the console."""
    page = browser.new_context(locale="de-DE", viewport={"width": 1100, "height": 1300}) \
        .new_page()
    page.goto(f"{base}/console")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{base}/console")
    return page


def test_a_german_agent_works_in_german_and_sees_the_callers_language(
        rt, live_app, browser, worker):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    people = seed_people(rt)
    with rt.db.session() as s:
        s.execute(update(Queue).values(language="de-DE", languages="da-DK"))
        s.add(Caller(number="+12125550123", name="Karen Blixen", language="da-DK"))
    directory.changed(rt.live)
    alice = sign_in_german(browser, base, "alice")
    expect(alice.locator("#idle")).to_have_text("Gerade kein Kontakt.")
    alice.get_by_role("button", name="Verfügbar").click()
    expect(alice.locator("#message")).to_have_text("Sie sind verfügbar.", timeout=WITHIN)
    twilio.post("/voice/incoming", call_form(from_="+12125550123"))
    assert "Karen Blixen" in answer(rt, twilio, worker, people["alice"])
    expect(alice.locator("#caller-language")).to_have_text("Dansk (da-DK)", timeout=WITHIN)
    expect(alice.locator("#interaction")).to_contain_text("Sprache")
    expect(alice.locator("#state")).to_have_text("im Gespräch", timeout=WITHIN)

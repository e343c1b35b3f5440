"""Markup typed by an agent (a note, a transfer reason) or stored as a caller's name reaches
the next agent's console as plain text in a real Chromium: shown literally, never parsed into
elements, never run."""

from __future__ import annotations

import pytest

from models.entities import Caller
from tests.conftest import SignedTwilioClient
from tests.console_helpers import seed_people
from tests.helpers import call_form
from tests.system.test_console_browser import WITHIN, answer, sign_in

pytestmark = pytest.mark.browser

NAME = '<img src=x onerror="window.__pwned=\'name\'">Eve'
NOTE = "<script>window.__pwned='note'</script><b>bold</b><img src=x onerror=alert(1)>"
REASON = "<svg onload=\"window.__pwned='reason'\">billing"


def test_markup_in_name_note_and_transfer_reason_is_shown_as_text_and_never_runs(
        rt, live_app, browser, worker, twilio_api):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    people = seed_people(rt)
    with rt.db.session() as s:
        s.add(Caller(number="+12125550123", name=NAME, account_ref="<i>ACC</i>"))
    dialogs: list[str] = []
    alice = sign_in(browser, base, "alice")
    bob = sign_in(browser, base, "bob")
    for page in (alice, bob):
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.click("#go-available")
        expect(page.locator("#state")).to_have_text("available", timeout=WITHIN)

    twilio.post("/voice/incoming", call_form(from_="+12125550123"))
    answer(rt, twilio, worker, people["alice"])
    expect(alice.locator("#caller-name")).to_have_text(NAME, timeout=WITHIN)
    alice.fill("#note-draft", NOTE)
    expect(alice.locator("#draft-status")).to_contain_text("Saved", timeout=WITHIN)
    # the "choose who takes the call" prompt (nothing preselected), colleagues and queues
    expect(alice.locator("#transfer-target option")).to_have_count(5, timeout=WITHIN)
    alice.select_option("#transfer-target", f"agent:{people['bob']}")
    alice.fill("#transfer-reason", REASON)
    alice.click("#transfer")
    expect(alice.locator("#message")).to_have_text("Transfer started.", timeout=WITHIN)
    answer(rt, twilio, worker, people["bob"])

    expect(bob.locator("#caller-name")).to_have_text(NAME, timeout=WITHIN)
    expect(bob.locator("#account-ref")).to_have_text("<i>ACC</i>")
    expect(bob.locator("#notes")).to_contain_text(NOTE, timeout=WITHIN)
    expect(bob.locator("#legs")).to_contain_text(REASON, timeout=WITHIN)
    for page in (alice, bob):
        assert page.locator("#interaction img, #interaction script, #interaction svg, "
                            "#interaction b, #interaction i").count() == 0
        assert page.evaluate("window.__pwned") is None
    assert dialogs == []

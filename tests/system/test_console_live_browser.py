"""The console in Chromium applies pushed updates without rebuilding what the agent reads:
a selection made in a note survives ten updates that each add a note."""

from __future__ import annotations

import pytest

from models.console import Note
from tests.conftest import SignedTwilioClient
from tests.console_helpers import route_call_to, seed_people
from tests.system.test_console_browser import sign_in

pytestmark = pytest.mark.browser

WITHIN = 30_000  # ms: a ceiling, not a timing

SELECT_FIRST_NOTE = """() => {
  const row = document.querySelector('#notes li');
  const range = document.createRange();
  range.selectNodeContents(row);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  window.selectedRow = row;
  return selection.toString();
}"""

SELECTION_NOW = """() => ({text: window.getSelection().toString(),
                           same: window.selectedRow.isConnected &&
                                 window.getSelection().anchorNode !== null &&
                                 window.selectedRow.contains(window.getSelection().anchorNode)})"""


def add_note(rt, interaction_id: int, agent_id: int, text: str) -> None:
    """A colleague's note, committed (the commit pushes the change to the page)."""
    with rt.db.session() as s:
        s.add(Note(interaction_id=interaction_id, agent_id=agent_id, text=text, draft=False,
                   created_at=rt.clock.now(), updated_at=rt.clock.now()))


def test_a_text_selection_in_the_console_survives_ten_pushed_updates(
        rt, live_app, browser, worker, twilio_api):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    add_note(rt, interaction.id, people["bob"], "Order 7 arrived broken")
    alice = sign_in(browser, base, "alice")
    expect(alice.locator("#notes li")).to_have_count(1, timeout=WITHIN)
    selected = alice.evaluate(SELECT_FIRST_NOTE)
    assert "Order 7 arrived broken" in selected
    for n in range(10):
        add_note(rt, interaction.id, people["bob"], f"update {n}")
        expect(alice.locator("#notes li")).to_have_count(n + 2, timeout=WITHIN)
    now = alice.evaluate(SELECTION_NOW)
    assert now == {"text": selected, "same": True}

"""One rule for time on the agent console and the live board, in a real Chromium whose own
zone is Los Angeles: every time shown says its zone, and the queue's zone (Berlin here) is
used for anything about a queue, never the browser's."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from admin.audit import Actor
from admin.config import set_hours, update_queue
from models.callbacks import UNREACHABLE, Callback, CallbackAttempt
from models.entities import Interaction, Queue
from tests.conftest import SignedTwilioClient
from tests.console_helpers import PASSWORD, Desk, route_call_to, seed_people

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOTS") or Path(__file__).resolve().parents[2] / "artifacts")
WITHIN = 10_000  # ms: a ceiling for what the page shows, never a timing
BROWSER_ZONE = "America/Los_Angeles"
# Berlin in November as Chromium names it (Intl's short name), or as Python does.
BERLIN = r"(GMT\+1|CET)"
NOT_THE_BROWSERS = re.compile(r"PST|PDT|GMT-[78]")


def berlin_support(rt: Any) -> dict[str, int]:
    """The console's people; Support keeps Berlin time and is open Mondays 09:00-17:00 and
    Tuesdays 09:00-17:00 there, Sales (Berlin too) only on Tuesdays."""
    people = seed_people(rt)
    with rt.db.session() as s:
        for slug in ("support", "sales"):
            update_queue(s, Actor(None, "test"), slug, {"time_zone": "Europe/Berlin"})
        set_hours(s, Actor(None, "test"), "support", 0, "09:00-17:00")
        for slug in ("support", "sales"):
            set_hours(s, Actor(None, "test"), slug, 1, "09:00-17:00")
    return people


def sign_in(browser: Any, base: str, username: str, path: str) -> Any:
    """A page of a Chromium set to Los Angeles time, signed in as `username`, on `path`."""
    context = browser.new_context(viewport={"width": 1300, "height": 1100},
                                  timezone_id=BROWSER_ZONE)
    page = context.new_page()
    page.goto(f"{base}{path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}{path}")
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == BROWSER_ZONE
    return page


def shot(page: Any, name: str) -> None:
    """A full-page screenshot under SHOTS (SCREENSHOTS=docs/screenshots refreshes docs')."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_board_says_a_berlin_queues_hours_in_berlin_time_to_a_browser_in_los_angeles(
        rt, live_app, browser, frozen_clock):
    from playwright.sync_api import expect
    _app, base = live_app
    berlin_support(rt)  # it is Monday 16:30 in Berlin
    sam = sign_in(browser, base, "sam", "/board")
    support = sam.locator('#queue-rows tr[data-queue="support"] [data-cell="status"]')
    sales = sam.locator('#queue-rows tr[data-queue="sales"] [data-cell="status"]')
    expect(support).to_have_text(re.compile(rf"^open until 17:00 {BERLIN}$"), timeout=WITHIN)
    expect(sales).to_have_text(re.compile(rf"^closed until Tue 17 Nov 09:00 {BERLIN}$"))
    expect(sam.locator("#board-at")).to_have_text(re.compile(r"^at 2026-11-16 10:30:00 EST$"))
    assert not NOT_THE_BROWSERS.search(sam.locator("main").inner_text())
    shot(sam, "board-zoned-times")


def _earlier_contacts(rt: Any, people: dict[str, int], now: Any) -> None:
    """The caller phoned Support two days ago, and a callback of theirs went unanswered."""
    with rt.db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.slug == "support"))
        s.add(Interaction(call_sid="CA" + "e" * 32, caller_number="+12125550123",
                          queue_id=queue.id, status="completed", outcome="answered",
                          created_at=now - timedelta(days=2)))
        old = Callback(queue_id=queue.id, number="+12125550123", reference="KM7RA3",
                       status=UNREACHABLE, place=0.0, attempts=1, max_attempts=1,
                       created_at=now - timedelta(days=2), updated_at=now)
        old.tries = [CallbackAttempt(number=1, idempotency_key="old-1", agent_id=people["bob"],
                                     outcome="no-answer", started_at=now - timedelta(days=2))]
        s.add(old)


def test_the_console_shows_a_berlin_calls_times_in_berlin_time_to_a_browser_in_los_angeles(
        rt, live_app, browser, worker, frozen_clock):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    people = berlin_support(rt)
    _earlier_contacts(rt, people, frozen_clock.now())
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    alice_api = Desk(app, "alice")
    alice_api.send("POST", f"/api/interactions/{interaction.id}/notes", {"text": "Refund"})
    alice = sign_in(browser, base, "alice", "/console")
    expect(alice.locator("#history")).to_contain_text("2026-11-14 16:30 GMT+1", timeout=WITHIN)
    expect(alice.locator("#callback-history")).to_contain_text(
        re.compile(r"requested 2026-11-14 16:30 GMT\+1 · Support · KM7RA3"))
    expect(alice.locator("#callback-history")).to_contain_text("#1 2026-11-14 16:30 GMT+1")
    expect(alice.locator("#notes")).to_contain_text("Alice Agent · 16:30 GMT+1: Refund")
    expect(alice.locator("#legs")).to_contain_text("16:30 GMT+1–now")
    alice.fill("#note-draft", "Wants the form again")
    expect(alice.locator("#draft-status")).to_have_text("Saved 16:30 GMT+1", timeout=WITHIN)
    escalated = alice_api.send("POST", f"/api/interactions/{interaction.id}/escalate",
                               {"reason": "asks for a manager"})  # no supervisor is free
    assert escalated.status_code == 202 and escalated.json["waiting"] is True
    expect(alice.locator("#escalation")).to_have_text(re.compile(
        r"^Waiting for a free supervisor until 16:3\d GMT\+1: the caller is on hold\.$"),
        timeout=WITHIN)
    assert not NOT_THE_BROWSERS.search(alice.locator("#interaction").inner_text())
    shot(alice, "console-zoned-times")

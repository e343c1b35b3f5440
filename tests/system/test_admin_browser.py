"""The admin pages in a real Chromium: the live board refreshes by itself, a refused hours edit
names the field, and an admin closing the line's hours changes what the IVR answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from queueing.directory import queue_by_slug
from tests.callback_steps import book_callback, only_callback
from tests.conftest import SignedTwilioClient
from tests.console_helpers import PASSWORD, seed_people
from tests.helpers import call_form, spoken, twiml
from tests.integration.test_admin_api import past_tuesdays

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
WITHIN = 2000  # ms: the board refreshes at least every 2 s


def seed_admin(rt: Any) -> None:
    """Support (the only active queue), agents, and ada the administrator."""
    from admin import directory
    seed_people(rt)
    with rt.db.session() as s:
        queue_by_slug(s, "sales").active = False
        directory.create_agent(s, "Ada Admin", "ada", "client:ada", [], "admin", PASSWORD)


def test_admin_closes_the_hours_in_the_browser_and_the_ivr_answers_closed_with_next_opening(
        rt, live_app, browser):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    seed_admin(rt)
    past_tuesdays(rt)  # 20 calls of 180 s at 10:05 on each of the last four Tuesdays
    ARTIFACTS.mkdir(exist_ok=True)

    page = browser.new_context(viewport={"width": 1300, "height": 1200}).new_page()
    page.goto(f"{base}/admin")
    page.fill("#username", "ada")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/admin")
    support = page.locator('#board-rows tr[data-queue="support"] td')
    expect(support.nth(1)).to_have_text("0", timeout=WITHIN)

    # Monday 16 Nov 2026, 10:30 in New York (the frozen clock): the line is open.
    before = spoken(twiml(twilio.post("/voice/incoming", call_form(from_="+12125550123"))))
    assert "closed" not in before and "next in line" in before
    expect(support.nth(1)).to_have_text("1", timeout=WITHIN)  # the board refreshed itself
    book_callback(twilio, "+12125550789")
    expect(support.nth(4)).to_have_text("1", timeout=WITHIN)  # callbacks booked
    expect(support.nth(1)).to_have_text("2", timeout=WITHIN)  # it keeps a place in line
    page.screenshot(path=str(ARTIFACTS / "admin-board.png"), full_page=True)

    page.goto(f"{base}/admin/callbacks?queue=support")
    expect(page.locator("#callbacks tbody tr").first).to_contain_text("…0789")
    page.screenshot(path=str(ARTIFACTS / "admin-callbacks.png"), full_page=True)
    page.locator("#callbacks tbody tr").first.get_by_role("button", name="Cancel").click()
    expect(page.locator("#callbacks tbody")).to_have_text("No callbacks booked.", timeout=WITHIN)
    expect(page.locator("#message")).to_have_text("Saved.")
    assert only_callback(rt).status == "cancelled"

    page.goto(f"{base}/admin/queues")
    monday = page.locator("#hours-support-0")
    monday.locator('input[name="ranges"]').fill("17:00-09:00")
    monday.locator("button").click()
    expect(page.locator("#message")).to_contain_text("hours: 17:00-09:00 must end after it starts",
                                                     timeout=WITHIN)
    expect(monday.locator('input[name="ranges"]')).to_have_class("invalid")
    monday.locator('input[name="ranges"]').fill("12:00-17:00")
    monday.locator("button").click()
    expect(page.locator("#message")).to_have_text("Saved.", timeout=WITHIN)
    page.screenshot(path=str(ARTIFACTS / "admin-hours.png"), full_page=True)

    after = spoken(twiml(twilio.post("/voice/incoming", call_form(from_="+12125550456"))))
    assert "We are closed right now. We open again today at 12 PM." in after, after

    page.goto(f"{base}/admin/staffing?queue=support")
    tuesday_ten = page.locator('input.plan[data-weekday="1"][data-start="10:00"]')
    expect(page.locator("#gaps")).to_contain_text(
        "Tuesday 10:00–10:30: planned 0, needed 4 for 80% in 20 s")
    expect(tuesday_ten.locator("xpath=..")).to_have_class("gap")
    page.screenshot(path=str(ARTIFACTS / "admin-staffing.png"), full_page=True)
    tuesday_ten.fill("4")
    tuesday_ten.press("Tab")
    expect(page.locator("#message")).to_have_text("Saved.", timeout=WITHIN)
    expect(tuesday_ten.locator("xpath=..")).not_to_have_class("gap")

    page.goto(f"{base}/admin/audit")
    expect(page.locator("#audit tbody tr").first).to_contain_text("staffing_plan")
    expect(page.locator("#audit tbody tr").nth(1)).to_contain_text("opening_hours")
    expect(page.locator("#audit tbody tr").nth(1)).to_contain_text("12:00-17:00")
    page.goto(f"{base}/admin/reports?day=2026-11-16")
    expect(page.locator("#chart")).to_be_visible()
    assert page.evaluate("document.getElementById('chart').naturalWidth") > 0
    page.screenshot(path=str(ARTIFACTS / "admin-report.png"), full_page=True)

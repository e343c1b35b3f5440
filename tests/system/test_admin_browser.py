"""The admin pages in a real Chromium: the live board refreshes by itself; every form refuses
bad input beside the field (tied to it for screen readers) and saves nothing; the week editor
copies Monday and warns before a day is left closed; a holiday closes a queue with no hours;
destructive actions ask first and say what they did; every page fits a phone's width."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from models.admin import CallbackPolicy, ConfigAuditEntry
from models.entities import OpeningHours
from queueing.directory import queue_by_slug
from tests.callback_steps import book_callback, only_callback
from tests.conftest import SignedTwilioClient
from tests.console_helpers import PASSWORD, seed_people
from tests.helpers import call_form, spoken, twiml
from tests.integration.test_admin_api import past_tuesdays

pytestmark = pytest.mark.browser

# Screenshots go to artifacts/ (CI keeps them); SCREENSHOTS=docs/screenshots refreshes the
# committed ones.
SHOTS = Path(os.environ.get("SCREENSHOTS") or Path(__file__).resolve().parents[2] / "artifacts")
WITHIN = 30_000  # ms: a ceiling for what the page shows after a request, never a timing
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1300, "height": 1000}


def seed_admin(rt: Any) -> None:
    """Support (the only active queue, no weekly hours), agents, and ada the administrator."""
    from admin import directory
    seed_people(rt)
    with rt.db.session() as s:
        queue_by_slug(s, "sales").active = False
        directory.create_agent(s, "Ada Admin", "ada", "client:ada", [], "admin", PASSWORD)


def signed_in(browser: Any, base: str, viewport: dict[str, int] = DESKTOP) -> Any:
    """A page signed in as ada, on the admin landing page."""
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{base}/admin")
    page.fill("#username", "ada")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/board")  # administration starts at the live board
    return page


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot under SHOTS."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def expect_refused_beside(page: Any, field: Any, words: str) -> None:
    """The field is marked invalid and described by an error in plain words next to it."""
    from playwright.sync_api import expect
    expect(field).to_have_attribute("aria-invalid", "true", timeout=WITHIN)
    described = field.get_attribute("aria-describedby").split()[0]
    expect(page.locator(f"#{described}")).to_contain_text(words)
    expect(page.locator("#message")).to_contain_text("Not saved:")


def audit_count(rt: Any) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(ConfigAuditEntry))


@pytest.fixture
def stack(rt, live_app):
    """The app over http with support, its agents and ada; a signed Twilio client."""
    app, base = live_app
    seed_admin(rt)
    return base, SignedTwilioClient(app.test_client())


def test_board_refreshes_itself_and_a_cancelled_callback_asks_first_and_says_cancelled(
        rt, stack, browser):
    from playwright.sync_api import expect
    base, twilio = stack
    page = signed_in(browser, base)
    support = page.locator('#queue-rows tr[data-queue="support"]')
    waiting = support.locator('[data-cell="waiting"]')
    expect(waiting).to_have_text("0", timeout=WITHIN)
    twilio.post("/voice/incoming", call_form(from_="+12125550123"))
    expect(waiting).to_have_text("1", timeout=WITHIN)  # the board refreshed itself
    expect(page.locator("#board-at")).to_contain_text("EST")  # its time says its zone
    book_callback(twilio, "+12125550789")
    expect(support.locator('[data-cell="callbacks"]')).to_have_text("1", timeout=WITHIN)
    expect(waiting).to_have_text("1")  # callers on the line; the callback is counted apart

    page.goto(f"{base}/admin/callbacks?queue=support")
    row = page.locator("#callbacks tbody tr").first
    expect(row).to_contain_text("…0789")
    expect(row.locator("td.where")).to_have_text(re.compile(r"^Number \d in line$"))
    expect(page.locator("h2").first).to_contain_text("times in America/New_York")
    page.once("dialog", lambda dialog: dialog.dismiss())  # the admin thinks again
    row.get_by_role("button", name="Cancel callback").click()
    assert only_callback(rt).status == "booked"
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Cancel callback").click()
    expect(page.locator("#callbacks tbody")).to_have_text("No callbacks booked.", timeout=WITHIN)
    expect(page.locator("#message")).to_contain_text("cancelled.")
    expect(page.locator("#message")).not_to_contain_text("Saved")
    assert only_callback(rt).status == "cancelled"


def test_week_editor_refuses_a_bad_day_beside_it_copies_monday_and_warns_before_closing(
        rt, stack, browser):
    from playwright.sync_api import expect
    base, twilio = stack
    page = signed_in(browser, base)
    page.goto(f"{base}/admin/queues")
    expect(page.locator("#summary-support")).to_contain_text("open around the clock")
    monday, wednesday = page.locator("#hours-support-0"), page.locator("#hours-support-2")
    monday.fill("09:00-17:00")
    wednesday.fill("17:00-09:00")
    page.locator("#week-support").get_by_role("button", name="Save the week").click()
    expect_refused_beside(page, wednesday, "Wednesday: 17:00-09:00 must end after it starts")
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OpeningHours)) == 0

    week = page.locator("#week-support")
    week.get_by_role("button", name="Copy Monday to Tuesday–Friday").click()
    expect(wednesday).to_have_value("09:00-17:00")
    expect(page.locator("#hours-support-5")).to_have_value("")
    page.locator("#week-support").get_by_role("button", name="Save the week").click()
    expect(page.locator("#summary-support")).to_contain_text(
        "Open Monday–Friday 09:00-17:00; closed Saturday–Sunday.", timeout=WITHIN)
    expect(wednesday).not_to_have_attribute("aria-invalid", "true")

    # Monday's hours removed: the page warns, and nothing is saved until the admin says so.
    page.locator("#hours-support-0").fill("")
    page.locator("#week-support").get_by_role("button", name="Save the week").click()
    warning = page.locator("#week-support [data-week-warning]")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Saving leaves Support closed on Monday, which had hours.")
    shot(page, "admin-hours-warning")
    with rt.db.session() as s:
        assert len(queue_by_slug(s, "support").hours) == 5
    warning.get_by_role("button", name="Save anyway").click()
    expect(page.locator("#summary-support")).to_contain_text(
        "closed Monday; Tuesday–Friday 09:00-17:00", timeout=WITHIN)
    # Monday 16 Nov 2026, 10:30 in New York (the frozen clock): closed now.
    said = spoken(twiml(twilio.post("/voice/incoming", call_form(from_="+12125550456"))))
    assert "We are closed right now. We open again tomorrow at 9 AM." in said, said


def test_holiday_added_on_the_page_closes_a_queue_without_hours_and_deleting_it_asks_first(
        rt, stack, browser):
    from playwright.sync_api import expect
    base, twilio = stack
    page = signed_in(browser, base)
    page.goto(f"{base}/admin/holidays")
    form = page.locator("#add-holiday")
    form.get_by_label("Name").fill("Storm closure")
    form.get_by_role("button", name="Add holiday").click()
    expect_refused_beside(page, form.locator('input[name="starts"]'), "is not a date")
    assert audit_count(rt) == 0
    form.locator('input[name="starts"]').fill("2026-11-16")
    form.get_by_label("Closed message").fill("We are closed for the storm.")
    form.get_by_role("button", name="Add holiday").click()
    expect(page.locator("#holidays tbody tr").first).to_contain_text("Storm closure",
                                                                     timeout=WITHIN)
    expect(page.locator("#message")).to_have_text("Holiday added.")
    said = spoken(twiml(twilio.post("/voice/incoming", call_form())))
    assert "We are closed for the storm." in said and "in line" not in said, said

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#holidays").get_by_role("button", name="Delete").click()
    expect(page.locator("#holidays tbody")).to_have_text("No holidays.", timeout=WITHIN)
    expect(page.locator("#message")).to_have_text('Holiday "Storm closure" deleted.')


def test_queue_settings_and_callback_policy_refuse_bad_input_beside_the_field(
        rt, stack, browser):
    from playwright.sync_api import expect
    base, _twilio = stack
    page = signed_in(browser, base)
    page.goto(f"{base}/admin/queues")
    settings = page.locator("#settings-support")
    threshold = settings.locator('input[name="callback_threshold_seconds"]')
    threshold.fill("-5")
    settings.get_by_role("button", name="Save settings").click()
    expect_refused_beside(page, threshold, "must be at least 0")
    expect(page.locator("#message")).to_contain_text(
        "Offer a callback after a wait of (seconds): must be at least 0")
    assert audit_count(rt) == 0
    settings.locator('input[name="name"]').fill("<b>Support</b>")
    threshold.fill("90")
    settings.get_by_role("button", name="Save settings").click()
    expect_refused_beside(page, settings.locator('input[name="name"]'), "may not contain < or >")
    assert audit_count(rt) == 0

    page.goto(f"{base}/admin/callback-policy")
    policy = page.locator("#policy-support")
    offered = policy.locator('input[name="allowed_number_types"]')
    assert "PREMIUM_RATE" not in [box.get_attribute("value") for box in offered.all()]
    attempts = policy.locator('input[name="attempts"]')
    attempts.fill("0")
    policy.get_by_role("button", name="Save policy").click()
    expect_refused_beside(page, attempts, "must be at least 1")
    attempts.fill("4")
    for box in policy.locator('input[name="allowed_number_types"]').all():
        box.uncheck()
    policy.get_by_role("button", name="Save policy").click()
    expect(page.locator("#message")).to_contain_text(
        "Numbers called back: name at least one number type", timeout=WITHIN)
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CallbackPolicy)) == 0
    policy.get_by_label("Mobile", exact=True).check()
    policy.get_by_role("button", name="Save policy").click()
    expect(page.locator("#message")).to_have_text("Saved.", timeout=WITHIN)
    with rt.db.session() as s:
        saved = s.scalar(select(CallbackPolicy))
        assert (saved.attempts, saved.allowed_number_types) == (4, ["MOBILE"])


def test_agents_are_renamed_given_queues_from_a_list_and_deactivated_after_a_question(
        rt, stack, browser):
    from playwright.sync_api import expect
    base, _twilio = stack
    page = signed_in(browser, base)
    page.goto(f"{base}/admin/agents")
    alice = page.locator("#agent-alice")
    edit = alice.locator("#edit-alice")
    edit.get_by_label("Name", exact=True).fill("Alice <b>")
    edit.get_by_role("button", name="Save alice").click()
    expect_refused_beside(page, edit.get_by_label("Name", exact=True), "may not contain < or >")
    assert audit_count(rt) == 0
    edit.get_by_label("Name", exact=True).fill("Alice Cooper")
    edit.get_by_label("Sales").check()
    edit.get_by_role("button", name="Save alice").click()
    expect(page.locator("#agent-alice h3")).to_contain_text("Alice Cooper", timeout=WITHIN)
    expect(page.locator("#message")).to_have_text("alice saved.")
    expect(page.locator("#edit-alice").get_by_label("Sales")).to_be_checked()

    password = page.locator("#password-alice")
    password.get_by_label("New password").fill("short")
    password.get_by_role("button", name="Reset password").click()
    expect_refused_beside(page, password.get_by_label("New password"), "at least 8 characters")
    password.get_by_label("New password").fill("a-long-new-password")
    password.get_by_role("button", name="Reset password").click()
    expect(page.locator("#message")).to_have_text("New password set for alice.", timeout=WITHIN)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Deactivate alice").click()
    expect(page.locator("#agent-alice h3")).to_contain_text("deactivated", timeout=WITHIN)
    expect(page.locator("#message")).to_have_text("alice deactivated.")


def saved_plan(response: Any) -> bool:
    """The answer to a plan's cells being saved."""
    return response.request.method == "PUT" and response.url.endswith("/staffing") \
        and response.ok


def test_staffing_says_when_there_is_no_history_and_fills_and_copies_cells(rt, stack, browser):
    from playwright.sync_api import expect
    base, _twilio = stack
    page = signed_in(browser, base)
    page.goto(f"{base}/admin/staffing?queue=support")
    expect(page.locator("#no-history")).to_contain_text("Not enough history to forecast yet.")
    expect(page.locator("#gaps")).not_to_contain_text("covers every interval")
    cell = page.locator('input.plan[data-weekday="0"][data-start="09:00"]')
    cell.fill("-2")
    cell.press("Tab")
    expect_refused_beside(page, cell, "must be at least 0")
    fill = page.locator("#fill")
    fill.get_by_label("Day").select_option("Monday")
    fill.get_by_label("Agents").fill("3")
    with page.expect_response(saved_plan, timeout=WITHIN):
        fill.get_by_role("button", name="Fill these cells").click()
    expect(page.locator("#message")).to_have_text("Saved.", timeout=WITHIN)
    expect(page.locator('input.plan[data-weekday="0"][data-start="16:30"]')).to_have_value("3")
    copy = page.locator("#copy-day")
    with page.expect_response(saved_plan, timeout=WITHIN):
        copy.get_by_role("button", name="Copy the day's plan").click()
    expect(page.locator("#message")).to_have_text("Saved.", timeout=WITHIN)
    page.reload()
    expect(page.locator('input.plan[data-weekday="4"][data-start="09:00"]')).to_have_value("3")
    expect(page.locator('input.plan[data-weekday="5"][data-start="09:00"]')).to_have_value("")


def test_the_audit_log_reads_as_words_with_names_and_zoned_times(rt, stack, browser):
    from playwright.sync_api import expect
    base, _twilio = stack
    page = signed_in(browser, base)
    page.goto(f"{base}/admin/queues")
    settings = page.locator("#settings-support")
    settings.locator('input[name="callback_threshold_seconds"]').fill("90")
    settings.get_by_role("button", name="Save settings").click()
    expect(page.locator("#message")).to_have_text("Saved.", timeout=WITHIN)
    page.goto(f"{base}/admin/audit")
    first = page.locator("#audit tbody tr").first
    expect(first).to_contain_text("Ada Admin (ada)")
    expect(first).to_contain_text("Queue changed")
    expect(first.locator("td.thing")).to_have_text("Support")
    expect(first.locator("td.diff")).to_contain_text("offer a callback after (s): 120 → 90")
    expect(first).to_contain_text("EST")
    expect(page.locator("#audit")).not_to_contain_text("{")
    page.locator("#audit-filter").get_by_label("What").select_option("Holiday")
    page.locator("#audit-filter").get_by_role("button", name="Filter").click()
    expect(page.locator("#audit tbody")).to_have_text("No changes match this filter.")


PAGES = ("/queues", "/holidays", "/callback-policy", "/staffing", "/callbacks", "/agents",
         "/audit", "/reports?from=2026-10-19&to=2026-11-16&queue=support")


def a_line_with_history(rt: Any) -> None:
    """What the screenshots show: a week of hours, a holiday, a plan, past Tuesdays' calls
    and a few changes in the audit log."""
    from admin import config
    from admin.audit import Actor
    from models.entities import Agent
    past_tuesdays(rt)
    with rt.db.session() as s:
        ada = Actor.admin(s.scalar(select(Agent).where(Agent.username == "ada")))
        config.set_week(s, ada, "support", {d: "09:00-17:00" for d in range(5)})
        config.update_queue(s, ada, "support", {"callback_threshold_seconds": 90})
        config.add_holiday(s, ada, "Thanksgiving", "2026-11-26",
                           message="We are closed for Thanksgiving.")
        config.set_staffing_cells(s, ada, "support", [
            {"weekday": 1, "interval_start": t, "agents": 3} for t in ("09:30", "10:00")])


@pytest.mark.parametrize(("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_every_admin_page_fits_the_screen_and_is_photographed(rt, stack, browser, width,
                                                              viewport):
    base, twilio = stack
    a_line_with_history(rt)
    twilio.post("/voice/incoming", call_form(from_="+12125550123"))
    book_callback(twilio, "+12125550789")
    page = signed_in(browser, base, viewport)
    for path in PAGES:
        page.goto(f"{base}/admin{path}")
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"/admin{path} is {overflow}px wider than the {width} screen"
        shot(page, f"admin{path.split('?')[0].replace('/', '-')}-{width}")

"""The admin page for callers' data in a real Chromium: a wrong number is refused beside
its field, a number's data is exported and then erased (after a confirmation), both are
logged with the number masked, and a role's rights are changed and saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models.entities import COMPLETED, Interaction
from models.privacy import RoleAccess
from tests.system.test_admin_browser import WITHIN, seed_admin, signed_in

pytestmark = pytest.mark.browser
NUMBER = "+12125550123"


def test_admin_exports_then_erases_a_number_and_changes_a_roles_rights(rt, live_app, browser):
    from playwright.sync_api import expect
    _app, base = live_app
    seed_admin(rt)
    with rt.db.session() as s:
        now = rt.clock.now()
        s.add(Interaction(call_sid="CA" + "9" * 32, caller_number=NUMBER, status=COMPLETED,
                          created_at=now - timedelta(hours=2), ended_at=now, ivr_choices={}))
    page = signed_in(browser, base)
    page.goto(f"{base}/admin/privacy")
    field = page.get_by_label("Phone number")
    field.fill("12")
    page.get_by_role("button", name="Export (JSON)").click()
    expect(field).to_have_attribute("aria-invalid", "true", timeout=WITHIN)
    expect(page.locator("#privacy-phone-error")).to_contain_text("is not a phone number")

    field.fill("(212) 555-0123")
    page.get_by_role("button", name="Export (JSON)").click()
    expect(page.locator("#privacy-result")).to_contain_text("Export ready: 1 interaction(s)",
                                                            timeout=WITHIN)
    expect(page.get_by_role("link", name="Download the export")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Erase…").click()
    expect(page.locator("#privacy-result")).to_contain_text("Erased: ", timeout=WITHIN)
    with rt.db.session() as s:
        assert s.scalar(select(Interaction.caller_number)) is None
    page.reload()
    rows = page.locator("#privacy-requests tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("erase")
    expect(rows.nth(0)).to_contain_text("…0123")

    agents = page.locator("#role-agent")
    agents.get_by_label("may hear recordings (conversations and voicemails)").uncheck()
    agents.get_by_role("button", name="Save").click()
    expect(page.locator("#message")).to_contain_text("Saved for agents.", timeout=WITHIN)
    with rt.db.session() as s:
        row = s.get(RoleAccess, "agent")
        assert row is not None and (row.hear_recordings, row.see_numbers) == (False, True)

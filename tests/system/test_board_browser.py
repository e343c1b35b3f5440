"""The supervisor's live board in a real Chromium: a supervisor signs in, sees an agent's row
change as a call is routed to them, listens, switches to coach, barges and leaves (each reaching
Twilio's participant API), and a queue's row turns red and is announced without a reload when
a caller waits past its threshold; an agent asking for the board gets a page saying why not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from admin.audit import Actor
from admin.config import update_queue
from models.entities import Leg
from simulator.resources import ParticipantResource
from tests.conftest import SignedTwilioClient
from tests.console_helpers import PASSWORD, seed_people
from tests.helpers import call_form, make_available

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
WITHIN = 7000  # ms: pushed at once; the clock's own effects are fetched every 5 s


def sign_in(browser: Any, base: str, username: str, path: str) -> Any:
    """A fresh browser page signed in as `username`, sent on to `path`."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{base}{path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    return page


def routed_and_answered(rt: Any, twilio: Any, worker: Any, twilio_api: Any,
                        agent_id: int) -> tuple[dict, Leg]:
    """A caller rings, the agent is rung and answers; the call's conference is live at Twilio."""
    form = call_form(from_="+12125550123")
    twilio.post("/voice/incoming", form)
    worker()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == agent_id))
        s.expunge(leg)
    twilio.post(f"/voice/agent/whisper?leg={leg.id}", call_form(sid=leg.call_sid))
    worker()
    room = twilio_api.store.ensure_conference("AC" + "0" * 32, f"hl-{leg.interaction_id}")
    for sid in (form["CallSid"], leg.call_sid):
        twilio_api.store.put_participant(ParticipantResource(sid, room.sid, room.account_sid,
                                                             {}, "connected"))
    return form, leg


def test_a_supervisor_watches_a_call_being_routed_then_listens_coaches_barges_and_leaves(
        rt, live_app, browser, worker, twilio_api):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    people = seed_people(rt)

    sam = sign_in(browser, base, "sam", "/board")
    sam.wait_for_url(f"{base}/board")
    alice_row = sam.locator(f'#agent-rows tr[data-agent="{people["alice"]}"]')
    expect(alice_row.locator('[data-cell="state"]')).to_have_text("offline", timeout=WITHIN)
    make_available(rt, people["alice"])
    expect(alice_row.locator('[data-cell="state"]')).to_have_text("available", timeout=WITHIN)

    _form, leg = routed_and_answered(rt, twilio, worker, twilio_api, people["alice"])
    expect(alice_row.locator('[data-cell="state"]')).to_have_text("busy", timeout=WITHIN)
    expect(alice_row.locator('[data-cell="queue"]')).to_have_text("Support")
    expect(alice_row.locator('[data-cell="caller"]')).to_have_text("…0123")

    alice_row.get_by_role("button", name="Listen").click()
    expect(sam.locator("#message")).to_have_text("Listening.", timeout=WITHIN)
    worker()
    [join] = twilio_api.requests("participant-create")
    assert (join.field("To"), join.field("Muted"), join.field("Coaching")) == (
        "client:sam", "true", "false")
    expect(sam.locator("#monitoring")).to_have_text(
        "Listening to Alice Agent's call with …0123.", timeout=WITHIN)
    expect(alice_row.get_by_role("button", name="Listen")).to_have_attribute(
        "aria-pressed", "true")
    expect(alice_row.locator('[data-cell="supervisors"]')).to_have_text("Sam Agent (listen)")
    DOCS.mkdir(exist_ok=True)
    sam.screenshot(path=str(DOCS / "board-supervisor-listening.png"), full_page=True)

    alice_row.get_by_role("button", name="Coach").click()
    expect(sam.locator("#monitoring")).to_contain_text("Coaching on", timeout=WITHIN)
    worker()
    coach = twilio_api.requests("participant-update")[-1]
    assert (coach.field("Coaching"), coach.field("CallSidToCoach")) == ("true", leg.call_sid)

    alice_row.get_by_role("button", name="Barge").click()
    expect(sam.locator("#monitoring")).to_contain_text("In Alice Agent's call", timeout=WITHIN)
    worker()
    barge = twilio_api.requests("participant-update")[-1]
    assert (barge.field("Muted"), barge.field("Coaching")) == ("false", "false")

    sam.click("#leave")
    expect(sam.locator("#monitoring")).to_have_text("You are on no call.", timeout=WITHIN)
    worker()
    assert len(twilio_api.requests("participant-delete")) == 1
    expect(alice_row.locator('[data-cell="supervisors"]')).to_have_text("—", timeout=WITHIN)


def test_a_queue_row_turns_red_and_is_announced_without_a_reload_and_agents_are_refused(
        rt, live_app, browser, frozen_clock):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    people = seed_people(rt)
    make_available(rt, people["sam"])  # signed in, serving no queue
    with rt.db.session() as s:
        update_queue(s, Actor(None, "test"), "support", {"alert_oldest_wait_seconds": 60})

    sam = sign_in(browser, base, "sam", "/board")
    sam.wait_for_url(f"{base}/board")
    support = sam.locator('#queue-rows tr[data-queue="support"]')
    expect(support.locator('[data-cell="estimate"]')).to_have_text("no agent signed in",
                                                                   timeout=WITHIN)
    sam.evaluate("window.boardLoadedOnce = true")  # gone if the page reloads
    twilio.post("/voice/incoming", call_form(from_="+12125550123"))
    expect(support.locator('[data-cell="waiting"]')).to_have_text("1", timeout=WITHIN)
    expect(support).not_to_have_class("alarm")
    frozen_clock.advance(61)  # the caller has now waited past the queue's 60 s threshold
    expect(support).to_have_class("alarm", timeout=WITHIN)
    expect(sam.locator("#alarms")).to_have_text("Support: a caller has waited over 1 min 0 s")
    assert sam.locator("#alarms").get_attribute("aria-live") == "assertive"
    assert sam.evaluate("window.boardLoadedOnce") is True  # no reload
    sam.screenshot(path=str(DOCS / "board-supervisor-alarm.png"), full_page=True)

    alice = sign_in(browser, base, "alice", "/board")
    expect(alice.locator("h1")).to_have_text("You do not have access to this page",
                                             timeout=WITHIN)
    expect(alice.locator("#error-detail")).to_contain_text(
        "The live board is for supervisors and administrators.")

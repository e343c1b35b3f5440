"""The console's recording control in a real Chromium: a recorded conversation shows as
recording, the agent pauses and resumes it with one button, and each press reaches Twilio."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from models.entities import Queue
from models.privacy import RECORDING_ANNOUNCE
from simulator.resources import CallResource
from tests.conftest import SignedTwilioClient
from tests.console_helpers import seed_people
from tests.helpers import call_form
from tests.system.test_console_browser import WITHIN, answer, sign_in

pytestmark = pytest.mark.browser


def _updates(twilio_api: Any) -> list[str | None]:
    return [r.field("Status") for r in twilio_api.requests("call-recording-update")]


def test_agent_pauses_and_resumes_the_recording_from_the_console(
        rt, live_app, browser, worker, twilio_api):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    people = seed_people(rt)
    with rt.db.session() as s:
        s.scalar(select(Queue).where(Queue.slug == "support")).recording_mode = \
            RECORDING_ANNOUNCE
    alice = sign_in(browser, base, "alice")
    alice.click("#go-available")
    expect(alice.locator("#state")).to_have_text("available", timeout=WITHIN)
    caller = call_form(from_="+12125550123")
    twilio.post("/voice/incoming", caller)
    answer(rt, twilio, worker, people["alice"])
    expect(alice.locator("#recording-status")).to_have_text(
        "Will be recorded once connected.", timeout=WITHIN)
    expect(alice.locator("#recording-toggle")).to_be_hidden()

    twilio_api.store.add_call(CallResource(caller["CallSid"], rt.settings.twilio_account_sid,
                                           caller["To"], caller["From"], "inbound",
                                           "in-progress"))
    interaction = alice.evaluate("fetch('/api/me/current').then(r => r.json())")["interaction"]
    twilio.post(f"/voice/conference/events?interaction={interaction['id']}", {
        "CallSid": caller["CallSid"], "StatusCallbackEvent": "participant-join",
        "ConferenceSid": "CF" + "2" * 32, "AccountSid": caller["AccountSid"]})
    worker()
    toggle = alice.get_by_role("button", name="Pause recording")
    expect(toggle).to_be_visible(timeout=WITHIN)
    expect(alice.locator("#recording-status")).to_have_text("Recording.")

    toggle.click()
    expect(alice.get_by_role("button", name="Resume recording")).to_be_visible(timeout=WITHIN)
    expect(alice.locator("#recording-status")).to_have_text("Recording paused.")
    worker()
    alice.get_by_role("button", name="Resume recording").click()
    expect(alice.get_by_role("button", name="Pause recording")).to_be_visible(timeout=WITHIN)
    worker()
    assert _updates(twilio_api) == ["paused", "in-progress"]

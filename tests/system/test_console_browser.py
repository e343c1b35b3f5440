"""The agent console in a real Chromium: sign in, take a routed call with its context, write a
note that survives a closed page, warm-transfer to a colleague who sees everything, and send
the caller back to a queue at their original place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models.entities import Caller, Leg
from queueing import lines
from simulator.resources import ParticipantResource
from tests.conftest import PUBLIC_BASE, SignedTwilioClient
from tests.console_helpers import PASSWORD, seed_people
from tests.helpers import call_form, spoken, twiml

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
WITHIN = 2000  # ms: the console must show changes within 2 s


def sign_in(browser: Any, base: str, username: str) -> Any:
    """A fresh browser context signed in as `username`, on the console."""
    page = browser.new_context(viewport={"width": 1100, "height": 1300}).new_page()
    page.goto(f"{base}/console")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/console")
    return page


def leg_of(rt: Any, agent_id: int) -> Leg:
    """The agent's newest leg."""
    with rt.db.session() as s:
        return s.scalar(select(Leg).where(Leg.agent_id == agent_id).order_by(Leg.id.desc()))


def answer(rt: Any, twilio: Any, worker: Any, agent_id: int) -> str:
    """The agent's phone rang (a job); they answer and hear the whisper. Returns what it said."""
    worker()
    leg = leg_of(rt, agent_id)
    said = spoken(twiml(twilio.post(f"/voice/agent/whisper?leg={leg.id}",
                                    call_form(sid=leg.call_sid))))
    worker()
    return said


def test_console_takes_a_call_writes_a_note_and_transfers_with_context(
        rt, live_app, browser, worker, twilio_api):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    people = seed_people(rt)
    with rt.db.session() as s:
        s.add(Caller(number="+12125550123", name="Grace Hopper", account_ref="ACC-42"))

    alice = sign_in(browser, base, "alice")
    alice.click("#go-available")
    expect(alice.locator("#state")).to_have_text("available", timeout=WITHIN)
    bob = sign_in(browser, base, "bob")
    bob.click("#go-available")
    expect(bob.locator("#state")).to_have_text("available", timeout=WITHIN)

    caller = call_form(from_="+12125550123")
    twilio.post("/voice/incoming", caller)
    assert "Grace Hopper" in answer(rt, twilio, worker, people["alice"])
    expect(alice.locator("#caller-name")).to_have_text("Grace Hopper", timeout=WITHIN)
    expect(alice.locator("#caller-number")).to_have_text("…0123")
    expect(alice.locator("#account-ref")).to_have_text("ACC-42")

    alice.fill("#note-draft", "Wants a refund for order 7")
    expect(alice.locator("#draft-status")).to_contain_text("Saved", timeout=WITHIN)
    alice.context.pages[0].close()  # the page is closed; the draft must survive
    alice = alice.context.new_page()
    alice.goto(f"{base}/console")
    expect(alice.locator("#note-draft")).to_have_value("Wants a refund for order 7",
                                                       timeout=WITHIN)

    # a placeholder, the colleagues (available ones first) and the queues; none preselected
    expect(alice.locator("#transfer-target option")).to_have_count(5, timeout=6000)
    assert alice.locator("#transfer-target").input_value() == ""
    sam_option = alice.locator(f"#transfer-target option[value='agent:{people['sam']}']")
    expect(sam_option).to_be_disabled()  # sam is offline: he cannot take the call now
    alice.fill("#transfer-reason", "billing question")
    alice.click("#transfer")
    expect(alice.locator("#transfer-error")).to_have_text("Choose who takes the call.")
    alice.select_option("#transfer-target", f"agent:{people['bob']}")
    alice.select_option("#transfer-mode", "warm")
    alice.fill("#transfer-reason", "billing question")
    alice.click("#transfer")
    expect(alice.locator("#message")).to_have_text("Transfer started.", timeout=WITHIN)
    whisper = answer(rt, twilio, worker, people["bob"])
    assert "Transfer from Alice Agent. Reason: billing question." in whisper

    expect(bob.locator("#caller-name")).to_have_text("Grace Hopper", timeout=WITHIN)
    expect(bob.locator("#notes")).to_contain_text("Alice Agent", timeout=WITHIN)
    expect(bob.locator("#notes")).to_contain_text("Wants a refund for order 7")
    expect(bob.locator("#legs")).to_contain_text("warm transfer · billing question")
    expect(alice.locator("#legs")).to_contain_text("Bob Agent · warm transfer", timeout=WITHIN)
    expect(alice.locator("#notes")).to_contain_text("Wants a refund for order 7")
    expect(alice.locator("#note-draft")).to_have_value("")
    ARTIFACTS.mkdir(exist_ok=True)
    alice.screenshot(path=str(ARTIFACTS / "console-alice.png"), full_page=True)
    bob.screenshot(path=str(ARTIFACTS / "console-bob.png"), full_page=True)

    later = call_form(from_="+12125550777")
    twilio.post("/voice/incoming", later)  # joins the line after Grace did
    bob.select_option("#transfer-target", "queue:support")
    bob.select_option("#transfer-mode", "cold")
    bob.fill("#transfer-reason", "needs support")
    bob.click("#transfer")
    expect(bob.locator("#message")).to_have_text("Transfer started.", timeout=WITHIN)
    assert [e.call_sid for e in lines.waiting(rt.live, "support")] == [
        caller["CallSid"], later["CallSid"]]
    worker()
    back = twiml(twilio.post("/voice/rejoin", caller))
    assert "You are next in line." in spoken(back)
    expect(bob.locator("#legs")).to_contain_text("sent back to the queue · needs support",
                                                 timeout=WITHIN)
    bob.screenshot(path=str(ARTIFACTS / "console-bob-after-cold-transfer.png"), full_page=True)


def test_agent_escalates_in_the_browser_and_the_supervisor_console_shows_context_and_reason(
        rt, live_app, browser, worker, twilio_api):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    people = seed_people(rt)
    with rt.db.session() as s:
        s.add(Caller(number="+12125550123", name="Grace Hopper", account_ref="ACC-42"))
    alice = sign_in(browser, base, "alice")
    alice.click("#go-available")
    expect(alice.locator("#state")).to_have_text("available", timeout=WITHIN)
    sam = sign_in(browser, base, "sam")  # the supervisor on duty
    sam.click("#go-available")
    expect(sam.locator("#state")).to_have_text("available", timeout=WITHIN)

    caller = call_form(from_="+12125550123")
    twilio.post("/voice/incoming", caller)
    answer(rt, twilio, worker, people["alice"])
    expect(alice.locator("#caller-name")).to_have_text("Grace Hopper", timeout=WITHIN)
    conference = f"hl-{leg_of(rt, people['alice']).interaction_id}"
    room = twilio_api.store.ensure_conference("AC" + "0" * 32, conference)
    twilio_api.store.put_participant(ParticipantResource(caller["CallSid"], room.sid,
                                                         room.account_sid))
    alice.fill("#note-draft", "Threatens to cancel the contract")
    expect(alice.locator("#draft-status")).to_contain_text("Saved", timeout=WITHIN)
    alice.fill("#transfer-reason", "wants a supervisor")
    alice.click("#escalate")
    expect(alice.locator("#message")).to_have_text("Escalating to a supervisor.", timeout=WITHIN)

    worker()  # the caller is held (hearing a notice), the supervisor is rung
    hold = twilio_api.requests("participant-update")[-1]
    assert hold.field("Hold") == "true"
    held = twiml(twilio.post(hold.field("HoldUrl").removeprefix(PUBLIC_BASE), caller))
    assert [child.tag for child in held][:2] == ["Say", "Play"]  # a notice before any music
    assert "supervisor" in spoken(held)
    whisper = answer(rt, twilio, worker, people["sam"])
    assert "Transfer from Alice Agent. Reason: wants a supervisor." in whisper

    expect(sam.locator("#caller-name")).to_have_text("Grace Hopper", timeout=WITHIN)
    expect(sam.locator("#account-ref")).to_have_text("ACC-42")
    expect(sam.locator("#notes")).to_contain_text("Threatens to cancel the contract")
    expect(sam.locator("#legs")).to_contain_text("escalated to a supervisor · wants a supervisor")
    expect(sam.locator("#callback")).to_have_text("—")
    expect(sam.locator("#callback-history")).to_have_text("none")
    expect(sam.locator("#survey")).to_have_text("none")
    ARTIFACTS.mkdir(exist_ok=True)
    sam.screenshot(path=str(ARTIFACTS / "console-supervisor-escalation.png"), full_page=True)


def _alice_answers_while_bob_is_free(rt: Any, base: str, browser: Any, worker: Any,
                                     twilio: Any) -> tuple[dict[str, int], Any, dict[str, str],
                                                           Leg]:
    """Alice and Bob are available in their pages and Alice answers a caller. Returns
    (the people, Alice's page, the caller's form, her leg)."""
    from playwright.sync_api import expect
    people = seed_people(rt)
    alice = sign_in(browser, base, "alice")
    alice.click("#go-available")
    expect(alice.locator("#state")).to_have_text("available", timeout=WITHIN)
    bob = sign_in(browser, base, "bob")
    bob.click("#go-available")
    expect(bob.locator("#state")).to_have_text("available", timeout=WITHIN)
    caller = call_form(from_="+12125550123")
    twilio.post("/voice/incoming", caller)
    answer(rt, twilio, worker, people["alice"])
    first = leg_of(rt, people["alice"])
    return people, alice, caller, first


def _warm_transfer_to_bob(alice: Any, people: dict[str, int]) -> None:
    """Alice starts a warm transfer of her caller to Bob from her page."""
    from playwright.sync_api import expect
    expect(alice.locator(f"#transfer-target option[value='agent:{people['bob']}']")
           ).to_be_enabled(timeout=6000)
    alice.select_option("#transfer-target", f"agent:{people['bob']}")
    alice.select_option("#transfer-mode", "warm")
    alice.fill("#transfer-reason", "billing question")
    alice.click("#transfer")


def test_warm_transfer_buttons_show_a_refusal_beside_them_then_complete_the_transfer(
        rt, live_app, browser, worker, twilio_api):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    people, alice, caller, first = _alice_answers_while_bob_is_free(rt, base, browser, worker,
                                                                   twilio)
    expect(alice.locator("#transfer-form")).to_be_visible(timeout=WITHIN)
    expect(alice.locator("#warm-controls")).to_be_hidden()

    _warm_transfer_to_bob(alice, people)
    expect(alice.locator("#message")).to_have_text("Transfer started.", timeout=WITHIN)
    expect(alice.locator("#warm-controls")).to_be_visible()
    interaction_id = first.interaction_id
    room = twilio_api.store.ensure_conference("AC" + "0" * 32, f"hl-{interaction_id}")
    for sid in (caller["CallSid"], first.call_sid):
        twilio_api.store.put_participant(ParticipantResource(sid, room.sid, room.account_sid))
    worker()  # Bob's phone rings; he has not answered

    alice.click("#warm-three-way")
    expect(alice.locator("#transfer-error")).to_have_text(
        "your colleague has not answered yet: wait, or cancel", timeout=WITHIN)
    bob_leg = leg_of(rt, people["bob"])
    twilio.post(f"/voice/agent/whisper?leg={bob_leg.id}", call_form(sid=bob_leg.call_sid))
    twilio_api.store.put_participant(
        ParticipantResource(bob_leg.call_sid, room.sid, room.account_sid))
    worker()
    assert twilio_api.requests("participant-update")[-1].field("Hold") == "true"

    alice.click("#warm-complete")
    expect(alice.locator("#message")).to_have_text(
        "Transfer completed: the caller is with your colleague.", timeout=WITHIN)
    expect(alice.locator("#transfer-error")).to_have_text("")
    expect(alice.locator("#warm-controls")).to_be_hidden()
    worker()
    removed = twilio_api.requests("participant-delete")
    assert [r.path.rsplit("/", 1)[-1] for r in removed] == [f"{first.call_sid}.json"]
    unhold = twilio_api.requests("participant-update")[-1]
    assert unhold.path.endswith(f"/Participants/{caller['CallSid']}.json")
    assert unhold.field("Hold") == "false"


def test_signing_out_in_the_page_takes_the_agent_offline_so_nothing_is_routed_to_them(
        rt, live_app, browser, worker, twilio_api):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    people = seed_people(rt)
    alice = sign_in(browser, base, "alice")
    alice.click("#go-available")
    expect(alice.locator("#state")).to_have_text("available", timeout=WITHIN)
    alice.click("#sign-out")
    alice.wait_for_url(f"{base}/sign-in*")
    assert rt.presence.state(people["alice"]) == "offline"
    twilio.post("/voice/incoming", call_form(from_="+12125550123"))
    worker()
    assert leg_of(rt, people["alice"]) is None  # the caller waits; alice's phone never rang



def _alice_consults_bob(rt: Any, base: str, browser: Any, worker: Any,
                        twilio_api: Any, twilio: Any) -> tuple[Any, Leg, Leg]:
    """Alice warm-transfers her caller to Bob from her console and Bob answers: the caller is
    held while they talk. Returns (Alice's page, her leg, Bob's leg)."""
    from playwright.sync_api import expect
    people, alice, caller, first = _alice_answers_while_bob_is_free(rt, base, browser, worker,
                                                                   twilio)
    _warm_transfer_to_bob(alice, people)
    expect(alice.locator("#warm-controls")).to_be_visible(timeout=WITHIN)
    room = twilio_api.store.ensure_conference("AC" + "0" * 32, f"hl-{first.interaction_id}")
    for sid in (caller["CallSid"], first.call_sid):
        twilio_api.store.put_participant(ParticipantResource(sid, room.sid, room.account_sid))
    worker()  # Bob's phone rings
    bob_leg = leg_of(rt, people["bob"])
    twilio.post(f"/voice/agent/whisper?leg={bob_leg.id}", call_form(sid=bob_leg.call_sid))
    twilio_api.store.put_participant(
        ParticipantResource(bob_leg.call_sid, room.sid, room.account_sid))
    worker()
    return alice, first, bob_leg


def test_warm_transfer_buttons_come_back_after_a_reload_mid_consultation_and_complete_it(
        rt, live_app, browser, worker, twilio_api):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    alice, first, _bob_leg = _alice_consults_bob(rt, base, browser, worker, twilio_api, twilio)

    alice.reload()  # the page forgets what was clicked; the server's record brings it back
    expect(alice.locator("#warm-controls")).to_be_visible(timeout=WITHIN)
    expect(alice.locator("#warm-status")).to_contain_text("Consulting Bob Agent since")
    alice.click("#warm-complete")
    expect(alice.locator("#message")).to_have_text(
        "Transfer completed: the caller is with your colleague.", timeout=WITHIN)
    expect(alice.locator("#warm-controls")).to_be_hidden()
    worker()
    removed = twilio_api.requests("participant-delete")
    assert [r.path.rsplit("/", 1)[-1] for r in removed] == [f"{first.call_sid}.json"]
    assert twilio_api.requests("participant-update")[-1].field("Hold") == "false"


def test_warm_transfer_buttons_go_from_the_page_when_the_colleague_hangs_up(
        rt, live_app, browser, worker, twilio_api):
    from playwright.sync_api import expect
    app, base = live_app
    twilio = SignedTwilioClient(app.test_client())
    alice, _first, bob_leg = _alice_consults_bob(rt, base, browser, worker, twilio_api, twilio)
    expect(alice.locator("#warm-status")).to_contain_text("Consulting Bob Agent since",
                                                          timeout=WITHIN)

    twilio.post(f"/voice/status/agent?leg={bob_leg.id}",
                call_form(sid=bob_leg.call_sid, CallStatus="completed"))
    expect(alice.locator("#warm-controls")).to_be_hidden(timeout=WITHIN)  # pushed, no reload
    expect(alice.locator("#transfer-form")).to_be_visible()  # still with the caller

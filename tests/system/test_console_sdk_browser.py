"""The production phone path in Chromium: the console drives Twilio's Voice SDK through its
documented events, played here by a fake served in place of the bundle (offline, the real
SDK cannot reach Twilio). Events and methods as documented:
https://twilio.github.io/twilio-voice.js/enums/Device.EventName.html (registered, error,
incoming, tokenWillExpire), https://www.twilio.com/docs/voice/sdks/javascript/twiliocall
(accept, reject, disconnect, mute, sendDigits; events accept, disconnect, cancel, reject)."""

from __future__ import annotations

import jwt
import pytest

from tests.conftest import SignedTwilioClient
from tests.console_helpers import route_call_to, seed_people

pytestmark = pytest.mark.browser

WITHIN = 30_000
SECRET = "s" * 32

FAKE_SDK = """
(function () {
  class Emitter {
    constructor() { this.handlers = {}; }
    on(name, fn) { (this.handlers[name] = this.handlers[name] || []).push(fn); return this; }
    emit(name, ...args) { (this.handlers[name] || []).forEach((fn) => fn(...args)); }
  }
  class Call extends Emitter {
    constructor(parameters) { super(); this.parameters = parameters; this.log = []; }
    accept() { this.log.push("accept"); this.emit("accept", this); }
    reject() { this.log.push("reject"); this.emit("reject"); }
    disconnect() { this.log.push("disconnect"); this.emit("disconnect", this); }
    mute(muted) { this.log.push("mute:" + muted); }
    sendDigits(keys) { this.log.push("digits:" + keys); }
  }
  class Device extends Emitter {
    constructor(token, options) { super(); this.token = token; this.renewed = [];
      window.fake.devices.push(this); }
    register() { setTimeout(() => this.emit("registered"), 0); return Promise.resolve(); }
    updateToken(token) { this.token = token; this.renewed.push(token); }
  }
  window.fake = { devices: [], Call };
  window.Twilio = { Device, Call };
})();
"""


def console_with_fake_sdk(browser, base):
    """Alice's console, the SDK bundle replaced by the fake, her device registered."""
    from playwright.sync_api import expect
    context = browser.new_context(viewport={"width": 1100, "height": 1300})
    context.route("**/console/vendor/twilio.min.js",
                  lambda route: route.fulfill(body=FAKE_SDK, content_type="text/javascript"))
    page = context.new_page()
    page.goto(f"{base}/console")
    page.fill("#username", "alice")
    from tests.console_helpers import PASSWORD
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/console")
    expect(page.locator("#phone-status")).to_have_text("Phone ready (alice).", timeout=WITHIN)
    return page


@pytest.fixture
def browser_calling(rt):
    """Browser calling configured with Twilio's SDK (no stand-in phone)."""
    rt.settings = rt.settings.with_overrides({
        "twilio_api_key_sid": "SK" + "1" * 32, "twilio_api_key_secret": SECRET,
        "twilio_twiml_app_sid": "AP" + "2" * 32, "demo_phone_url": ""})
    return rt


def test_the_page_renews_its_token_when_the_sdk_says_it_will_expire(
        browser_calling, live_app, browser):
    from playwright.sync_api import expect
    _app, base = live_app
    seed_people(browser_calling)
    page = console_with_fake_sdk(browser, base)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/voice-token" in r.url else None)
    page.evaluate("window.fake.devices[0].emit('tokenWillExpire', window.fake.devices[0])")
    expect(page.locator("#phone-status")).to_have_text("Phone ready (access renewed).",
                                                       timeout=WITHIN)
    renewed = page.evaluate("window.fake.devices[0].renewed")
    assert len(renewed) == 1 and len(asked) == 1  # a fresh token fetched, handed to the SDK
    claims = jwt.decode(renewed[0], SECRET, algorithms=["HS256"])
    assert claims["grants"]["identity"] == "alice"
    assert claims["grants"]["voice"]["incoming"]["allow"] is True


def test_an_incoming_sdk_call_is_offered_accepted_muted_keyed_and_hung_up(
        browser_calling, live_app, browser, worker, twilio_api):
    from playwright.sync_api import expect
    app, base = live_app
    people = seed_people(browser_calling)
    page = console_with_fake_sdk(browser, base)
    twilio = SignedTwilioClient(app.test_client())
    route_call_to(browser_calling, twilio, worker, people["alice"])
    page.evaluate("""window.call = new window.fake.Call({CallSid: 'CA1', From: 'client:x'});
                     window.fake.devices[0].emit('incoming', window.call)""")
    expect(page.locator("#offer")).to_be_visible(timeout=WITHIN)
    page.click("#phone-accept")
    expect(page.locator("#in-call")).to_be_visible(timeout=WITHIN)
    page.click("#phone-mute")
    page.click("#keypad .key[data-key='7']")
    page.click("#phone-hangup")
    expect(page.locator("#in-call")).to_be_hidden(timeout=WITHIN)
    assert page.evaluate("window.call.log") == ["accept", "mute:true", "digits:7", "disconnect"]
    page.evaluate("""window.other = new window.fake.Call({CallSid: 'CA2', From: 'client:y'});
                     window.fake.devices[0].emit('incoming', window.other)""")
    expect(page.locator("#offer")).to_be_visible(timeout=WITHIN)
    page.evaluate("window.other.emit('cancel')")
    expect(page.locator("#offer")).to_be_hidden(timeout=WITHIN)
    expect(page.locator("#phone-status")).to_have_text("The call was withdrawn.")


def test_a_device_error_takes_the_agent_offline_with_the_reason_shown(
        browser_calling, live_app, browser):
    from playwright.sync_api import expect
    _app, base = live_app
    people = seed_people(browser_calling)
    page = console_with_fake_sdk(browser, base)
    page.click("#go-available")
    expect(page.locator("#state")).to_have_text("available", timeout=WITHIN)
    page.evaluate("""window.fake.devices[0].emit('error',
                       {code: 31208, message: 'microphone permission denied'})""")
    expect(page.locator("#state")).to_have_text("offline", timeout=WITHIN)
    expect(page.locator("#offline-reason")).to_have_text(
        "Taken offline: your phone stopped working: microphone permission denied")
    assert browser_calling.presence.state(people["alice"]) == "offline"

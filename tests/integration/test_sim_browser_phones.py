"""A page's phone on the stand-in's network (simulator/browser_phones.py), without a
browser: what the page would do over HTTP, done by calling BrowserPhones directly."""

from __future__ import annotations

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from simulator.browser_phones import BrowserPhones
from tests.integration.test_sim_engine import ACCOUNT, OUR_NUMBER, Stack, app_server, stack

__all__ = ["app_server", "stack"]  # the engine tests' fixtures, used here too
SECRET = "browser-phone-test-secret-0123456789abcdef"


def alice_at_a_page(stack: Stack) -> tuple[BrowserPhones, str]:
    """Alice's page registered with a Voice access token, as the console does."""
    token = AccessToken(ACCOUNT, "SK" + "1" * 32, SECRET, identity="alice", ttl=3600)
    token.add_grant(VoiceGrant(incoming_allow=True))
    phones = BrowserPhones(stack.network, SECRET, stack.base_url)
    return phones, phones.register(token.to_jwt()).id


def test_a_page_that_never_answers_rings_out_after_the_calls_timeout_not_twice_as_long(
        stack: Stack) -> None:
    phones, device = alice_at_a_page(stack)
    began = stack.network.clock.now()
    created = stack.client.calls.create(to="client:alice", from_=OUR_NUMBER, timeout=20,
                                        url=f"{stack.base_url}/voice/agent?room=x",
                                        status_callback=f"{stack.base_url}/voice/status")
    call = stack.network.call(created.sid)
    call.wait_ended()
    rang = stack.network.clock.now() - began
    assert call.status == "no-answer"
    assert 20 <= rang < 25, f"rang {rang:.1f} virtual s for a Timeout of 20"
    assert [e["type"] for e in phones.events(device, 0, wait=0)] == [
        "registered", "incoming", "cancel"]


def test_a_page_that_rejects_ends_the_call_busy_at_once(stack: Stack) -> None:
    phones, device = alice_at_a_page(stack)
    created = stack.client.calls.create(to="client:alice", from_=OUR_NUMBER, timeout=20,
                                        url=f"{stack.base_url}/voice/agent?room=x")
    stack.network.wait_for_call(lambda c: c.sid == created.sid and c.status == "ringing")
    began = stack.network.clock.now()
    phones.events(device, 1, wait=5)  # the page hears it ring
    phones.act(device, created.sid, "reject")
    call = stack.network.call(created.sid)
    call.wait_ended()
    assert call.status == "busy"
    assert stack.network.clock.now() - began < 20  # not left to ring out

"""The number's Fallback URL answer (ivr.fallback): one more try of our failed webhook, never
a call sent elsewhere, never a second retry."""

from __future__ import annotations

import pytest

from ivr.fallback import fallback_answer, retry_url

BASE = "https://holdless.test"


def test_fallback_retries_our_failed_webhook_once_keeping_its_query():
    assert retry_url(BASE, f"{BASE}/voice/hold/key?q=support") == (
        f"{BASE}/voice/hold/key?q=support&fallback=1")


@pytest.mark.parametrize("error_url", [
    "https://elsewhere.example/voice/incoming",      # not ours: never send a call elsewhere
    "http://holdless.test/voice/incoming",           # not the scheme Twilio was given
    f"{BASE}/voice/incoming?fallback=1",             # the retry failed too
    f"{BASE}/voice/status",                          # a status callback takes no TwiML
    f"{BASE}/voice/fallback",
    f"{BASE}/admin/queues",
    "",
])
def test_fallback_says_goodbye_when_a_retry_is_not_ours_to_make(error_url):
    assert retry_url(BASE, error_url) is None
    answer = str(fallback_answer(BASE, error_url))
    assert "<Hangup" in answer and "call again" in answer and "<Redirect" not in answer

"""A conference's waitUrl may name an audio file: the network plays it, as Twilio does."""

from __future__ import annotations

from tests.test_sim_engine import (  # noqa: F401 - fixtures used by name
    Stack,
    app_server,
    caller_waiting_in_billing,
    stack,
)

MUSIC = "http://music.example.invalid/hold/BusyStrings.mp3"


def test_audio_wait_url_is_played_while_the_conference_has_not_started(stack: Stack) -> None:
    caller = caller_waiting_in_billing(stack)
    stack.client.calls(caller.sid).update(twiml=(
        '<Response><Dial><Conference startConferenceOnEnter="false" '
        f'waitUrl="{MUSIC}" waitMethod="GET">room-9</Conference></Dial></Response>'))
    caller.wait_until(lambda c: len(c.events("play")) >= 2 and ("play", MUSIC) in c.events())
    assert caller.errors == []
    assert caller.joined_conference == "room-9"

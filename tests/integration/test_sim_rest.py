"""The REST stand-in answers twilio-python as Twilio would, and records what it was asked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from simulator import TwilioRestStandIn

ACCOUNT = "AC" + "1" * 32
TOKEN = "rest-test-token"


@pytest.fixture
def standin() -> Iterator[TwilioRestStandIn]:
    with TwilioRestStandIn(account_sid=ACCOUNT, auth_token=TOKEN) as server:
        yield server


@pytest.fixture
def client(standin: TwilioRestStandIn) -> Iterator[Client]:
    twilio = Client(ACCOUNT, TOKEN)
    twilio.api.base_url = standin.base_url
    yield twilio
    session = getattr(twilio.http_client, "session", None)
    if session is not None:
        session.close()


def test_call_create_returns_a_ca_sid_and_records_every_form_field(
    standin: TwilioRestStandIn, client: Client
) -> None:
    call = client.calls.create(
        to="client:alice", from_="+15550000000", url="http://app.example/voice/agent",
        status_callback="http://app.example/voice/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        machine_detection="Enable", timeout=20,
    )
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert call.to == "client:alice" and call.status == "queued"
    recorded = standin.calls_created()
    assert len(recorded) == 1
    form = recorded[0].form
    assert form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert form["MachineDetection"] == ["Enable"] and form["Timeout"] == ["20"]
    assert recorded[0].field("Url") == "http://app.example/voice/agent"


def test_call_update_of_a_known_call_is_recorded_and_an_unknown_sid_is_404_20404(
    standin: TwilioRestStandIn, client: Client
) -> None:
    call = client.calls.create(to="+15551230001", from_="+15550000000",
                               twiml="<Response><Hangup/></Response>")
    updated = client.calls(call.sid).update(url="http://app.example/next", method="POST")
    assert updated.sid == call.sid
    assert standin.requests("call-update")[0].field("Url") == "http://app.example/next"
    with pytest.raises(TwilioRestException) as raised:
        client.calls("CA" + "0" * 32).update(status="completed")
    assert raised.value.status == 404 and raised.value.code == 20404


def test_redirecting_a_finished_call_is_refused_with_21220(
    standin: TwilioRestStandIn, client: Client
) -> None:
    call = client.calls.create(to="+15551230001", from_="+15550000000", url="http://x/y")
    standin.store.update_call(call.sid, status="completed")
    with pytest.raises(TwilioRestException) as raised:
        client.calls(call.sid).update(url="http://x/z")
    assert raised.value.code == 21220


def test_call_create_without_url_or_twiml_is_rejected_like_twilio(client: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.calls.create(to="+15551230001", from_="+15550000000")
    assert raised.value.status == 400 and raised.value.code == 21205


def test_messages_create_returns_sm_sid_and_is_listed(
    standin: TwilioRestStandIn, client: Client
) -> None:
    message = client.messages.create(to="+15551230001", from_="+15550000000",
                                     body="We will call you back at 3pm.")
    assert message.sid.startswith("SM") and message.body == "We will call you back at 3pm."
    assert [m.body for m in standin.messages()] == ["We will call you back at 3pm."]
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to="+15551230001", from_="+15550000000", body="")
    assert raised.value.code == 21602


def test_participants_can_be_created_updated_and_conferences_listed_by_name(
    standin: TwilioRestStandIn, client: Client
) -> None:
    participant = client.conferences("room-42").participants.create(
        from_="+15550000000", to="client:bob", end_conference_on_exit=True)
    assert participant.call_sid.startswith("CA") and participant.end_conference_on_exit
    found = client.conferences.list(friendly_name="room-42")
    assert [c.friendly_name for c in found] == ["room-42"]
    assert found[0].sid == participant.conference_sid
    held = client.conferences(found[0].sid).participants(participant.call_sid).update(hold=True)
    assert held.hold is True
    assert standin.requests("participant-update")[0].field("Hold") == "true"


def test_unknown_paths_get_twilio_shaped_404_and_are_recorded(
    standin: TwilioRestStandIn,
) -> None:
    members = f"/2010-04-01/Accounts/{ACCOUNT}/Queues/QU{'0' * 32}/Members.json"  # not served
    reply = requests.get(f"{standin.base_url}{members}", auth=(ACCOUNT, TOKEN), timeout=5)
    with reply:
        assert reply.status_code == 404
        assert reply.json()["code"] == 20404 and reply.json()["status"] == 404
    assert standin.requests()[-1].kind == "unknown"


def test_wrong_credentials_are_refused_with_20003(standin: TwilioRestStandIn) -> None:
    wrong = Client(ACCOUNT, "not-the-token")
    wrong.api.base_url = standin.base_url
    try:
        with pytest.raises(TwilioRestException) as raised:
            wrong.messages.create(to="+15551230001", from_="+15550000000", body="hi")
    finally:
        wrong.http_client.session.close()  # type: ignore[attr-defined]
    assert raised.value.status == 401 and raised.value.code == 20003


def test_wait_for_returns_the_matching_request_or_times_out(
    standin: TwilioRestStandIn, client: Client
) -> None:
    client.messages.create(to="+15551230001", from_="+15550000000", body="first")
    found = standin.wait_for(lambda r: r.field("Body") == "first", timeout=1)
    assert found.kind == "message-create"
    with pytest.raises(TimeoutError):
        standin.wait_for(lambda r: r.field("Body") == "never", timeout=0.05)


def test_call_list_filters_by_to_status_and_start_day_newest_first_across_pages(
    standin: TwilioRestStandIn, client: Client
) -> None:
    from datetime import UTC, datetime, timedelta

    from simulator.resources import CallResource, new_sid
    now = datetime.now(UTC)
    for i in range(55):  # more than one page of 50
        standin.store.add_call(CallResource(new_sid("CA"), ACCOUNT, "client:alice", "+1555",
                                            "outbound-api", status="ringing",
                                            created=now - timedelta(seconds=i)))
    queued = standin.store.add_call(CallResource(new_sid("CA"), ACCOUNT, "client:alice",
                                                 "+1555", "outbound-api"))
    old = standin.store.add_call(CallResource(new_sid("CA"), ACCOUNT, "client:alice", "+1555",
                                              "outbound-api", status="completed",
                                              created=now - timedelta(days=2)))
    standin.store.add_call(CallResource(new_sid("CA"), ACCOUNT, "client:bob", "+1555",
                                        "outbound-api", status="ringing"))
    alice = client.calls.list(to="client:alice")
    assert len(alice) == 57 and len(standin.requests("call-list")) == 2  # two pages
    assert alice[0].sid == queued.sid and alice[-1].sid == old.sid  # newest first
    today = client.calls.list(to="client:alice", start_time_after=now - timedelta(hours=1))
    # whole UTC days, as Twilio documents; a queued call has no start time yet
    assert old.sid not in {c.sid for c in today} and queued.sid not in {c.sid for c in today}
    assert [c.sid for c in client.calls.list(to="client:alice", status="queued")] == [
        queued.sid]
    assert client.calls(queued.sid).fetch().start_time is None
    assert client.calls(old.sid).fetch().end_time is not None

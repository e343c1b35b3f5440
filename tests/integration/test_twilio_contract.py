"""The contract check has teeth on real traffic: a request through the app's Twilio client
carrying a parameter Twilio does not document is reported by the stand-in, and the suite's
check fails the test naming the operation and the field."""

from __future__ import annotations

import pytest

from holdless.settings import Settings
from holdless.twilio_gateway import TwilioGateway
from simulator import contract
from simulator.rest import TwilioRestStandIn
from tests.conftest import fail_on_contract_problems

# Twilio's Call resource has no RingTone parameter (RingTone belongs to TwiML <Dial>).
UNDOCUMENTED_FIELD = "RingTone"


def _create_call(gateway: TwilioGateway, standin: TwilioRestStandIn, **extra: str) -> None:
    account = gateway.client.account_sid
    gateway.client.request(
        "POST", f"{standin.base_url}/2010-04-01/Accounts/{account}/Calls.json",
        data={"To": "+15551230000", "From": "+15551230001", "Url": "https://x.test/a",
              **extra})


def test_a_parameter_twilio_does_not_document_fails_the_test_naming_operation_and_field(
        settings: Settings, twilio_api: TwilioRestStandIn) -> None:
    gateway = TwilioGateway(settings)
    _create_call(gateway, twilio_api, **{UNDOCUMENTED_FIELD: "uk"})
    with pytest.raises(pytest.fail.Exception) as failed:
        fail_on_contract_problems()
    assert "CreateCall: form parameter 'RingTone' is not documented by Twilio" in str(
        failed.value)
    assert twilio_api.requests("call-create"), "Twilio (and the stand-in) still answer"


def test_documented_parameters_sent_by_the_gateway_pass_the_check(
        settings: Settings, twilio_api: TwilioRestStandIn) -> None:
    gateway = TwilioGateway(settings)
    gateway.dial("+15551230000", "https://x.test/a", "https://x.test/s",
                 amd_callback="https://x.test/amd")
    gateway.send_sms("+15551230000", "hello", "https://x.test/sms-status")
    assert contract.PROBLEMS.drain() == []

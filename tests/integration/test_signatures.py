"""Every Twilio webhook checks X-Twilio-Signature and fails closed."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from queueing import lines
from tests.conftest import PUBLIC_BASE
from tests.helpers import call_form, seed_queues

WEBHOOKS = ["/voice/incoming", "/voice/menu", "/voice/hold", "/voice/hold/key",
            "/voice/queue-exit", "/voice/rejoin", "/voice/conference/caller",
            "/voice/agent/whisper?leg=1", "/voice/status/agent?leg=1", "/voice/status"]


@pytest.mark.parametrize("path", WEBHOOKS)
def test_unsigned_request_is_refused_with_403(client, rt, path):
    assert client.post(path, data=call_form()).status_code == 403


def test_request_signed_with_another_token_is_refused_and_changes_nothing(client, rt):
    seed_queues(rt, ("support", "Support", None))
    form = call_form()
    signature = RequestValidator("some-other-token").compute_signature(
        PUBLIC_BASE + "/voice/incoming", form)
    resp = client.post("/voice/incoming", data=form, headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 403
    assert lines.length(rt.live, "support") == 0


def test_signature_over_a_different_url_is_refused(client, rt):
    form = call_form()
    signature = RequestValidator("test-auth-token-0123456789abcdef").compute_signature(
        "https://evil.example/voice/incoming", form)
    resp = client.post("/voice/incoming", data=form, headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 403


def test_tampered_form_field_is_refused(client, rt):
    form = call_form()
    signature = RequestValidator("test-auth-token-0123456789abcdef").compute_signature(
        PUBLIC_BASE + "/voice/incoming", form)
    resp = client.post("/voice/incoming", data={**form, "From": "+19005550100"},
                       headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 403


def test_correctly_signed_request_is_accepted(twilio, rt):
    seed_queues(rt, ("support", "Support", None))
    assert twilio.post("/voice/incoming", call_form()).status_code == 200


def test_missing_auth_token_refuses_even_a_signed_request(app, rt):
    app.config["HOLDLESS"] = app.config["HOLDLESS"].with_overrides({"twilio_auth_token": ""})
    form = call_form()
    signature = RequestValidator("").compute_signature(PUBLIC_BASE + "/voice/incoming", form)
    resp = app.test_client().post("/voice/incoming", data=form,
                                  headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 403


def test_behind_proxies_the_forwarded_url_is_the_one_checked(rt, settings):
    from entrypoints.web import create_app
    app = create_app({"env": "testing", "database_url": settings.database_url,
                      "redis_url": settings.redis_url, "public_base_url": "",
                      "proxy_count": 1, "twilio_auth_token": "tok"})
    seed_queues(rt, ("support", "Support", None))
    form = call_form()
    url = "https://calls.example.com/voice/incoming"
    signature = RequestValidator("tok").compute_signature(url, form)
    headers = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "calls.example.com", "X-Forwarded-For": "54.1.2.3"}
    assert app.test_client().post("/voice/incoming", data=form, headers=headers).status_code == 200
    app.extensions["holdless"].close()


def test_production_without_auth_token_refuses_to_start(settings):
    from entrypoints.web import create_app
    from holdless.settings import SettingsError
    with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN"):
        create_app({"env": "production", "twilio_auth_token": "", "secret_key": "x",
                    "public_base_url": "https://x"})

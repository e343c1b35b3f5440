"""TWILIO_CALLER_ID: the number every call and text comes from.

Its default is Twilio's magic test number +15005550006, which only test credentials accept
(www.twilio.com/docs/iam/test-credentials); a live account refuses it (error 21210). So
production refuses to start without a real number, and the number set is the one Twilio sees.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from entrypoints.runtime import Runtime
from holdless.settings import Settings, SettingsError

PRODUCTION = {"env": "production", "twilio_auth_token": "tok", "secret_key": "x",
              "public_base_url": "https://calls.example.com"}
OUR_NUMBER = "+12125550100"


def test_production_web_app_refuses_to_start_on_twilios_test_caller_id(settings):
    from entrypoints.web import create_app
    with pytest.raises(SettingsError, match="TWILIO_CALLER_ID"):
        create_app({**PRODUCTION, "database_url": settings.database_url,
                    "redis_url": settings.redis_url})


@pytest.mark.parametrize("number", ["", "5550100", "+15005550001"])
def test_production_refuses_a_caller_id_that_is_not_an_account_number(number):
    with pytest.raises(SettingsError, match="TWILIO_CALLER_ID"):
        Settings(**PRODUCTION, twilio_caller_id=number).check()


def test_production_accepts_a_real_caller_id():
    Settings(**PRODUCTION, twilio_caller_id=OUR_NUMBER).check()


def test_production_worker_refuses_to_start_without_a_real_caller_id(settings, tmp_path):
    env = {**os.environ, "HOLDLESS_ENV": "production", "TWILIO_AUTH_TOKEN": "tok",
           "SECRET_KEY": "x", "PUBLIC_BASE_URL": "https://calls.example.com",
           "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "HOLDLESS_INSTANCE_PATH": str(tmp_path), "PYTHONPATH": os.getcwd()}
    env.pop("TWILIO_CALLER_ID", None)
    done = subprocess.run([sys.executable, "-c", "from entrypoints import runtime; runtime.get()"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "TWILIO_CALLER_ID" in done.stderr


def test_calls_and_texts_come_from_the_caller_id_set(settings, twilio_api, frozen_clock):
    rt = Runtime(Settings(**{**settings.__dict__, "twilio_caller_id": OUR_NUMBER}))
    try:
        rt.gateway.dial("+12125550199", "https://holdless.test/x", "https://holdless.test/s")
        rt.gateway.send_sms("+12125550199", "hello", "https://holdless.test/sms/status")
    finally:
        rt.close()
    assert twilio_api.calls_created()[-1].field("From") == OUR_NUMBER
    assert twilio_api.messages()[-1].from_ == OUR_NUMBER

"""The console serves Twilio's Voice SDK exactly as the lock file names it: npm ci installed
the version package-lock.json pins (checking its integrity), and the app serves that
installed bundle byte for byte, from itself, never from a CDN."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.views import SDK_BUNDLE
from tests.console_helpers import Desk, seed_people

ROOT = Path(__file__).resolve().parents[2]


def locked_version() -> str:
    """The @twilio/voice-sdk version package-lock.json pins."""
    lock = json.loads((ROOT / "package-lock.json").read_text())
    return lock["packages"]["node_modules/@twilio/voice-sdk"]["version"]


def test_the_lock_file_pins_the_sdk_package_json_asks_for_and_names_no_registry_address():
    wanted = json.loads((ROOT / "package.json").read_text())["dependencies"]
    assert wanted == {"@twilio/voice-sdk": locked_version()}
    assert '"resolved"' not in (ROOT / "package-lock.json").read_text()


def test_the_served_sdk_bundle_is_the_one_the_lock_file_names(rt, app):
    if not SDK_BUNDLE.exists():
        pytest.skip("npm ci has not run here (make sdk; CI runs it): no SDK to serve")
    installed = json.loads((SDK_BUNDLE.parents[1] / "package.json").read_text())
    assert installed["version"] == locked_version()
    seed_people(rt)
    served = Desk(app, "alice").get("/console/vendor/twilio.min.js")
    body = served.data
    served.close()
    assert served.status_code == 200
    assert body == SDK_BUNDLE.read_bytes()
    assert locked_version().encode() in body
    page = Desk(app, "alice").get("/console").get_data(as_text=True)
    assert 'src="/console/vendor/twilio.min.js"' in page

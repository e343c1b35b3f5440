"""The agent API against its own OpenAPI document: generated requests (valid and not) from a
signed-in agent never cause a server error, and every answer matches what is described."""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.console_helpers import Desk, route_call_to, seed_people
from webhooks.openapi import document

SCHEMA = schemathesis.openapi.from_dict(document())
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]


@pytest.mark.slow
def test_generated_requests_never_500_and_answers_match_the_document(rt, app, twilio, worker):
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    rt.settings = rt.settings.with_overrides({  # browser calling configured
        "twilio_api_key_sid": "SK" + "1" * 32, "twilio_api_key_secret": "s" * 32,
        "twilio_twiml_app_sid": "AP" + "2" * 32})
    alice = Desk(app, "alice")
    session = alice.client.get_cookie("session").value
    SCHEMA.app = app
    seen: set[tuple[str, int]] = set()
    for result in SCHEMA.get_all_operations():
        if result.ok().label == "GET /api/me/events":
            continue  # a stream that never ends: tests/integration/test_push.py covers it
        _fuzz(result.ok(), session, alice.token, seen, interaction.id)
    assert ("GET /api/me/current", 200) in seen
    # Generated note text is often refused (NUL characters, length): the fuzz proves no 500
    # and a documented answer; a plain draft proves the endpoint still saves after it.
    draft = alice.send("PUT", f"/api/interactions/{interaction.id}/notes/draft",
                       {"text": "still here after the fuzz"})
    assert draft.status_code == 200


def _fuzz(operation, session, token, seen, interaction_id):
    """Generated requests for one operation, each checked against the document; every other
    one aimed at the real interaction, so the 200 answers are always exercised."""
    aim = itertools.cycle([True, False])

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        case.cookies = {**(case.cookies or {}), "session": session}
        if "interaction_id" in (case.path_parameters or {}) and next(aim):
            case.path_parameters["interaction_id"] = interaction_id
        response = case.call(headers={"X-CSRFToken": token}, base_url="http://localhost")
        seen.add((operation.label, response.status_code))
        case.validate_response(response, checks=CHECKS)

    run()

"""The admin API against its OpenAPI document: generated requests (valid and not) from a
signed-in administrator never cause a server error, and every answer matches the document."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from admin import directory
from tests.console_helpers import PASSWORD, Desk, seed_people
from webhooks.admin_openapi import admin_paths
from webhooks.openapi import document

CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]


@pytest.mark.slow
def test_generated_admin_requests_never_500_and_answers_match_the_document(rt, app):
    seed_people(rt)
    with rt.db.session() as s:
        directory.create_agent(s, "Ada Admin", "ada", "client:ada", [], "admin", PASSWORD)
    schema = schemathesis.openapi.from_dict({**document(), "paths": admin_paths()})
    ada = Desk(app, "ada")
    session = ada.client.get_cookie("session").value
    schema.app = app
    seen: set[tuple[str, int]] = set()
    for result in schema.get_all_operations():
        if result.ok().label == "GET /api/board/events":
            continue  # a stream that lasts minutes: test_board_push covers it
        _fuzz(result.ok(), session, ada.token, seen)
    assert ("GET /api/admin/queues/{slug}/staffing", 200) in seen
    assert ("PATCH /api/admin/queues/{slug}", 400) in seen
    assert ("PUT /api/admin/queues/{slug}/hours", 400) in seen


def _fuzz(operation, session, token, seen):
    """Generated requests for one operation, each checked against the document."""

    @settings(max_examples=20, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        case.cookies = {**(case.cookies or {}), "session": session}
        if case.path_parameters and "slug" in case.path_parameters:
            case.path_parameters["slug"] = "support"  # a real queue, so bodies get checked
        response = case.call(headers={"X-CSRFToken": token}, base_url="http://localhost")
        seen.add((operation.label, response.status_code))
        case.validate_response(response, checks=CHECKS)

    run()

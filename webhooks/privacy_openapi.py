"""The OpenAPI description of the routes about callers' data: conversation recordings
(pause, resume, listen), and the administrators' export, erasure and role rights."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
ERROR = {"$ref": "#/components/schemas/Error"}


def _reply(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"description": description}
    if schema is not None:
        reply["content"] = {JSON: {"schema": schema}}
    return reply


def _errors(**meanings: str) -> dict[str, Any]:
    return {code.removeprefix("e"): _reply(text, ERROR) for code, text in meanings.items()}


def _path(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": schema}
    if description:
        param["description"] = description
    return param


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "additionalProperties": True}


CHANGES = "Requires the X-CSRFToken header (the page's csrf-token meta)."
NUMBER = _path("number", {"type": "string", "maxLength": 32},
               "the phone number, E.164 preferred (+12125550123)")
ADMIN_ERRORS = _errors(e400="not a phone number, or missing CSRF token",
                       e401="not signed in", e403="not an administrator")


def recording_paths() -> dict[str, Any]:
    """The agent's routes about conversation recordings."""
    action = {"type": "object", "required": ["action"], "additionalProperties": True,
              "properties": {"action": {"type": "string", "enum": ["pause", "resume"]}}}
    return {
        "/api/interactions/{interaction_id}/recording": {"post": {
            "summary": "Pause or resume the interaction's running recording", "description":
            CHANGES, "parameters": [_path("interaction_id", ID)],
            "requestBody": {"required": True, "content": {JSON: {"schema": action}}},
            "responses": {"200": _reply("the recording's new status",
                                        _obj(id={"type": "integer"}, status={"type": "string"})),
                          **_errors(e400="action missing or not pause/resume",
                                    e401="not signed in", e403="not your interaction",
                                    e404="no such interaction",
                                    e409="no recording is running")}}},
        "/api/recordings/{recording_id}/media": {"get": {
            "summary": "A conversation recording's audio (MP3), fetched from Twilio with the "
                       "account's credentials; each listen is audited",
            "parameters": [_path("recording_id", ID)],
            "responses": {"200": {"description": "the recording", "content": {"audio/mpeg": {
                "schema": {"type": "string", "format": "binary"}}}},
                **_errors(e401="not signed in",
                          e403="not your interaction, or your role may not hear recordings",
                          e404="no such recording",
                          e502="Twilio did not give the recording")}}},
    }


def privacy_paths() -> dict[str, Any]:
    """The administrators' routes about callers' data."""
    rights = _obj(hear_recordings={"type": "boolean"}, see_numbers={"type": "boolean"})
    role = _path("role", {"type": "string", "enum": ["agent", "supervisor", "admin"]})
    return {
        "/api/admin/privacy/numbers/{number}/export": {"get": {
            "summary": "Everything held about a number, as JSON (audited)",
            "parameters": [NUMBER], "responses": {"200": _reply("the export", _obj()),
                                                  **ADMIN_ERRORS}}},
        "/api/admin/privacy/numbers/{number}/erase": {"post": {
            "summary": "Erase everything held about a number (audited; safe to repeat)",
            "description": CHANGES, "parameters": [NUMBER],
            "responses": {"200": _reply("what was erased, by kind", _obj()), **ADMIN_ERRORS,
                          **_errors(e409="the person is on a call now (the detail says why)",
                                    e502="Twilio could not delete a recording; nothing "
                                         "marked erased that is not")}}},
        "/api/admin/privacy/requests": {"get": {
            "summary": "Exports and erasures, newest first (numbers masked)",
            "responses": {"200": _reply("the requests", _obj()), **ADMIN_ERRORS}}},
        "/api/admin/privacy/roles": {"get": {
            "summary": "What each role may do with callers' data",
            "responses": {"200": _reply("rights per role", _obj()), **ADMIN_ERRORS}}},
        "/api/admin/privacy/roles/{role}": {"patch": {
            "summary": "Change what a role may do: hear recordings, see full numbers (audited)",
            "description": CHANGES, "parameters": [role],
            "requestBody": {"required": True, "content": {JSON: {"schema": rights}}},
            "responses": {"200": _reply("the role's rights", rights), **ADMIN_ERRORS}}},
    }

"""The OpenAPI 3 description of the agent API (hand-written; tests keep it in step with
the routes)."""

from __future__ import annotations

from typing import Any

from models.console import DISPOSITIONS
from webhooks.admin_openapi import admin_paths
from webhooks.privacy_openapi import privacy_paths, recording_paths

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _reply(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"description": description}
    if schema is not None:
        reply["content"] = {JSON: {"schema": schema}}
    return reply


def _errors(*codes: int) -> dict[str, Any]:
    meaning = {400: "invalid input (the detail names the field) or missing CSRF token",
               401: "not signed in", 403: "not your interaction", 404: "no such interaction",
               409: "not possible in the current state", 503: "not configured"}
    return {str(c): _reply(meaning[c], _ref("Error")) for c in codes}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props,
            "additionalProperties": True}


ID_PARAM = {"name": "interaction_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
REVEAL_PARAM = {"name": "reveal", "in": "query", "required": False,
                "description": "1 shows the caller's full number (audited)",
                "schema": {"type": "string", "enum": ["0", "1"]}}
STR = {"type": "string"}
NOTE_TEXT = {"type": "string", "maxLength": 5000}
MISSED_OFFER = _obj(["id", "why", "offline", "misses"], id=STR, why=STR,
                    offline={"type": "boolean"}, misses={"type": "integer"})


def _op(summary: str, responses: dict[str, Any], *, body: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None, changes: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = _body(body)
    if params:
        op["parameters"] = params
    if changes:
        op["description"] = "Requires the X-CSRFToken header (the page's csrf-token meta)."
    return op


def _paths() -> dict[str, Any]:
    ctx = _ref("Interaction")
    state_body = _obj(["state"], state={"type": "string", "enum": [
        "available", "offline", "not-ready"]}, reason={
        "type": "string", "maxLength": 60,
        "description": "with not-ready: one of not_ready_reasons (/api/me/current)"})
    transfer_body = _obj(
        ["mode", "reason"], to_agent_id={"type": "integer"}, to_queue=STR,
        mode={"type": "string", "enum": ["warm", "cold"]}, reason={"type": "string",
                                                                     "maxLength": 500})
    return {**_my_paths(ctx, state_body), **_interaction_paths(ctx, transfer_body),
            **_caller_paths()}


def _caller_paths() -> dict[str, Any]:
    caller = _ref("Caller")
    number = {"name": "number", "in": "path", "required": True,
              "description": "the phone number, E.164 preferred (+12125550123)",
              "schema": {"type": "string", "maxLength": 32}}
    body = _obj([], name={"type": "string", "maxLength": 120},
                account_ref={"type": "string", "maxLength": 60},
                vip={"type": "boolean", "description": "served ahead where the queue gives "
                     "a priority bonus; left as it is when absent"})
    errors = {**_errors(400, 401), "403": _reply("not an administrator", _ref("Error")),
              "404": _reply("not a number path", _ref("Error"))}
    op = _op("Attach a name, account reference and VIP flag to a number (administrators; "
             "audited)",
             {"200": _reply("updated", caller), "201": _reply("created", caller), **errors},
             body=body, params=[number], changes=True)
    return {"/api/callers/{number}": {"put": op}}


# My warm transfer being consulted (its buttons shown from this on load and on updates).
WARM_IN_PROGRESS = {
    "description": "my warm transfer in progress: I may cancel, complete or make it three-way "
                   "(POST /api/interactions/{interaction_id}/transfer/warm)",
    **_obj(["transfer_id", "to_agent_id", "to", "since", "answered"],
           transfer_id={"type": "integer"}, to_agent_id={"type": "integer"},
           to={"type": "string", "description": "the colleague's name"},
           since={"type": "string", "format": "date-time"},
           answered={"type": "boolean", "description": "the colleague has answered"})}


def _my_paths(ctx: dict[str, Any], state_body: dict[str, Any]) -> dict[str, Any]:
    return {
        "/api/openapi.json": {"get": _op("This document", {"200": _reply("OpenAPI 3")})},
        "/api/me": {"get": _op("Who I am", {"200": _reply("me", _ref("Me")), **_errors(401)})},
        "/api/me/state": {"post": _op(
            "Go available or offline (available also ends wrap-up)",
            {"200": _reply("new state", _obj(["state"], state=STR)), **_errors(400, 401, 409)},
            body=state_body, changes=True)},
        "/api/me/current": {"get": _op(
            "The interaction routed to me now, with its context",
            {"200": _reply("state and interaction (null when none)", _obj(
                ["state", "interaction"], state=STR, offline_reason=STR,
                not_ready_reason=STR, not_ready_reasons={"type": "array", "items": STR},
                wrap_up_seconds_left={"type": ["number", "null"]},
                interaction={"oneOf": [ctx, {"type": "null"}]},
                warm_transfer={"oneOf": [WARM_IN_PROGRESS, {"type": "null"}]},
                missed_offer={"oneOf": [MISSED_OFFER, {"type": "null"}],
                              "description": "my last missed offer of the past minutes"})),
             **_errors(400, 401)},
            params=[REVEAL_PARAM])},
        "/api/me/events": {"get": _op(
            "Live updates for my console (text/event-stream): each `data:` line is JSON "
            "{topic, data}; topics: changed (fetch /api/me/current again), presence "
            "({id, state} of a colleague), missed-offer ({id, why, offline, misses}: an "
            "offer of mine ended unanswered or rejected; also in /api/me/current), resync "
            "(fetch everything again)",
            {"200": {"description": "the stream", "content": {"text/event-stream": {
                "schema": STR}}}, **_errors(400, 401, 403, 404),
             "503": _reply("this server serves its most live pages; retry", _ref("Error"))},
            params=[{"name": "interaction", "in": "query", "required": False,
                     "description": "the interaction on screen (its changes come too)",
                     "schema": {"type": "integer", "minimum": 1}}])},
        "/api/directory": {"get": _op(
            "Colleagues (with live state) and queues to transfer to",
            {"200": _reply("directory", _obj(["agents", "queues"], agents={"type": "array"},
                                             queues={"type": "array"})), **_errors(401)})},
        "/api/me/phone-failed": {"post": _op(
            "My browser phone stopped working: I go offline with the reason shown",
            {"200": _reply("my new state", _obj(["state"], state=STR)), **_errors(400, 401)},
            body=_obj(["reason"], reason={"type": "string", "maxLength": 500}), changes=True)},
        "/api/voice-token": {"get": _op(
            "A Twilio Voice access token for my client identity, and which phone uses it",
            {"200": _reply("token", _obj(
                ["token", "identity", "ttl", "phone"], token=STR, identity=STR,
                ttl={"type": "integer"}, phone={"type": "string", "enum": ["twilio", "stand-in"]},
                stand_in_url={"type": ["string", "null"]})),
             **_errors(401, 409, 503)})},
        "/api/callbacks/{callback_id}/recording": {"get": _op(
            "A callback's message (MP3), fetched from Twilio with the account's credentials;"
            " each play is audited",
            {"200": {"description": "the recording", "content": {"audio/mpeg": {
                "schema": {"type": "string", "format": "binary"}}}},
             **_errors(400, 401, 403, 404),
             "502": _reply("Twilio did not give the recording", _ref("Error"))},
            params=[{"name": "callback_id", "in": "path", "required": True,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
                    {"name": "via", "in": "query", "required": True,
                     "description": "the interaction I am viewing (the callback's own call, "
                                    "or another call of the same number)",
                     "schema": {"type": "integer", "minimum": 1,
                                "maximum": 2**31 - 1}}])},
    }


WARM_ACTION = {"type": "string", "enum": ["cancel", "complete", "three-way"]}


def _interaction_paths(ctx: dict[str, Any], transfer_body: dict[str, Any]) -> dict[str, Any]:
    accepted = _reply("started", _obj(["transfer_id"], transfer_id={"type": "integer"}))
    # An escalation either starts at once (transfer_id) or waits for the next free supervisor
    # (transfer_id null, waiting, the wait's id and the deadline of its return to the agent).
    escalated = _reply("started, or waiting for a supervisor", _obj(
        ["transfer_id"], transfer_id={"type": ["integer", "null"]},
        waiting={"type": "boolean"}, escalation_id={"type": "integer"},
        deadline={"type": "string", "format": "date-time"}))
    return {
        "/api/interactions/{interaction_id}": {"get": _op(
            "One interaction I am on now or handled recently",
            {"200": _reply("context", ctx), **_errors(400, 401, 403, 404)},
            params=[ID_PARAM, REVEAL_PARAM])},
        "/api/interactions/{interaction_id}/notes/draft": {"put": _op(
            "Autosave my draft note (one per agent per interaction)",
            {"200": _reply("saved", _obj(["id"], id={"type": "integer"})),
             **_errors(400, 401, 403, 404)},
            body=_obj(["text"], text=NOTE_TEXT), params=[ID_PARAM], changes=True)},
        "/api/interactions/{interaction_id}/notes": {"post": _op(
            "Add a final note (my draft becomes it)",
            {"201": _reply("added", _obj(["id"], id={"type": "integer"})),
             **_errors(400, 401, 403, 404)},
            body=_obj(["text"], text=NOTE_TEXT), params=[ID_PARAM], changes=True)},
        "/api/interactions/{interaction_id}/flag-difficult": {"post": _op(
            "Flag the caller as difficult (difficult=false unflags)",
            {"200": _reply("flag", _obj(["difficult"], difficult={"type": "boolean"})),
             **_errors(400, 401, 403, 404, 409)},
            body=_obj([], difficult={"type": "boolean"}), params=[ID_PARAM], changes=True)},
        "/api/interactions/{interaction_id}/hold": {"post": _op(
            "Put the caller on hold in the call's conference (hold=false takes them off)",
            {"202": _reply("asked of Twilio", _obj(["hold"], hold={"type": "boolean"})),
             **_errors(400, 401, 403, 404, 409)},
            body=_obj(["hold"], hold={"type": "boolean"}), params=[ID_PARAM], changes=True)},
        "/api/interactions/{interaction_id}/wrap-up": {"post": _op(
            "Disposition and closing note; ends my wrap-up",
            {"200": _reply("my new state", _obj(["state"], state=STR)),
             **_errors(400, 401, 403, 404, 409)},
            body=_obj(["disposition"], disposition={"type": "string",
                                                    "enum": list(DISPOSITIONS)},
                      note=NOTE_TEXT), params=[ID_PARAM], changes=True)},
        "/api/interactions/{interaction_id}/transfer": {"post": _op(
            "Transfer to an agent (warm or cold) or to a queue (cold, keeps the place)",
            {"202": accepted, **_errors(400, 401, 403, 404, 409)},
            body=transfer_body, params=[ID_PARAM], changes=True)},
        "/api/interactions/{interaction_id}/transfer/warm": {"post": _op(
            "While my warm transfer's colleague is consulted (the caller held): cancel it "
            "(the caller back with me), complete it (I leave) or make it three-way",
            {"202": _reply("asked of Twilio", _obj(["action"], action=WARM_ACTION)),
             **_errors(400, 401, 403, 404, 409)},
            body=_obj(["action"], action=WARM_ACTION), params=[ID_PARAM], changes=True)},
        "/api/interactions/{interaction_id}/escalate": {"post": _op(
            "Warm-transfer to an available supervisor, or hold the caller for the next one "
            "(waiting, with the deadline after which the caller comes back to you)",
            {"202": escalated, **_errors(400, 401, 403, 404, 409)},
            body=_obj(["reason"], reason={"type": "string", "maxLength": 500}),
            params=[ID_PARAM], changes=True)},
    }


def _schemas() -> dict[str, Any]:
    nullable_str = {"type": ["string", "null"]}
    return {
        "Error": _obj(["error", "detail"], error=STR, detail=STR),
        "Me": _obj(["id", "username", "name", "role", "state", "queues"],
                   id={"type": "integer"}, username=STR, name=STR, role=STR, state=STR,
                   queues={"type": "array", "items": STR}, offline_reason=STR),
        **_callback_schemas(nullable_str),
        "Interaction": _obj(
            ["id", "status", "caller", "notes", "legs", "transfers", "history"],
            id={"type": "integer"}, phase=nullable_str, status=STR, kind=STR,
            queue={"type": ["object", "null"], "description": "slug, name, time_zone"},
            time_zone={"type": "string", "description":
                       "IANA zone the call's times are shown in: its queue's, else the line's"},
            caller=_obj(["name", "number"], name=STR, number=nullable_str, account_ref=STR,
                        difficult={"type": "boolean"}, revealed={"type": "boolean"}),
            ivr_choices={"type": "object"}, waited_seconds={"type": "number"},
            callback={"oneOf": [_ref("CallbackSummary"), {"type": "null"}]},
            history={"type": "array", "description": "earlier calls, each with the "
                     "time_zone its times are shown in"}, my_draft=STR,
            callback_history={"type": "array", "items": _ref("CallbackHistory")},
            notes={"type": "array", "items": _obj(
                ["author", "text", "created_at"], author=STR, text=STR,
                draft={"type": "boolean"}, created_at=STR)},
            legs={"type": "array", "items": _obj(
                ["kind", "started_at"], agent=nullable_str, kind=STR, reason=STR,
                started_at=STR, answered_at=nullable_str, ended_at=nullable_str)},
            transfers={"type": "array"}, wrap_up={"type": ["object", "null"]},
            survey={"type": "array", "items": _ref("SurveyAnswer")},
            dispositions={"type": "array", "items": STR}),
    }


ZONE = {"type": "string", "description": "IANA zone its times are shown in (its queue's)"}


def _callback_schemas(nullable_str: dict[str, Any]) -> dict[str, Any]:
    integer = {"type": "integer"}
    return {
        "CallbackSummary": _obj(
            ["reference", "status", "attempt", "max_attempts"], id=integer, reference=STR,
            status=STR, queue=STR, time_zone=ZONE, requested_at=nullable_str, attempt=integer,
            max_attempts=integer, on_attempt_now={"type": "boolean"},
            recording_url=nullable_str),
        "Caller": _obj(["number", "name", "account_ref"], id=integer, number=STR, name=STR,
                       account_ref=STR, difficult={"type": "boolean"},
                       vip={"type": "boolean"}),
        "SurveyAnswer": _obj(
            ["question", "answer"], question={"type": "string", "enum": ["solved", "rating"]},
            answer={"type": "integer", "minimum": 1, "maximum": 5}, agent=nullable_str,
            agent_id={"type": ["integer", "null"]}, at=STR),
        "CallbackHistory": _obj(
            ["reference", "status", "attempts"], id=integer, reference=STR, queue=STR,
            time_zone=ZONE, status=STR, requested_at=nullable_str,
            interaction_id={"type": ["integer", "null"]},
            max_attempts=integer, recording_url=nullable_str,
            attempts={"type": "array", "items": _obj(
                ["number", "outcome"], number=integer, started_at=nullable_str,
                agent=nullable_str, outcome=STR)}),
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Holdless agent API", "version": "1",
                 "description": "Session-cookie auth (sign in at /sign-in). State-changing "
                                "requests need the X-CSRFToken header."},
        "paths": {**_paths(), **admin_paths(), **recording_paths(), **privacy_paths()},
        "components": {"schemas": _schemas(), "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
        "security": [{"session": []}],
    }

"""The OpenAPI 3 paths of the administrator's API (/api/admin), merged into the document
served at /api/openapi.json (tests keep it in step with the routes)."""

from __future__ import annotations

from typing import Any

from queueing.limits import MAX_OVERFLOW_AFTER_SECONDS, MAX_PRIORITY_BONUS_SECONDS

JSON = "application/json"
STR = {"type": "string"}
INT = {"type": "integer"}
OBJ = {"type": "object"}
ARRAY = {"type": "array"}
ERROR = {"$ref": "#/components/schemas/Error"}
TAG = ["admin"]


def _reply(description: str, schema: dict[str, Any] | None = None,
           media: str = JSON) -> dict[str, Any]:
    reply: dict[str, Any] = {"description": description}
    if schema is not None:
        reply["content"] = {media: {"schema": schema}}
    return reply


def _errors(*codes: int) -> dict[str, Any]:
    meaning = {400: "invalid input (detail and field name the field) or missing CSRF token",
               401: "not signed in", 403: "not an administrator (the board: not a supervisor)",
               409: "the call is not connected, or you are on another call",
               503: "too many live pages on this server: retry shortly",
               404: "no such queue, holiday, callback or agent"}
    return {str(c): _reply(meaning[c], ERROR) for c in (401, 403, *codes)}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props,
            "additionalProperties": True}


def _param(name: str, schema: dict[str, Any], where: str = "path",
           required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema}


SLUG = _param("slug", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"})
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
DAY = _param("day", {"type": "string", "format": "date"})
QUEUE_QUERY = _param("queue", STR, "query", required=False)


def _op(summary: str, ok: dict[str, Any], *codes: int, body: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None, status: str = "200") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": TAG, "responses": {status: ok,
                                                                          **_errors(*codes)}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
        op["description"] = "Requires the X-CSRFToken header. Audited."
    if params:
        op["parameters"] = params
    return op


# Texts an admin writes per language: {"de-DE": "…"} (docs/languages.md).
PER_LANGUAGE = {"type": "object", "additionalProperties": {"type": "string"},
                "description": "the text per language tag, e.g. {\"de-DE\": \"…\"}"}
QUEUE_BODY = _obj(
    [], name=STR, digit={"type": ["string", "null"]}, greeting=STR, time_zone=STR,
    language={"type": ["string", "null"], "description": "the line's language (en-US, "
              "de-DE, da-DK, et-EE); null: English"},
    voice={"type": ["string", "null"], "description": "a Twilio voice (Polly.Vicki); null: "
           "the one documented for the language"},
    languages={"type": ["string", "null"], "description": "further languages its callers "
               "may choose, comma-separated"},
    texts={"type": ["object", "null"], "description": "admin texts per language",
           "properties": {"greeting": PER_LANGUAGE, "closed": PER_LANGUAGE},
           "additionalProperties": False},
    callback_threshold_seconds=INT, busy_threshold_seconds=INT,
    max_waiting={"type": ["integer", "null"]}, sl_target_seconds=INT, sl_target_percent=INT,
    priority_bonus_seconds={"type": "integer", "minimum": 0,
                            "maximum": MAX_PRIORITY_BONUS_SECONDS,
                            "description": "VIP callers and callbacks past their promised "
                                           "time are served as if they had arrived this many "
                                           "seconds earlier; 0 = first come, first served"},
    overflow_queue={"type": ["string", "null"], "description": "another queue whose agents "
                    "may also take an entry once it has waited overflow_after_seconds; "
                    "null or empty: no overflow"},
    overflow_after_seconds={"type": "integer", "minimum": 0,
                            "maximum": MAX_OVERFLOW_AFTER_SECONDS},
    dial_mode={"type": "string", "enum": ["agent-first", "customer-first"]},
    survey_enabled={"type": "boolean"}, active={"type": "boolean"},
    alert_oldest_wait_seconds={"type": ["integer", "null"], "minimum": 1, "maximum": 86400,
                               "description": "the live board turns the queue red and "
                                              "announces it when a caller has waited longer; "
                                              "null: no alarm"},
    alert_service_level_percent={"type": ["integer", "null"], "minimum": 1, "maximum": 100,
                                 "description": "the live board turns the queue red when "
                                                "today's service level is below; null: none"})
QUEUE = _obj(["slug", "name", "hours"], slug=STR, name=STR, hours=OBJ)


def _queue_paths() -> dict[str, Any]:
    return {
        "/api/admin/queues": {
            "get": _op("Every queue with settings and weekly hours",
                       _reply("queues", _obj(["queues"], queues=ARRAY))),
            "post": _op("Create a queue", _reply("created", QUEUE), 400, status="201",
                        body={**QUEUE_BODY, "required": ["slug", "name"],
                              "properties": {**QUEUE_BODY["properties"], "slug": STR}})},
        "/api/admin/queues/{slug}": {"patch": _op(
            "Change a queue's settings", _reply("queue", QUEUE), 400, 404,
            body=QUEUE_BODY, params=[SLUG])},
        "/api/admin/queues/{slug}/hours": {"put": _op(
            "Replace one weekday's open ranges (local to the queue's zone)",
            _reply("the day's ranges", _obj(["weekday", "ranges"], weekday=INT, ranges=ARRAY)),
            400, 404, params=[SLUG], body=_obj(
                ["weekday", "ranges"], weekday={"type": "integer", "minimum": 0, "maximum": 6},
                ranges={"description": '"09:00-12:00,13:00-17:00", [["09:00","12:00"]], '
                                       'or "" / [] for closed'}))},
        "/api/admin/queues/{slug}/week": {"put": _op(
            "Replace the whole week's open ranges at once (a weekday left out is closed)",
            _reply("the week's ranges", _obj(["queue", "days"], queue=STR, days=OBJ)),
            400, 404, params=[SLUG], body=_obj(
                ["days"], days={"type": "object", "description": 'weekday "0" (Monday) to '
                                '"6" (Sunday): "09:00-12:00,13:00-17:00", pairs, or "" closed',
                                "additionalProperties": {"type": ["string", "array"]}}))},
        "/api/admin/queues/{slug}/callback-policy": {
            "get": _op("A queue's callback policy", _reply("policy", OBJ), 404, params=[SLUG]),
            "patch": _op("Change the callback policy", _reply("policy", OBJ), 400, 404,
                         params=[SLUG], body=_obj(
                             [], attempts=INT, spacing_minutes=INT,
                             allowed_countries={"type": ["array", "string"]},
                             allowed_number_types={"type": ["array", "string"]},
                             sms_booked=STR, sms_unreachable=STR,
                             quiet_starts={"type": "string", "description": "HH:MM, customer's "
                                           "local time; no callback rings from then"},
                             quiet_ends={"type": "string", "description": "HH:MM: until then"}))},
        "/api/admin/queues/{slug}/staffing": {
            "get": _op("Plan beside the Erlang recommendation per interval, with the gaps",
                       _reply("staffing", _obj(["intervals", "gaps"], intervals=ARRAY,
                                               gaps=ARRAY)), 400, 404, params=[SLUG, _param(
                           "patience", {"type": "integer", "minimum": 1, "maximum": 3600},
                           "query", False), _param(
                           "shrinkage", {"type": "integer", "minimum": 0, "maximum": 90},
                           "query", False)]),
            "put": _op("Plan agents for one weekday's 30-minute interval",
                       _reply("plan", OBJ), 400, 404, params=[SLUG], body=_obj(
                           ["weekday", "interval_start", "agents"], weekday=INT,
                           interval_start={"type": "string", "example": "10:30"},
                           agents=INT))},
        "/api/admin/queues/{slug}/callbacks": {"get": _op(
            "Open callbacks in line order: place, expected time, attempts",
            _reply("callbacks", _obj(["callbacks"], callbacks=ARRAY)), 404, params=[SLUG])},
    }


def _holiday_paths() -> dict[str, Any]:
    holiday_id = _param("holiday_id", ID_SCHEMA)
    return {
        "/api/admin/holidays": {
            "get": _op("Every holiday", _reply("holidays", _obj(["holidays"], holidays=ARRAY))),
            "post": _op("Add a closed day or range, or special hours, with a message",
                        _reply("added", OBJ), 400, 404, status="201", body=_obj(
                            ["name", "starts"], name=STR, starts={"type": "string",
                                                                  "format": "date"},
                            ends={"type": "string", "format": "date"}, queue=STR,
                            opens=STR, closes=STR, message=STR,
                            messages=PER_LANGUAGE))},
        "/api/admin/holidays/{holiday_id}": {"delete": _op(
            "Delete a holiday", _reply("deleted"), 404, params=[holiday_id], status="204")},
        "/api/admin/holidays/import": {"post": _op(
            "Import a country's public holidays for a year as closed days (idempotent)",
            _reply("added", _obj(["added"], added=ARRAY)), 400, 404, body=_obj(
                ["country", "year"], country=STR, year=INT, subdivision=STR, queue=STR))},
    }


def _people_paths() -> dict[str, Any]:
    agent_body = _obj([], name=STR, contact=STR, password=STR,
                      role={"type": "string", "enum": ["agent", "supervisor", "admin"]},
                      queues={"type": ["array", "string"]})
    return {
        "/api/admin/agents": {
            "get": _op("Agents with roles and queues", _reply("agents",
                                                                _obj(["agents"], agents=ARRAY))),
            "post": _op("Create an agent with a password", _reply("created", OBJ), 400,
                        status="201", body={**agent_body, "required": [
                            "username", "name", "contact", "password"],
                            "properties": {**agent_body["properties"], "username": STR}})},
        "/api/admin/agents/{username}": {"patch": _op(
            "Change an agent's name, contact, role, queues or password", _reply("agent", OBJ),
            400, 404, body=agent_body, params=[_param("username", STR)])},
        "/api/admin/audit": {"get": _op(
            "Configuration changes, newest first", _reply("entries",
                                                          _obj(["entries"], entries=ARRAY)),
            400, params=[_param("limit", {"type": "integer", "minimum": 1, "maximum": 500},
                                "query", False), _param("entity", STR, "query", False)])},
        "/api/admin/board": {"get": _op(
            "Live board per queue", _reply("board", _obj(["queues"], queues=ARRAY)))},
        "/api/admin/texts/failures": {"get": _op(
            "Texts that failed, were undelivered or were refused by Twilio, newest first",
            _reply("failures", _obj(["failures", "statuses"], failures=ARRAY,
                                    statuses=OBJ)),
            400, params=[_param("limit", {"type": "integer", "minimum": 1, "maximum": 200},
                                "query", False)])},
    }


RANGE = [_param("from", {"type": "string", "format": "date"}, "query"),
         _param("to", {"type": "string", "format": "date"}, "query", False)]


def _callback_and_report_paths() -> dict[str, Any]:
    callback_id = _param("callback_id", ID_SCHEMA)
    done = _reply("done", _obj(["id"], id=INT))
    return {
        "/api/admin/callbacks/{callback_id}/cancel": {"post": _op(
            "Cancel an open callback", done, 400, 404, params=[callback_id], body=OBJ)},
        "/api/admin/callbacks/{callback_id}/move": {"post": _op(
            "Move a booked callback to a slot; it keeps its original place", done, 400, 404,
            params=[callback_id], body=_obj(["slot"], slot={
                "type": "string", "example": "2026-11-17T10:30",
                "description": "ISO date-time; without an offset, local to the queue"}))},
        "/api/admin/reports": {"get": _op(
            "Figures over a range of days: overall, per interval (per day for a range), per "
            "agent, and callbacks", _reply("report", _obj(
                ["from", "to", "total", "intervals", "agents"], total=OBJ, intervals=ARRAY,
                agents=ARRAY, callbacks=OBJ, surveys=ARRAY)), 400, 404,
            params=[*RANGE, QUEUE_QUERY])},
        "/api/admin/reports/csv": {"get": _op(
            "The range's figures as CSV, per interval (or day) or per agent",
            _reply("CSV", STR, "text/csv"), 400, 404, params=[*RANGE, QUEUE_QUERY, _param(
                "by", {"type": "string", "enum": ["interval", "agent"]}, "query", False)])},
        "/api/admin/reports/chart.png": {"get": _op(
            "The range's chart", _reply("PNG", {"type": "string", "format": "binary"},
                                        "image/png"), 400, 404,
            params=[*RANGE, QUEUE_QUERY])},
        "/api/admin/reports/{day}": {"get": _op(
            "A day's figures overall and per 30-minute interval",
            _reply("report", _obj(["day", "total", "intervals"], day=STR, total=OBJ, callbacks=OBJ,
                                  surveys=ARRAY, intervals=ARRAY)), 400, 404,
            params=[DAY, QUEUE_QUERY])},
        "/api/admin/reports/{day}/csv": {"get": _op(
            "The day's figures as CSV", _reply("CSV", STR, "text/csv"), 400, 404,
            params=[DAY, QUEUE_QUERY])},
        "/api/admin/reports/{day}/chart.png": {"get": _op(
            "The day's interval chart", _reply("PNG", {"type": "string", "format": "binary"},
                                              "image/png"), 400, 404,
            params=[DAY, QUEUE_QUERY])},
    }


def _board_paths() -> dict[str, Any]:
    board = _obj(["queues", "agents", "at"], queues={
        "type": "array", "description": "each with open, until (ISO) and the queue's "
        "time_zone (IANA) to show it in, and status in words in that zone"},
                 agents=ARRAY, at=STR, me={"type": ["object", "null"]},
                 time_zone={"type": "string", "description": "the line's zone, for at"})
    call = _param("interaction_id", ID_SCHEMA)
    mode = _obj(["mode"], mode={"type": "string", "enum": ["listen", "coach", "barge"]})
    return {
        "/api/board": {"get": _op(
            "The live board (supervisors and admins): queues, agents, the call I am on",
            _reply("board", board))},
        "/api/board/calls/{interaction_id}/monitor": {"post": {**_op(
            "Listen to (muted), coach (heard by the agent only) or barge into a live call, "
            "or switch to that mode; audited per period", _reply("started", _obj(
                ["session_id", "mode"], session_id=INT, mode=STR)), 400, 409,
            body=mode, params=[call], status="202")}},
        "/api/board/events": {"get": _op(
            "Live updates of the board (text/event-stream): each event's `data` is JSON "
            "{topic, data}; topics: changed (fetch /api/board again), resync (the same)",
            _reply("event stream, one event at a time", _obj([], data=STR, event=STR, id=STR),
                   "text/event-stream"), 503)},
        "/api/board/leave": {"post": _op(
            "Leave the call I am on", _reply("left", _obj([], session_id={
                "type": ["integer", "null"]})))},
    }


def admin_paths() -> dict[str, Any]:
    """Every /api/admin (and /api/board) path of the OpenAPI document."""
    return {**_queue_paths(), **_holiday_paths(), **_people_paths(),
            **_callback_and_report_paths(), **_board_paths()}

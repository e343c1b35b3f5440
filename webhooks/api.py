"""The agent's JSON API (/api): who I am, my state, the interaction in front of me with its
whole context, notes, difficult flag, wrap-up, transfers and escalation.

Every route needs a signed-in agent (401 otherwise); every state-changing request needs the
CSRF token in an X-CSRFToken header (400 otherwise). Bad input is a 400 naming the field.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import requests
from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import select
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from callbacks import agent_legs, recording
from console import desk
from holdless.twilio_gateway import NotARecording
from models.base import MAX_STORED_INT
from models.console import COLD, DISPOSITIONS, WARM
from models.entities import NOT_READY, Agent, Queue
from queueing import (
    agents,
    dispatch,
    escalations,
    monitoring,
    not_ready,
    pages,
    push,
    transfers,
)
from queueing.presence import StateRefused
from webhooks import callers_api
from webhooks.auth import current_agent, login_required
from webhooks.openapi import document
from webhooks.push import Beat, stream_response

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

bp = Blueprint("api", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

MAX_REASON_CHARS = 500
MAX_ID = MAX_STORED_INT  # the widest id every database here stores


@bp.url_value_preprocessor
def _bounded_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An id no database row can have is simply not found (never a server error)."""
    if values and not all(1 <= values.get(k, 1) <= MAX_ID for k in ("interaction_id",
                                                                   "callback_id")):
        abort(404, description="no such interaction")


def _rt() -> Runtime:
    return current_app.extensions["holdless"]


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="body: a JSON object is required")
    return data


def _text(data: dict[str, Any], name: str, *, required: bool, limit: int) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        abort(400, description=f"{name}: must be a string")
    if required and not value.strip():
        abort(400, description=f"{name}: is required")
    if len(value) > limit:
        abort(400, description=f"{name}: at most {limit} characters")
    return value


def _choice(data: dict[str, Any], name: str, options: tuple[str, ...]) -> str:
    value = data.get(name)
    if value not in options:
        abort(400, description=f"{name}: must be one of {', '.join(options)}")
    return str(value)


def _reveal() -> bool:
    raw = request.args.get("reveal", "0")
    if raw not in ("0", "1"):
        abort(400, description="reveal: must be 0 or 1")
    return raw == "1"


@bp.errorhandler(desk.NotYours)
def _not_yours(_exc: Exception) -> Any:
    return jsonify(error="Forbidden", detail="this interaction is not yours"), 403


@bp.errorhandler(desk.NotFound)
def _not_found(_exc: Exception) -> Any:
    return jsonify(error="Not Found", detail="no such interaction"), 404


@bp.errorhandler(desk.RoleRefused)
def _role_refused(exc: Exception) -> Any:
    return jsonify(error="Forbidden", detail=str(exc)), 403


@bp.errorhandler(recording.NoRecording)
def _no_recording(_exc: Exception) -> Any:
    return jsonify(error="Conflict", detail="no recording is running on this interaction"), 409


@bp.errorhandler(desk.NotNow)
@bp.errorhandler(transfers.TransferRefused)
def _conflict(exc: Exception) -> Any:
    return jsonify(error="Conflict", detail=str(exc)), 409


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 description of this API."""
    return jsonify(document())


@bp.get("/me")
@login_required
def me() -> Any:
    """Who I am, my live state and my queues."""
    who = current_agent()
    with _rt().db.session() as s:
        row = agents.load_agent(s, who.id)
        queues, reason = row.queue_slugs, row.offline_reason
    return jsonify(id=who.id, username=who.username, name=who.name, role=who.role,
                   state=_rt().presence.state(who.id), queues=queues, offline_reason=reason)


@bp.post("/me/state")
@login_required
def set_my_state() -> Any:
    """Go available, offline or not ready with a reason (available also ends wrap-up);
    409 while on a call."""
    data = _body()
    state = _choice(data, "state", ("available", "offline", NOT_READY))
    try:
        if state == NOT_READY:
            reason = _text(data, "reason", required=True, limit=not_ready.NOT_READY_REASON_MAX)
            not_ready.go_not_ready(_rt(), current_agent().id, reason)
        else:
            dispatch.set_state(_rt(), current_agent().id, state)
    except not_ready.BadReason as exc:
        abort(400, description=str(exc))
    except StateRefused as exc:
        return jsonify(error="Conflict", detail=f"you are {exc.current}"), 409
    return jsonify(state=_rt().presence.state(current_agent().id))


@bp.get("/me/current")
@login_required
def my_current() -> Any:
    """The interaction routed to me now, with its whole context (null when none), my
    warm transfer in progress on it (null when none) and my last missed offer of the past
    minutes (what the missed-offer live update said)."""
    me = current_agent()
    reveal = _reveal()
    found = desk.current(_rt(), me.id)
    body = None if found is None else desk.context(_rt(), found[0], me.id, reveal, found[1])
    with _rt().db.session() as s:
        row = agents.load_agent(s, me.id)
        reason, away = row.offline_reason, row.not_ready_reason
        reasons = not_ready.reasons(s)
    watching = [] if found is None else monitoring.supervisors_on(_rt(), found[0])
    escalation = None if found is None else escalations.status_of(_rt(), found[0])
    warm = None if found is None else transfers.warm_in_progress(_rt(), found[0], me.id)
    state = _rt().presence.state(me.id)
    return jsonify(state=state, interaction=body, offline_reason=reason,
                   not_ready_reason=away, not_ready_reasons=reasons,
                   wrap_up_seconds_left=desk.wrap_up_seconds_left(_rt(), me.id),
                   supervisors=watching, escalation=escalation, warm_transfer=warm,
                   missed_offer=agent_legs.missed_offer_notice(_rt(), me.id))


@bp.get("/me/events")
@login_required
def my_events() -> Any:
    """Live updates for my console (server-sent events): my own changes, colleagues'
    states, and those of the interaction I am looking at (?interaction=ID, if I may see it)."""
    me = current_agent()
    audiences = [push.agent_audience(me.id), push.PRESENCE]
    raw = request.args.get("interaction", "")
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
            abort(400, description="interaction: the id of the interaction on screen")
        with _rt().db.session() as s:
            desk.check_access(_rt(), s, int(raw), me.id)
        audiences.append(push.interaction_audience(int(raw)))
    rt = _rt()
    beat = Beat(pages.beat_every(rt), lambda: pages.beat(rt, me.id))
    return stream_response(rt, audiences, beat)


@bp.get("/directory")
@login_required
def directory() -> Any:
    """Colleagues (with their live state) and queues, to transfer to."""
    rt = _rt()
    with rt.db.session() as s:
        people = [{"id": a.id, "name": a.name, "role": a.role, "state": rt.presence.state(a.id)}
                  for a in s.scalars(select(Agent).where(Agent.active).order_by(Agent.name))
                  if a.id != current_agent().id]
        queues = [{"slug": q.slug, "name": q.name}
                  for q in s.scalars(select(Queue).where(Queue.active).order_by(Queue.name))]
    return jsonify(agents=people, queues=queues)


@bp.get("/interactions/<int:interaction_id>")
@login_required
def interaction(interaction_id: int) -> Any:
    """One interaction's context: only if routed to me now or handled by me recently."""
    return jsonify(desk.context(_rt(), interaction_id, current_agent().id, _reveal()))


@bp.get("/callbacks/<int:callback_id>/recording")
@login_required
def callback_recording(callback_id: int) -> Any:
    """The caller's message for a callback, fetched from Twilio with the account's
    credentials (never Twilio's link): for an agent who may see the interaction `via`."""
    via = request.args.get("via", "")
    if not via.isdigit() or int(via) > MAX_ID:
        abort(400, description="via: the id of the interaction the agent is viewing")
    rt = _rt()
    url = desk.recording(rt, callback_id, int(via), current_agent().id)
    return _proxied(rt, url, f"callback {callback_id}")


@bp.get("/recordings/<int:recording_id>/media")
@login_required
def conversation_recording(recording_id: int) -> Any:
    """A conversation recording's audio, fetched from Twilio with the account's credentials
    (never Twilio's link), for those allowed to hear it; every listen is audited."""
    if recording_id > MAX_ID:
        abort(404, description="no such recording")
    rt = _rt()
    url = desk.conversation_recording(rt, recording_id, current_agent().id)
    return _proxied(rt, url, f"recording {recording_id}")


def _proxied(rt: Runtime, url: str, what: str) -> Response:
    try:
        media = rt.gateway.fetch_recording(url)
    except (NotARecording, requests.RequestException) as exc:
        log.warning("%s: not fetched (%s)", what, type(exc).__name__)
        abort(502, description="the recording could not be fetched from Twilio")
    response = Response(media, mimetype="audio/mpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/interactions/<int:interaction_id>/recording")
@login_required
def change_recording(interaction_id: int) -> Any:
    """Pause or resume the interaction's running recording ({"action": "pause"|"resume"})."""
    action = _choice(_body(), "action", tuple(recording.ACTIONS))
    rt = _rt()
    with rt.db.session() as s:
        desk.check_access(rt, s, interaction_id, current_agent().id)
    return jsonify(recording.change(rt, interaction_id, action))


@bp.put("/interactions/<int:interaction_id>/notes/draft")
@login_required
def save_draft(interaction_id: int) -> Any:
    """Autosave my draft note as I type (one per agent per interaction)."""
    text = _text(_body(), "text", required=False, limit=desk.MAX_NOTE_CHARS)
    return jsonify(desk.save_draft(_rt(), interaction_id, current_agent().id, text))


@bp.post("/interactions/<int:interaction_id>/notes")
@login_required
def add_note(interaction_id: int) -> Any:
    """A final note (my draft becomes it)."""
    text = _text(_body(), "text", required=True, limit=desk.MAX_NOTE_CHARS)
    return jsonify(desk.add_note(_rt(), interaction_id, current_agent().id, text)), 201


@bp.post("/interactions/<int:interaction_id>/flag-difficult")
@login_required
def flag_difficult(interaction_id: int) -> Any:
    """Flag (or with {"difficult": false} unflag) the caller as difficult."""
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict) or not isinstance(data.get("difficult", True), bool):
        abort(400, description="difficult: must be true or false")
    value = bool(data.get("difficult", True))
    return jsonify(difficult=desk.flag_difficult(_rt(), interaction_id, current_agent().id,
                                                 value))


@bp.post("/interactions/<int:interaction_id>/wrap-up")
@login_required
def wrap_up(interaction_id: int) -> Any:
    """Disposition and closing note; ends my wrap-up (I become available)."""
    data = _body()
    disposition = _choice(data, "disposition", DISPOSITIONS)
    note = _text(data, "note", required=False, limit=desk.MAX_NOTE_CHARS)
    state = desk.wrap_up(_rt(), interaction_id, current_agent().id, disposition, note)
    return jsonify(state=state)


@bp.post("/interactions/<int:interaction_id>/transfer")
@login_required
def transfer(interaction_id: int) -> Any:
    """Hand the caller to a colleague (warm or cold) or back to a queue (cold)."""
    data = _body()
    mode = _choice(data, "mode", (WARM, COLD))
    reason = _text(data, "reason", required=True, limit=MAX_REASON_CHARS)
    to_agent, to_queue = data.get("to_agent_id"), data.get("to_queue")
    if (to_agent is None) == (to_queue is None):
        abort(400, description="to_agent_id: give exactly one of to_agent_id or to_queue")
    if to_agent is not None and (isinstance(to_agent, bool) or not isinstance(to_agent, int)
                                 or not 1 <= to_agent <= MAX_ID):
        abort(400, description="to_agent_id: must be an agent id (integer)")
    if to_queue is not None and (not isinstance(to_queue, str) or not to_queue.isidentifier()):
        abort(400, description="to_queue: must be a queue slug")
    if to_queue is not None and mode == WARM:
        abort(400, description="mode: a transfer to a queue is cold")
    me = current_agent()
    with _rt().db.session() as s:
        desk.check_access(_rt(), s, interaction_id, me.id)
    ask = transfers.TransferRequest(interaction_id, me.id, mode, reason, to_agent, to_queue)
    return jsonify(transfer_id=transfers.transfer(_rt(), ask)), 202


@bp.post("/interactions/<int:interaction_id>/transfer/warm")
@login_required
def end_warm_transfer(interaction_id: int) -> Any:
    """Cancel, complete or make three-way my warm transfer being consulted; 409 with the
    reason when none is in progress."""
    action = _choice(_body(), "action", tuple(transfers.WARM_ENDINGS))
    me = current_agent()
    with _rt().db.session() as s:
        desk.check_access(_rt(), s, interaction_id, me.id)
    return jsonify(action=transfers.end_warm(_rt(), interaction_id, me.id, action)), 202


@bp.post("/interactions/<int:interaction_id>/escalate")
@login_required
def escalate(interaction_id: int) -> Any:
    """Warm-transfer to an available supervisor, or hold the caller for the next one."""
    reason = _text(_body(), "reason", required=True, limit=MAX_REASON_CHARS)
    me = current_agent()
    with _rt().db.session() as s:
        desk.check_access(_rt(), s, interaction_id, me.id)
    return jsonify(escalations.escalate(_rt(), interaction_id, me.id, reason)), 202


@bp.get("/voice-token")
@login_required
def voice_token() -> Any:
    """A Twilio Voice access token so my browser can take calls as client:<identity>, and
    which phone the page uses with it (Twilio's SDK, or the local stand-in's phones)."""
    settings = _rt().settings
    if not (settings.twilio_api_key_sid and settings.twilio_api_key_secret
            and settings.twilio_twiml_app_sid):
        return jsonify(error="Service Unavailable",
                       detail="TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET and "
                              "TWILIO_TWIML_APP_SID must be set for browser calling"), 503
    with _rt().db.session() as s:
        contact = agents.load_agent(s, current_agent().id).contact
    if not contact.startswith("client:"):
        return jsonify(error="Conflict", detail="you take calls on a phone number"), 409
    identity = contact.removeprefix("client:")
    ttl = settings.voice_token_seconds
    token = AccessToken(settings.twilio_account_sid, settings.twilio_api_key_sid,
                        settings.twilio_api_key_secret, identity=identity, ttl=ttl)
    token.add_grant(VoiceGrant(outgoing_application_sid=settings.twilio_twiml_app_sid,
                               incoming_allow=True))
    phone = "stand-in" if settings.demo_phone_url else "twilio"
    return jsonify(token=token.to_jwt(), identity=identity, ttl=ttl, phone=phone,
                   stand_in_url=settings.demo_phone_url or None)


@bp.post("/me/phone-failed")
@login_required
def phone_failed() -> Any:
    """My browser phone stopped working (no microphone, device error): I go offline with
    the reason shown, never left available without audio."""
    reason = _text(_body(), "reason", required=True, limit=MAX_REASON_CHARS)
    agents.take_offline(_rt(), current_agent().id, f"your phone stopped working: {reason}")
    return jsonify(state=_rt().presence.state(current_agent().id))


@bp.post("/interactions/<int:interaction_id>/hold")
@login_required
def hold(interaction_id: int) -> Any:
    """Put the caller on hold in the call's conference (they hear music), or take them off."""
    data = _body()
    if not isinstance(data.get("hold"), bool):
        abort(400, description="hold: must be true or false")
    me = current_agent()
    with _rt().db.session() as s:
        desk.check_access(_rt(), s, interaction_id, me.id)
    transfers.ask_hold(_rt(), interaction_id, me.id, data["hold"])
    return jsonify(hold=data["hold"]), 202


def init_app(app: Any) -> None:
    """Register the API (with the administrator's callers endpoint)."""
    app.register_blueprint(bp)
    callers_api.init_app(app)

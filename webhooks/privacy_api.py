"""The administrators' JSON API about callers' data (/api/admin/privacy): export and erase
everything held about a number, the log of those requests, and what each role may do
with callers' data (hear recordings, see full numbers).

Admins only: 401 signed out, 403 for other roles; state changes need the X-CSRFToken header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from admin import access, privacy
from admin.audit import Actor
from admin.validate import ConfigError
from holdless.twilio_gateway import TwilioRestException
from models.entities import ROLE_ADMIN
from models.privacy import PrivacyRequest
from webhooks.auth import current_agent, login_manager

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

bp = Blueprint("privacy_api", __name__, url_prefix="/api/admin/privacy")
MAX_REQUESTS = 200


@bp.before_request
def _admins_only() -> Any:
    """401 signed out, 403 unless the agent's role is admin."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role != ROLE_ADMIN:
        abort(403, description="needs role: admin")
    return None


@bp.errorhandler(ConfigError)
def _refused(exc: ConfigError) -> Any:
    return jsonify(error="Bad Request", detail=f"{exc.field}: {exc.message}",
                   field=exc.field), 400


@bp.errorhandler(privacy.OnACall)
def _on_a_call(exc: privacy.OnACall) -> Any:
    return jsonify(error="Conflict", detail=str(exc)), 409


@bp.errorhandler(TwilioRestException)
def _twilio_failed(_exc: Exception) -> Any:
    return jsonify(error="Bad Gateway", detail="Twilio could not delete a recording now; "
                   "try again (nothing is marked erased that is not)"), 502


def _rt() -> Runtime:
    return current_app.extensions["holdless"]


def _actor() -> Actor:
    me = current_agent()
    return Actor(me.id, me.username)


def _number(raw: str) -> str:
    try:
        return privacy.e164(raw, _rt().settings.default_region)
    except privacy.BadNumber:
        abort(400, description=f"number: {raw[:32]!r} is not a phone number")


@bp.get("/numbers/<number>/export")
def export(number: str) -> Any:
    """Everything held about the number, as JSON (audited)."""
    return jsonify(privacy.export(_rt(), _actor(), _number(number)))


@bp.post("/numbers/<number>/erase")
def erase(number: str) -> Any:
    """Erase everything held about the number (409 while they are on a call)."""
    return jsonify(erased=privacy.erase(_rt(), _actor(), _number(number)))


@bp.get("/requests")
def requests_log() -> Any:
    """Exports and erasures, newest first: who, when, which number (masked), counts."""
    with _rt().db.session() as s:
        rows = s.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id.desc())
                         .limit(MAX_REQUESTS))
        return jsonify(requests=[{"id": r.id, "at": r.at.isoformat(), "actor": r.actor,
                                  "action": r.action, "number": r.masked_number,
                                  "outcome": r.outcome} for r in rows])


@bp.get("/roles")
def roles() -> Any:
    """What each role may do with callers' data."""
    with _rt().db.session() as s:
        return jsonify(roles=access.every_role(s))


@bp.patch("/roles/<role>")
def set_role(role: str) -> Any:
    """Change what a role may do: hear_recordings, see_numbers (audited)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="body: a JSON object is required")
    with _rt().db.session() as s:
        return jsonify(access.set_rights(s, _actor(), role, data))


def init_app(app: Flask) -> None:
    """Register the privacy API."""
    app.register_blueprint(bp)

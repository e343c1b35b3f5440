"""PUT /api/callers/{number}: an administrator attaches a name, an account reference and a
VIP flag (served ahead where the queue gives a priority bonus) to a phone number (validated
with phonenumbers; audited). Agents of other roles get 403."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, current_app, jsonify, request

from console import callers
from models.entities import ROLE_ADMIN
from webhooks.auth import current_agent, role_required

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

bp = Blueprint("callers_api", __name__, url_prefix="/api")


def _rt() -> Runtime:
    return current_app.extensions["holdless"]


def _field(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit:
        abort(400, description=f"{name}: a string of at most {limit} characters")
    return value.strip()


@bp.put("/callers/<number>")
@role_required(ROLE_ADMIN)
def put_caller(number: str) -> Any:
    """Create or update the caller with this number: name, account reference, VIP flag."""
    try:
        e164 = callers.e164(number, _rt().settings.default_region)
    except callers.BadNumber:
        abort(400, description="number: not a valid phone number")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="body: a JSON object is required")
    name = _field(data, "name", callers.MAX_NAME_CHARS)
    account_ref = _field(data, "account_ref", callers.MAX_ACCOUNT_CHARS)
    vip = data.get("vip")
    if vip is not None and not isinstance(vip, bool):
        abort(400, description="vip: must be true or false")
    body, created = callers.put(_rt(), current_agent().id, e164, name, account_ref, vip)
    return jsonify(body), 201 if created else 200


def init_app(app: Any) -> None:
    """Register the callers API."""
    app.register_blueprint(bp)

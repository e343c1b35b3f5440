"""The live board's JSON API (/api/board), for supervisors and administrators: the board
itself, and listening, coaching and barging on a live call from it (and leaving).

401 signed out, 403 for agents. Changes need the X-CSRFToken header (CSRFProtect)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from admin import board
from models.supervision import MonitoringSession
from queueing import monitoring, push
from webhooks.auth import current_agent, login_manager
from webhooks.push import stream_response

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

bp = Blueprint("board_api", __name__, url_prefix="/api/board")

MAX_ID = 2**31 - 1


@bp.before_request
def _supervisors_only() -> Any:
    """401 signed out, 403 unless the agent supervises (supervisor or admin)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in monitoring.SUPERVISING_ROLES:
        abort(403, description="needs role: supervisor or admin")
    return None


@bp.errorhandler(monitoring.MonitorRefused)
def _refused(exc: monitoring.MonitorRefused) -> Any:
    return jsonify(error="Conflict", detail=str(exc)), 409


def _rt() -> Runtime:
    return current_app.extensions["holdless"]


def _mine() -> dict[str, Any] | None:
    """The call the signed-in supervisor is on now, and how."""
    with _rt().db.session() as s:
        row = s.scalar(select(MonitoringSession).where(
            MonitoringSession.active_supervisor_id == current_agent().id))
        if row is None:
            return None
        return {"interaction_id": row.interaction_id, "mode": row.mode,
                "session_id": row.id, "connected": bool(row.call_sid)}


@bp.get("")
def live_board() -> Any:
    """Queues and agents, live; and the call I am on."""
    return jsonify({**board.live_board(_rt()), "me": _mine()})


@bp.get("/events")
def events() -> Any:
    """Live updates of the board (server-sent events): a change to agents, calls, callbacks
    or queues says "changed" and the page fetches the board again."""
    return stream_response(_rt(), [push.BOARD])


@bp.post("/calls/<int:interaction_id>/monitor")
def monitor(interaction_id: int) -> Any:
    """Listen to, coach on, or barge into a live call (or switch to that mode)."""
    if not 1 <= interaction_id <= MAX_ID:
        abort(404, description="no such call")
    data = request.get_json(silent=True)
    mode = data.get("mode") if isinstance(data, dict) else None
    if not isinstance(mode, str) or mode not in monitoring.MONITOR_MODES:
        return jsonify(error="Bad Request", field="mode",
                       detail="mode: one of listen, coach, barge is required"), 400
    session_id = monitoring.monitor(_rt(), current_agent().id, interaction_id, mode)
    return jsonify(session_id=session_id, mode=mode), 202


@bp.post("/leave")
def leave() -> Any:
    """Leave the call I am on (nothing to do when I am on none)."""
    return jsonify(session_id=monitoring.leave(_rt(), current_agent().id))


def init_app(app: Flask) -> None:
    """Register the board API."""
    app.register_blueprint(bp)

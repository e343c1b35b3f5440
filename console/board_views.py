"""The supervisor's live board (/board): server-rendered shell; static/board.js fills it from
/api/board and keeps it current, and listens, coaches, barges and leaves through that API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, render_template

from console.admin_views import pages_for
from console.views import harden
from webhooks.auth import current_agent, role_required

bp = Blueprint("board_pages", __name__, template_folder="templates")

@bp.get("/board")
@role_required("supervisor", "admin")
def board() -> Any:
    """The live board: queues and agents, with listen, coach and barge on live calls."""
    zone = current_app.extensions["holdless"].settings.time_zone
    return render_template("board.html", agent=current_agent(), pages=pages_for(current_agent()),
                           zone=zone)


bp.after_request(harden)


def init_app(app: Flask) -> None:
    """Register the board page."""
    app.register_blueprint(bp)

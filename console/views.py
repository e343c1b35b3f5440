"""The agent console page (server-rendered; the small plain JS in static/ does the rest)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, redirect, render_template, url_for

from webhooks.auth import current_agent, login_required

bp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
               static_url_path="/console/static")

# Only our own scripts and styles; no inline code, no framing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


@bp.get("/")
def home() -> Any:
    """The root leads to the console."""
    return redirect(url_for("console.page"))


@bp.get("/console")
@login_required
def page() -> Any:
    """The agent console."""
    return render_template("console.html", agent=current_agent())


@bp.after_request
def harden(response: Response) -> Response:
    """Security headers on every console response."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    """Register the console."""
    app.register_blueprint(bp)

"""The agent console page (server-rendered; the small plain JS in static/ does the rest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    send_file,
    url_for,
)

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


# Where Twilio's Voice SDK connects and fetches its sounds (twilio.com/docs/voice/sdks/
# network-connectivity-requirements: signalling over wss to *.twilio.com).
TWILIO_SDK_HOSTS = "wss://*.twilio.com https://*.twilio.com"
# Twilio's Voice JavaScript SDK as npm installed it (package.json, package-lock.json):
# served from here, never fetched from a CDN.
SDK_BUNDLE = Path(__file__).resolve().parent.parent / "node_modules" / "@twilio" / "voice-sdk" \
    / "dist" / "twilio.min.js"


def _settings() -> Any:
    return current_app.extensions["holdless"].settings


@bp.get("/console")
@login_required
def page() -> Any:
    """The agent console."""
    return render_template("console.html", agent=current_agent())


@bp.get("/console/vendor/twilio.min.js")
@login_required
def voice_sdk() -> Any:
    """Twilio's Voice JavaScript SDK bundle, as installed from the lock file (404 when npm
    has not installed it: the page then says the browser phone is unavailable)."""
    if not SDK_BUNDLE.exists():
        abort(404, description="the Voice SDK is not installed here (npm ci)")
    return send_file(SDK_BUNDLE, mimetype="text/javascript", max_age=3600)


def policy() -> str:
    """The page's Content-Security-Policy: our own scripts, and where the phone talks."""
    demo = _settings().demo_phone_url
    phone = demo if demo else TWILIO_SDK_HOSTS
    return CSP.replace("connect-src 'self'", f"connect-src 'self' {phone}").replace(
        "img-src 'self'", f"img-src 'self'; media-src 'self' {TWILIO_SDK_HOSTS} blob:")


@bp.after_request
def harden(response: Response) -> Response:
    """Security headers on every console response."""
    response.headers.setdefault("Content-Security-Policy", policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    """Register the console."""
    app.register_blueprint(bp)

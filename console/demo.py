"""The test caller page (demo only): a newcomer dials the line from another tab under
`make run`, hears the prompts (the browser speaks each <Say>), keys in digits, books a
callback and answers it when it rings. Registered only when the stand-in's phones run
(HOLDLESS_DEMO_PHONE_URL, refused in production): never part of a production app."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, render_template

from holdless.settings import PRODUCTION


def _csp(phone_url: str) -> str:
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src 'self' {phone_url}; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'")


def init_app(app: Flask) -> None:
    """Register the caller page when the stand-in's phones run (never in production)."""
    settings = app.config["HOLDLESS"]
    if not settings.demo_phone_url or settings.env == PRODUCTION:
        return
    bp = Blueprint("demo", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/demo/static")

    @bp.get("/demo/caller")
    def caller() -> Any:
        """A phone in the page, dialling the contact center's number."""
        return render_template("demo_caller.html", phone_url=settings.demo_phone_url,
                               line=settings.twilio_caller_id)

    @bp.after_request
    def harden(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", _csp(settings.demo_phone_url))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    app.register_blueprint(bp)

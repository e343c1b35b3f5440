"""The Flask application factory."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from flask import Flask, Response, abort, current_app, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from callbacks.agent_legs import UnknownLeg
from callbacks.placing import UnknownAttempt
from console import admin_views, board_views, demo, i18n, zoned
from console import views as console_views
from entrypoints import runtime
from entrypoints.runtime import Runtime
from holdless import clock, paths, speech
from holdless.settings import DEVELOPMENT, Settings
from holdless.speech import N_
from ivr import language
from ivr.interactions import UnknownCall
from ivr.outage import outage_answer
from webhooks import (
    admin_api,
    api,
    auth,
    board_api,
    fallback,
    forms,
    health,
    privacy_api,
    sms,
    voice,
)
from webhooks.budget import OverBudget, bound_voice_webhooks

log = logging.getLogger(__name__)

# A store that cannot be reached right now (as opposed to a bug): the caller gets an apology.
STORE_UNREACHABLE = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                     sqlalchemy.exc.TimeoutError, redis.exceptions.ConnectionError,
                     redis.exceptions.TimeoutError, OverBudget)

MAX_BODY_BYTES = 64 * 1024


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app from the environment (and `test_config` overrides)."""
    settings = Settings.from_env().with_overrides(test_config or {})
    settings.check()
    speech.warm_catalogs()
    app = Flask(__name__, instance_path=None)
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        HOLDLESS=settings,
        TESTING=settings.env == "testing",
    )
    if not settings.twilio_auth_token:
        log.warning("TWILIO_AUTH_TOKEN is unset: every Twilio webhook will be refused (403)")
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count,
            x_host=settings.proxy_count, x_port=settings.proxy_count)
    init_runtime(app, settings)
    register_blueprints(app)
    register_errors(app)
    refuse_nul_characters(app)
    return app


def init_runtime(app: Flask, settings: Settings) -> None:
    """Attach this process's runtime (database, Redis, job queue, Twilio gateway, clock)."""
    rt = Runtime(settings)
    if settings.clock:
        clock.use(rt.clock)  # what reads the process clock (audit, staffing) reads the same
    app.extensions["holdless"] = rt
    runtime.use(rt)


def register_blueprints(app: Flask) -> None:
    """Every blueprint of the app; each subsystem registers itself with `init_app`."""
    app.register_blueprint(voice.bp)
    bound_voice_webhooks(app)  # each answers within its budget, whatever the stores do
    app.register_blueprint(sms.bp)
    bound_voice_webhooks(app, "sms")  # Twilio waits 15 s for a messaging webhook too
    app.register_blueprint(fallback.bp)  # no deadline: it reads no store
    app.register_blueprint(health.bp)  # unauthenticated: says only which stores answer
    auth.init_app(app)
    auth.csrf.exempt(voice.bp)  # Twilio webhooks are signed instead
    auth.csrf.exempt(sms.bp)
    auth.csrf.exempt(fallback.bp)
    api.init_app(app)
    admin_api.init_app(app)
    board_api.init_app(app)
    privacy_api.init_app(app)
    console_views.init_app(app)
    admin_views.init_app(app)
    demo.init_app(app)  # the test caller page: only beside the stand-in's phones
    zoned.init_app(app)  # the `zoned` filter: every time shown on a page carries its zone
    board_views.init_app(app)
    i18n.init_app(app)  # staff pages in the reader's language (Flask-Babel)


def refuse_nul_characters(app: Flask) -> None:
    """Refuse (400) an address (path or query) or JSON or form text holding a NUL character
    or, in JSON, a lone surrogate (not UTF-8): no database stores either, and no person
    typed it."""

    @app.before_request
    def no_nul() -> None:
        if request.blueprint in ("voice", "sms"):
            return  # Twilio's webhooks validate each field themselves (a caller gets a retry)
        if "\x00" in request.path or any("\x00" in k or "\x00" in v
                                         for k, v in request.args.items(multi=True)):
            abort(400, description="the address may not contain NUL characters")
        if request.method not in ("POST", "PUT", "PATCH"):
            return
        if request.is_json:
            raw = request.get_data(cache=True)
            found = b"\x00" in raw or b"\\u0000" in raw
            if not found and b"\\u" in raw and not _utf8_text(request.get_json(silent=True)):
                abort(400, description="text must be UTF-8 (a lone surrogate escape was sent)")
        else:
            found = any("\x00" in value for value in request.form.values())
        if found:
            abort(400, description="text may not contain NUL characters")


def _utf8_text(value: Any) -> bool:
    """Whether every string in a decoded JSON document can be stored as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_utf8_text(k) and _utf8_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_utf8_text(v) for v in value)
    return True


def register_errors(app: Flask) -> None:
    """Errors as short JSON for the API (a page for a browser, plain text for Twilio), never
    a stack trace."""

    @app.before_request
    def refuse_oversized() -> None:
        """A declared body over the limit is refused before anything reads it (413)."""
        if (request.content_length or 0) > MAX_BODY_BYTES:
            abort(413)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if wants_a_page():
            return error_page(exc), exc.code
        return jsonify(error=exc.name, detail=exc.description), exc.code

    @app.errorhandler(UnknownCall)
    def unknown_call(_exc: UnknownCall) -> Any:
        return jsonify(error="Not Found", detail="unknown CallSid"), 404

    @app.errorhandler(UnknownAttempt)
    def unknown_attempt(_exc: UnknownAttempt) -> Any:
        return jsonify(error="Not Found", detail="unknown callback attempt"), 404

    @app.errorhandler(UnknownLeg)
    def unknown_leg(_exc: UnknownLeg) -> Any:
        return jsonify(error="Not Found", detail="unknown agent leg"), 404

    for exc_class in STORE_UNREACHABLE:
        app.register_error_handler(exc_class, store_unreachable)


# Error pages in plain words, for a person in a browser (the API keeps its JSON).
PAGE_TITLES = {400: N_("That request could not be read"),
               403: N_("You do not have access to this page"),
               404: N_("Page not found"), 405: N_("That cannot be done here"),
               413: N_("That was too large to send"), 429: N_("Too many attempts"),
               500: N_("Something went wrong on our side"), 503: N_("Holdless is busy")}
ROLE_WORDS = {"needs role: admin": N_("This page is for administrators. Ask an administrator "
                                      "to give you the admin role if you need it."),
              "needs role: supervisor, admin": N_("The live board is for supervisors and "
                                                  "administrators. Ask an administrator for "
                                                  "the supervisor role if you need it.")}


def wants_a_page() -> bool:
    """Whether the request is a browser's asking for a page: never the API or Twilio's
    webhooks, and only when HTML is preferred to JSON (curl's */* gets JSON)."""
    if request.path.startswith(("/api/", "/voice/", "/sms/")):
        return False
    accepted = request.accept_mimetypes
    return accepted["text/html"] > accepted["application/json"]


def error_page(exc: HTTPException) -> str:
    """An error as an HTML page: what went wrong in plain words and a way back."""
    code = exc.code or 500
    detail = str(exc.description or "")
    detail = gettext(ROLE_WORDS[detail]) if detail in ROLE_WORDS else detail
    title = gettext(PAGE_TITLES[code]) if code in PAGE_TITLES else exc.name
    return render_template("error.html", code=code, detail=detail, title=title)


def store_unreachable(exc: Exception) -> Any:
    """The database or Redis is unreachable: callers hear an apology and a retry (200), a
    customer's text is answered with a request to send it again; everything else gets 503.
    Logged by path and error class only: the error's text can hold SQL parameters, and so
    phone numbers."""
    store = ("redis" if isinstance(exc, redis.exceptions.RedisError)
             else "a store (over the webhook's deadline)" if isinstance(exc, OverBudget)
             else "database")
    log.error("%s unreachable while serving %s (%s)", store, request.path, type(exc).__name__)
    if request.path.startswith("/voice/"):
        rt = current_app.extensions["holdless"]
        carried = forms.carried_fields()  # a Redirect would not post them again
        words = language.spoken(rt, language.cached(request.form.get("CallSid", "")))
        answer = outage_answer(rt, request.path, {**dict(request.args.items()), **carried},
                               words)
        if answer is not None:
            return Response(str(answer), mimetype="text/xml")
    if request.path == paths.SMS_INCOMING:  # a text is forwarded once: ask for it again
        return sms.unreachable_answer()
    return jsonify(error="Service Unavailable", detail=f"{store} unreachable, try again"), 503


__all__ = ["DEVELOPMENT", "create_app"]

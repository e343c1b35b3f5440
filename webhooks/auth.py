"""Signing agents in and out: Flask-Login sessions, CSRF on every state change, roles.

`init_app(app)` wires it all; views use `login_required` (or `role_required("admin")`).
Twilio's webhooks (the voice blueprint) are exempt from CSRF: they are signed instead.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.security import check_password_hash, generate_password_hash

from models.entities import AGENT_STATES, OFFLINE, ROLE_ADMIN, Agent
from queueing import agents, dispatch
from queueing.keys import KEY_PREFIX

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

SESSION_HOURS = 12
# After this many failed sign-ins for one username, refuse it (429) for the window.
MAX_FAILED_SIGN_INS = 5  # per username, within the window
MAX_FAILED_SIGN_INS_PER_ADDRESS = 20  # per client address, any usernames, within the window
FAILED_SIGN_IN_WINDOW_SECONDS = 15 * 60
MAX_CREDENTIAL_CHARS = 200
login_manager = LoginManager()
csrf = CSRFProtect()
bp = Blueprint("auth", __name__, template_folder="templates")

__all__ = ["SignedInAgent", "bp", "csrf", "current_agent", "init_app", "login_required",
           "role_required"]


@dataclass(frozen=True)
class SignedInAgent:
    """The agent behind a request: a plain value, never a live database row."""

    id: int
    username: str
    name: str
    role: str
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session."""
        return str(self.id)


def _rt() -> Runtime:
    return current_app.extensions["holdless"]


def current_agent() -> SignedInAgent:
    """The signed-in agent (call only inside a login-required view)."""
    return current_user._get_current_object()


@login_manager.user_loader
def load_agent(agent_id: str) -> SignedInAgent | None:
    """The agent of a session, or None when they no longer exist."""
    if not agent_id.isdigit():
        return None
    with _rt().db.session() as s:
        agent = s.get(Agent, int(agent_id))
        if agent is None or not agent.password_hash or not agent.active:
            return None
        return SignedInAgent(agent.id, agent.username, agent.name, agent.role)


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    """401 JSON for the API; a redirect to the sign-in page for pages."""
    if request.path.startswith("/api/"):
        return jsonify(error="Unauthorized", detail="sign in first"), 401
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow only signed-in agents whose role is one of `roles` (others get 403)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap `view` with the role check."""
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            """401 when signed out, 403 for other roles, else the view."""
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403, description=f"needs role: {', '.join(roles)}")
            return view(*args, **kwargs)

        return checked

    return decorate


def check_credentials(username: str, password: str) -> SignedInAgent | None:
    """The agent whose username and password these are, or None (same cost either way)."""
    with _rt().db.session() as s:
        agent = s.query(Agent).filter(Agent.username == username).one_or_none()
        stored = agent.password_hash if agent is not None and agent.password_hash else _dummy_hash()
        try:
            valid = check_password_hash(stored, password)
        except ValueError:
            valid = False
        if agent is None or not agent.password_hash or not valid or not agent.active:
            return None
        return SignedInAgent(agent.id, agent.username, agent.name, agent.role)


@functools.cache
def _dummy_hash() -> str:
    """A real hash to check against when the username is unknown, so timing does not tell."""
    return generate_password_hash(secrets.token_hex(16))


def _safe_next(target: str | None, role: str = "") -> str:
    """Where to go after signing in: `target` when it is a path here, else the landing
    page of the role (administrators: the admin pages; everyone else: the console)."""
    parts = urlsplit(target or "")
    if (not target or parts.scheme or parts.netloc or not target.startswith("/")
            or target.startswith(("//", "/\\"))):
        return url_for("admin_pages.home" if role == ROLE_ADMIN else "console.page")
    return target


def _failure_counters(username: str) -> list[tuple[str, int]]:
    """The failed-sign-in counters this attempt counts against, each with its limit: the
    username's, and the client address's (one address trying many usernames)."""
    return [(f"{KEY_PREFIX}sign-in-failures:{username.lower()}", MAX_FAILED_SIGN_INS),
            (f"{KEY_PREFIX}sign-in-failures-from:{request.remote_addr or '-'}",
             MAX_FAILED_SIGN_INS_PER_ADDRESS)]


def _locked_out(counters: list[tuple[str, int]]) -> bool:
    """Whether any counter has reached its limit."""
    values = _rt().live.mget([key for key, _ in counters])
    return any(int(v or 0) >= limit for v, (_, limit) in zip(values, counters, strict=True))


def _count_failure(counters: list[tuple[str, int]]) -> None:
    """One more failure on every counter, each kept for the window."""
    pipe = _rt().live.pipeline()
    for key, _ in counters:
        pipe.incr(key)
        pipe.expire(key, FAILED_SIGN_IN_WINDOW_SECONDS)
    pipe.execute()


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    """The sign-in form, and signing in with it."""
    if request.method == "GET":
        return render_template("sign_in.html", error="")
    username = request.form.get("username", "").strip()[:MAX_CREDENTIAL_CHARS]
    password = request.form.get("password", "")[:MAX_CREDENTIAL_CHARS]
    counters = _failure_counters(username)
    if _locked_out(counters):
        return render_template("sign_in.html", error="Too many failed attempts. "
                                                     "Try again in a few minutes."), 429
    agent = check_credentials(username, password) if username and password else None
    if agent is None:
        _count_failure(counters)
        log.info("failed sign-in")
        return render_template("sign_in.html", error="Unknown username or wrong password."), 401
    _rt().live.delete(counters[0][0])
    login_user(agent)
    log.info("agent %s signed in", agent.id)
    return redirect(_safe_next(request.args.get("next"), agent.role))


@bp.post("/sign-out")
@login_required
def sign_out() -> Any:
    """End the session; the agent goes offline (nobody rings or transfers to someone who
    left)."""
    if current_user.is_authenticated:
        rt = current_app.extensions["holdless"]
        with contextlib.suppress(agents.UnknownAgent):
            dispatch.change_state(rt, current_user.id, OFFLINE, AGENT_STATES, reset_misses=True)
    logout_user()
    return redirect(url_for("auth.sign_in"))


def init_app(app: Flask) -> None:
    """Sessions, CSRF and the sign-in pages, with hardened cookies."""
    settings = app.config["HOLDLESS"]
    app.config.update(
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
    )
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    app.register_blueprint(bp)

"""Who may reach what, over every route the app has (its url_map), so a new route cannot slip
through unguarded: anonymous users reach no agent or admin page or endpoint (Twilio's webhooks
are signature-checked instead), agents reach no admin or board route, supervisors reach the
board, the reports and live calls but no setting (a browser refused gets a page, not JSON), an
agent reaches
no interaction that was not routed to them, every state-changing request needs the CSRF token,
and the cookies are hardened in production.

Each route is called with a sample value for each of its arguments; a route with an argument
this file does not know fails the audit until a sample is added to `SAMPLES`.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from models import Base
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE
from tests.console_helpers import PASSWORD, Desk, route_call_to, seed_people_and_admin

# Routes anyone may reach: signing in, the root (a redirect to the console), the API's
# OpenAPI document and static files.
PUBLIC = {"auth.sign_in", "console.home", "api.openapi", "static", "console.static",
          "admin_pages.static",
          "health.health"}  # for load balancers: says which stores answer, nothing of callers
SIGNED_BLUEPRINTS = {"voice", "sms", "fallback"}  # Twilio's webhooks: refused (403) unless signed
ADMIN_BLUEPRINTS = {"admin_pages", "admin_api", "callers_api", "board_pages", "board_api",
                    "privacy_api"}
# What a supervisor may reach of those: the board, the reports, listening to live calls.
SUPERVISOR_SEES = {"board_pages.board", "board_api.live_board", "board_api.events",
                   "board_api.monitor", "board_api.leave", "admin_pages.report",
                   "admin_api.day_report", "admin_api.day_report_csv",
                   "admin_api.day_report_chart", "admin_api.period_report",
                   "admin_api.period_report_csv", "admin_api.period_report_chart",
                   "admin_api.live_board"}
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
SAMPLES: dict[str, Any] = {"interaction_id": 1, "callback_id": 1, "holiday_id": 1,
                           "recording_id": 1, "role": "agent",
                           "slug": "support", "username": "alice", "day": "2026-11-16",
                           "number": "+12125550123", "filename": "console.js",
                           "tag": "et-EE", "key": "0" * 32}
# A valid body for each interaction route, so that only the access check can refuse it.
INTERACTION_BODIES: dict[str, dict[str, Any]] = {
    "api.interaction": {}, "api.save_draft": {"text": "x"}, "api.add_note": {"text": "x"},
    "api.flag_difficult": {"difficult": True}, "api.wrap_up": {"disposition": "resolved"},
    "api.transfer": {"mode": "cold", "to_queue": "sales", "reason": "x"},
    "api.escalate": {"reason": "x"},
    "board_api.monitor": {"mode": "listen"},
    "api.hold": {"hold": True},
    "api.change_recording": {"action": "pause"},
    "api.end_warm_transfer": {"action": "cancel"},
}


def routes(app: Any) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every route and method of the app, arguments sampled."""
    adapter = app.url_map.bind("holdless.test")
    found = []
    for rule in app.url_map.iter_rules():
        unknown = set(rule.arguments) - set(SAMPLES)
        assert not unknown, f"{rule.rule}: add a sample value for {unknown} to SAMPLES"
        values = {name: SAMPLES[name] for name in rule.arguments}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, adapter.build(rule.endpoint, values,
                                                               method=method)))
    return found


def blueprint(endpoint: str) -> str:
    """The blueprint an endpoint belongs to ('' for the app's own)."""
    return endpoint.rpartition(".")[0]


def row_counts(rt: Any) -> dict[str, int]:
    """Rows in every table."""
    with rt.db.session() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables}


def anonymous_token(client: Any) -> str:
    """A CSRF token an anonymous visitor can get (from the sign-in page)."""
    page = client.get("/sign-in").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:200]
    return found.group(1)


def call(client: Any, method: str, path: str, token: str | None,
         body: dict[str, Any] | None = None) -> Any:
    """A request as the console's script sends it (JSON, CSRF header when given)."""
    headers = {"X-CSRFToken": token} if token else {}
    if method == "GET":
        reply = client.get(path, headers=headers)
    else:
        reply = client.open(path, method=method, json=body or {}, headers=headers)
    reply.get_data()  # read it all, then release the body (static files hold one open)
    reply.close()
    return reply


@pytest.fixture
def people(rt):
    """Support and sales queues; alice, bob (agents), sam (supervisor), ada (admin)."""
    return seed_people_and_admin(rt)


def test_every_route_but_sign_in_and_static_refuses_anonymous_users_even_with_a_csrf_token(
        rt, app, client, people):
    token = anonymous_token(client)  # so CSRF is not what refuses them
    before = row_counts(rt)
    seen_public, guarded = set(), 0
    for endpoint, method, path in routes(app):
        reply = call(client, method, path, token)
        if endpoint in PUBLIC:
            seen_public.add(endpoint)
            continue
        guarded += 1
        if blueprint(endpoint) in SIGNED_BLUEPRINTS:
            assert reply.status_code == 403, (method, path, reply.status_code)
        elif path.startswith("/api/"):
            assert reply.status_code == 401, (method, path, reply.status_code)
        else:
            assert reply.status_code == 302, (method, path, reply.status_code)
            assert reply.headers["Location"].startswith("/sign-in"), (method, path)
    assert seen_public == PUBLIC  # the allowlist names only routes that exist
    assert guarded > 60
    assert row_counts(rt) == before


def admin_routes(app: Any) -> list[tuple[str, str, str]]:
    """Every route of the admin and board blueprints (their static files aside)."""
    found = [r for r in routes(app) if blueprint(r[0]) in ADMIN_BLUEPRINTS
             and r[0] not in PUBLIC]
    assert len(found) > 30
    return found


def test_agents_get_403_on_every_admin_and_board_route(rt, app, people):
    before = row_counts(rt)
    alice = Desk(app, "alice")
    for _endpoint, method, path in admin_routes(app):
        reply = call(alice.client, method, path, alice.token)
        assert reply.status_code == 403, (method, path, reply.status_code)
    assert row_counts(rt) == before


def test_supervisors_reach_the_board_reports_and_live_calls_and_no_setting(rt, app, people):
    before = row_counts(rt)
    sam = Desk(app, "sam")
    seen = set()
    for endpoint, method, path in admin_routes(app):
        if path.endswith("/events"):  # a stream: its status, without waiting for its end
            reply = sam.client.get(path, buffered=False)
            reply.close()
        else:
            reply = call(sam.client, method, path, sam.token, INTERACTION_BODIES.get(endpoint))
        if endpoint in SUPERVISOR_SEES:
            seen.add(endpoint)
            assert reply.status_code not in (401, 403), (method, path, reply.status_code)
        else:
            assert reply.status_code == 403, (method, path, reply.status_code)
    assert seen == SUPERVISOR_SEES  # the allowlist names only routes that exist
    assert row_counts(rt) == before  # monitoring a call that is not live records nothing


def test_a_browser_refused_a_page_gets_a_page_saying_why_and_the_api_gets_json(rt, app,
                                                                               people):
    alice = Desk(app, "alice")
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    for path, words in (("/board", "The live board is for supervisors and administrators."),
                        ("/admin", "This page is for administrators."),
                        ("/admin/queues", "This page is for administrators.")):
        page = alice.client.get(path, headers=browser)
        assert page.status_code == 403 and page.mimetype == "text/html", path
        text = page.get_data(as_text=True)
        assert "You do not have access to this page" in text and words in text, path
    api = alice.client.get("/api/board", headers=browser)
    assert api.status_code == 403 and api.get_json()["error"] == "Forbidden"


def test_every_interaction_route_refuses_an_agent_it_was_not_routed_to(rt, app, twilio, worker,
                                                                      people):
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    rules = list(app.url_map.iter_rules())
    assert [r.rule for r in rules if "interaction_id" in r.arguments
            and not r.rule.startswith("/api/")] == []  # no page shows one interaction
    interaction_routes = [r for r in rules if "interaction_id" in r.arguments]
    assert {r.endpoint for r in interaction_routes} == set(INTERACTION_BODIES)
    bob, before = Desk(app, "bob"), row_counts(rt)
    for rule in interaction_routes:
        path = rule.rule.replace("<int:interaction_id>", str(interaction.id))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            reply = call(bob.client, method, path, bob.token, INTERACTION_BODIES[rule.endpoint])
            assert reply.status_code == 403, (method, path, reply.get_json())
    assert bob.get("/api/me/current").json["interaction"] is None
    assert row_counts(rt) == before
    alice = Desk(app, "alice")  # the agent it was routed to is let in
    assert alice.get(f"/api/interactions/{interaction.id}").status_code == 200


def test_every_state_changing_route_refuses_a_request_without_or_with_a_foreign_csrf_token(
        rt, app, people):
    ada, bob = Desk(app, "ada"), Desk(app, "bob")
    before = row_counts(rt)
    changing = [r for r in routes(app) if r[1] in CHANGES
                and blueprint(r[0]) not in SIGNED_BLUEPRINTS]
    assert len(changing) > 20
    for _endpoint, method, path in changing:
        for token in (None, bob.token):
            reply = call(ada.client, method, path, token)
            assert reply.status_code == 400, (method, path, token, reply.status_code)
            assert "CSRF" in reply.get_json()["detail"], (method, path)
    form = ada.client.post("/sign-in", data={"username": "bob", "password": PASSWORD})
    assert form.status_code == 400  # the sign-in form needs its token too
    assert ada.get("/api/me").json["username"] == "ada"  # sign-out without a token: refused
    assert row_counts(rt) == before


def _production_app(settings: Any) -> Any:
    from entrypoints.web import create_app
    return create_app({"env": "production", "database_url": settings.database_url,
                       "redis_url": settings.redis_url, "public_base_url": PUBLIC_BASE,
                       "twilio_auth_token": AUTH_TOKEN, "secret_key": "production-secret",
                       "twilio_api_base_url": settings.twilio_api_base_url,
                       "twilio_caller_id": "+12125550100"})


def test_production_session_and_remember_cookies_are_secure_httponly_and_samesite(
        rt, settings, people):
    app = _production_app(settings)
    try:
        config = app.config
        for family in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
            assert config[f"{family}_SECURE"] is True, family
            assert config[f"{family}_HTTPONLY"] is True, family
            assert config[f"{family}_SAMESITE"] == "Lax", family
        client = app.test_client()
        token = anonymous_token(client)
        reply = client.post("/sign-in", data={"username": "alice", "password": PASSWORD,
                                              "csrf_token": token})
        assert reply.status_code == 302
        cookies = reply.headers.getlist("Set-Cookie")
        assert [c.split("=", 1)[0] for c in cookies] == ["session"]  # no remember-me cookie
        assert all(flag in cookies[0] for flag in ("Secure", "HttpOnly", "SameSite=Lax"))
    finally:
        app.extensions["holdless"].close()


def test_production_refuses_to_start_with_cookies_that_are_not_secure(settings):
    from entrypoints.web import create_app
    from holdless.settings import SettingsError
    with pytest.raises(SettingsError, match="SESSION_COOKIE_SECURE"):
        create_app({"env": "production", "database_url": settings.database_url,
                    "redis_url": settings.redis_url, "public_base_url": PUBLIC_BASE,
                    "twilio_auth_token": AUTH_TOKEN, "secret_key": "production-secret",
                    "secure_cookies": False})

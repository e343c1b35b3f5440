"""Caller identity extras: an account number keyed in the IVR (queues that ask for it), and
the administrator attaching a name and account reference to a number (validated, audited)."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select

from admin import audit, config, directory
from models.admin import ConfigAuditEntry
from models.entities import Caller, Interaction
from tests.console_helpers import PASSWORD, Desk, seed_people
from tests.helpers import call_form, spoken, twiml

PROMPT = ("If you have an account number, enter it now followed by pound, "
          "or press pound to skip.")


def _ask_account(rt, slug="support"):
    with rt.db.session() as s:  # the administrator's queue setting (audited)
        config.update_queue(s, audit.Actor.operator(), slug, {"ask_account": "on"})


def _interaction(rt, form):
    with rt.db.session() as s:
        row = s.scalar(select(Interaction).where(Interaction.call_sid == form["CallSid"]))
        return row, (row.caller.name if row.caller else None,
                     row.caller.account_ref if row.caller else None)


def test_queue_asking_for_account_prompts_before_the_line_retries_a_bad_one_and_identifies(
        rt, twilio):
    seed_people(rt)
    _ask_account(rt)
    with rt.db.session() as s:
        s.add(Caller(number="+19175550100", name="Ada Lovelace", account_ref="778899"))
    form = call_form(from_="+12125550123")
    asked = twiml(twilio.post("/voice/incoming", form))
    assert spoken(asked).endswith(PROMPT)
    gather = asked.find("Gather")
    assert gather.get("finishOnKey") == "#"
    assert gather.get("action").endswith("/voice/account?queue=support&attempt=1")
    assert asked.find("Enqueue") is None
    bad = twiml(twilio.post("/voice/account?queue=support&attempt=1", {**form, "Digits": "12"}))
    assert spoken(bad) == f"Sorry, that is not a valid account number. {PROMPT}"
    joined = twiml(twilio.post("/voice/account?queue=support&attempt=2",
                               {**form, "Digits": "778899"}))
    assert joined.find("Enqueue").text == "support"
    row, identity = _interaction(rt, form)
    assert row.ivr_choices["account"] == "778899" and row.status == "waiting"
    assert identity == ("Ada Lovelace", "778899")


def test_pound_alone_skips_the_account_and_a_known_caller_gets_a_keyed_account_attached(
        rt, twilio):
    seed_people(rt)
    _ask_account(rt)
    with rt.db.session() as s:
        s.add(Caller(number="+12125550123", name="Grace Hopper", account_ref=""))
    skipper = call_form(from_="+12125550777")
    twilio.post("/voice/incoming", skipper)
    skipped = twiml(twilio.post("/voice/account?queue=support&attempt=1", skipper))
    assert skipped.find("Enqueue").text == "support"
    assert _interaction(rt, skipper)[0].ivr_choices["account"] == "skipped"
    known = call_form(from_="+12125550123")
    twilio.post("/voice/incoming", known)
    twilio.post("/voice/account?queue=support&attempt=1", {**known, "Digits": "445566"})
    assert _interaction(rt, known)[1] == ("Grace Hopper", "445566")


def test_queue_without_the_setting_joins_the_line_at_once(rt, twilio):
    seed_people(rt)
    joined = twiml(twilio.post("/voice/incoming", call_form()))
    assert joined.find("Enqueue").text == "support"
    assert PROMPT not in spoken(joined)


def _admin(rt, app):
    with rt.db.session() as s:
        directory.create_agent(s, "Root Admin", "root", "client:root", [], "admin", PASSWORD)
    return Desk(app, "root")


def test_admin_attaches_name_and_account_to_a_number_validated_and_audited(rt, app):
    seed_people(rt)
    root = _admin(rt, app)
    created = root.send("PUT", "/api/callers/" + quote("(212) 555-0199"),
                        {"name": "Grace Hopper", "account_ref": "ACC-42"})
    assert created.status_code == 201
    assert created.json["number"] == "+12125550199"
    updated = root.send("PUT", "/api/callers/+12125550199", {"name": "Grace B. Hopper",
                                                              "account_ref": "ACC-42"})
    assert updated.status_code == 200 and updated.json["name"] == "Grace B. Hopper"
    with rt.db.session() as s:
        [caller] = s.scalars(select(Caller)).all()
        assert (caller.number, caller.name, caller.account_ref) == (
            "+12125550199", "Grace B. Hopper", "ACC-42")
        audit = s.scalars(select(ConfigAuditEntry).order_by(ConfigAuditEntry.id)).all()
        assert [(a.actor, a.action, a.entity, a.before and a.before["name"], a.after["name"])
                for a in audit] == [("root", "create", "caller", None, "Grace Hopper"),
                                    ("root", "update", "caller", "Grace Hopper",
                                     "Grace B. Hopper")]


def test_callers_endpoint_refuses_bad_numbers_fields_other_roles_and_missing_csrf(rt, app):
    seed_people(rt)
    root = _admin(rt, app)
    bad = root.send("PUT", "/api/callers/12345", {"name": "x"})
    assert bad.status_code == 400 and bad.json["detail"].startswith("number:")
    long_name = root.send("PUT", "/api/callers/+12125550199", {"name": "x" * 121})
    assert long_name.status_code == 400 and long_name.json["detail"].startswith("name:")
    alice = Desk(app, "alice")
    assert alice.send("PUT", "/api/callers/+12125550199", {"name": "x"}).status_code == 403
    no_csrf = root.client.put("/api/callers/+12125550199", json={"name": "x"})
    assert no_csrf.status_code == 400
    assert app.test_client().put("/api/callers/+12125550199", json={}).status_code in (400, 401)
    with rt.db.session() as s:
        assert s.scalars(select(Caller)).all() == []
        assert s.scalars(select(ConfigAuditEntry)).all() == []

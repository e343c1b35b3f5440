"""Hostile webhook input: forged or re-signed requests, oversized bodies, wrong content types,
replays, markup in names, and keys of every kind. Each is refused with a clear 4xx (or
answered with a spoken retry) and changes nothing."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from models.entities import Assignment, Caller, Interaction, Leg
from queueing import keys, lines
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE
from tests.faults import drain
from tests.helpers import (
    call_form,
    make_available,
    reset_stores,
    seed_agent,
    seed_queues,
    spoken,
    twiml,
    verbs,
)

WEBHOOKS = ["/voice/incoming", "/voice/menu", "/voice/hold", "/voice/hold/key",
            "/voice/queue-exit", "/voice/rejoin", "/voice/conference/caller",
            "/voice/agent/whisper?leg=1", "/voice/status/agent?leg=1", "/voice/status"]
INJECTION = "</Say><Dial>+19005550100</Dial><Say>"
FUZZ = settings(max_examples=50, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def snapshot(rt) -> tuple[int, int, int, int, list[str]]:
    """Everything a webhook could change: rows and live keys."""
    with rt.db.session() as s:
        rows = (s.scalar(select(func.count(Interaction.id))),
                s.scalar(select(func.count(Assignment.id))),
                s.scalar(select(func.count(Leg.id))),
                s.scalar(select(func.count(Caller.id))))
    # The dial pacer's slot expires on its own once passed (holdless.pacer): not a change.
    return (*rows, sorted(k for k in rt.live.scan_iter("*")
                          if not k.startswith("rq:") and k != keys.dial_pacer()))


def signed(path: str, form: dict[str, str], token: str = AUTH_TOKEN) -> dict[str, str]:
    """The X-Twilio-Signature header for `form` posted to `path`."""
    return {"X-Twilio-Signature":
            RequestValidator(token).compute_signature(PUBLIC_BASE + path, form)}


@pytest.fixture
def busy_line(rt, twilio):
    """A queue with one caller waiting (so there is state to protect)."""
    seed_queues(rt, ("support", "Support", None))
    form = call_form(from_="+12125550142")
    twiml(twilio.post("/voice/incoming", form))
    return form


@pytest.mark.parametrize("path", WEBHOOKS)
def test_request_re_signed_with_another_token_is_refused_on_every_webhook(
        client, rt, busy_line, path):
    before = snapshot(rt)
    form = {**busy_line, "CallStatus": "completed", "Digits": "1"}
    resp = client.post(path, data=form, headers=signed(path, form, "another-accounts-token"))
    assert resp.status_code == 403
    assert snapshot(rt) == before


@pytest.mark.parametrize("signed_first", [True, False])
def test_oversized_body_is_413_and_changes_nothing(client, rt, busy_line, signed_first):
    before = snapshot(rt)
    form = call_form(Filler="x" * (70 * 1024))
    headers = signed("/voice/incoming", form) if signed_first else {}
    resp = client.post("/voice/incoming", data=form, headers=headers)
    assert resp.status_code == 413
    assert snapshot(rt) == before


@pytest.mark.parametrize("content_type", ["application/json", "text/xml", "text/plain"])
def test_non_form_body_to_a_form_webhook_is_refused_and_changes_nothing(
        client, rt, busy_line, content_type):
    before = snapshot(rt)
    form = call_form()
    body = json.dumps(form) if content_type == "application/json" else str(form)
    # Signed as the JSON's own fields would be (a forger's best guess) ...
    forged = client.post("/voice/incoming", data=body, content_type=content_type,
                         headers=signed("/voice/incoming", form))
    # ... and signed over what the form parser sees (nothing): a valid signature, no CallSid.
    empty = client.post("/voice/incoming", data=body, content_type=content_type,
                        headers=signed("/voice/incoming", {}))
    assert forged.status_code == 403
    assert empty.status_code == 400
    assert snapshot(rt) == before


def test_replayed_requests_record_one_interaction_and_one_place(rt, twilio):
    seed_queues(rt, ("sales", "Sales", "1"), ("support", "Support", "2"))
    form = call_form(from_="+12125550143")
    for _ in range(5):
        twiml(twilio.post("/voice/incoming", form))
    for _ in range(5):
        assert twiml(twilio.post("/voice/menu?attempt=1", {**form, "Digits": "2"})).find(
            "Enqueue").text == "support"
    for _ in range(3):
        twilio.post("/voice/status", {**form, "CallStatus": "completed"})
        replay = twiml(twilio.post("/voice/menu?attempt=1", {**form, "Digits": "1"}))
        assert "Enqueue" not in verbs(replay)
    with rt.db.session() as s:
        assert s.scalar(select(func.count(Interaction.id))) == 1
        assert s.scalar(select(Interaction)).ivr_choices == {"menu": "support"}
    assert lines.length(rt.live, "sales") == lines.length(rt.live, "support") == 0


def test_markup_in_a_caller_name_is_spoken_as_text_in_greeting_and_whisper(
        rt, twilio, twilio_api):
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        s.add(Caller(number="+12125550144", name=INJECTION))
    agent_id = seed_agent(rt, "alice", ["support"])
    make_available(rt, agent_id)
    greeting = twiml(twilio.post("/voice/incoming", call_form(from_="+12125550144")))
    assert verbs(greeting) == ["Say", "Enqueue"]
    assert INJECTION in spoken(greeting)
    drain(rt)
    with rt.db.session() as s:
        leg = s.scalar(select(Leg))
    whisper = twiml(twilio.post(f"/voice/agent/whisper?leg={leg.id}",
                                call_form(sid=leg.call_sid, from_="+12125550000")))
    assert verbs(whisper) == ["Say", "Dial"]
    assert [child.tag for child in whisper.find("Dial")] == ["Conference"]
    assert whisper.find("Dial/Conference").text.startswith("hl-")
    assert INJECTION in spoken(whisper)


@FUZZ
@given(name=st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                    max_size=60))
def test_any_caller_name_gives_well_formed_twiml_that_speaks_it(rt, twilio, name):
    # NUL and lone surrogates are left out: no database stores them, and the API refuses
    # both (tests below).
    reset_stores(rt)
    seed_queues(rt, ("support", "Support", None))
    with rt.db.session() as s:
        s.add(Caller(number="+12125550145", name=name))
    resp = twilio.post("/voice/incoming", call_form(from_="+12125550145"))
    note(resp.get_data(as_text=True))
    root = twiml(resp)  # parses: well-formed XML whatever the name holds
    assert verbs(root) == ["Gather", "Enqueue"]  # the callback offer, inside its Gather
    assert all(child.tag in ("Gather", "Say", "Enqueue") for child in root.iter()
               if child is not root)


@FUZZ
@given(digits=st.one_of(st.text(max_size=40), st.text("0123456789*#", max_size=25),
                        st.sampled_from(["", " ", "1 ", "١", "²", "0x1", "-1", "1e3", "%00",
                                         "<Dial>1</Dial>", "\x00", "9" * 5000])))
def test_menu_digits_of_every_kind_answer_200_with_a_retry_or_a_join(rt, twilio, digits):
    reset_stores(rt)
    seed_queues(rt, ("sales", "Sales", "1"), ("support", "Support", "2"))
    form = call_form()
    twiml(twilio.post("/voice/incoming", form))
    resp = twilio.post("/voice/menu?attempt=1", {**form, "Digits": digits})
    assert resp.status_code == 200
    root = twiml(resp)
    if digits.strip() in ("1", "2"):
        assert verbs(root)[-1] == "Enqueue"  # after the place (and any offer, in its Gather)
    else:
        assert verbs(root) == ["Gather", "Redirect"]
        assert "Sorry" in spoken(root)
        assert lines.length(rt.live, "sales") + lines.length(rt.live, "support") == 0


@FUZZ
@given(digits=st.text(max_size=40))
def test_hold_keys_of_every_kind_keep_the_caller_holding_but_1_and_2_step_out(
        rt, twilio, digits):
    reset_stores(rt)
    seed_queues(rt, ("support", "Support", None))
    form = call_form()
    twiml(twilio.post("/voice/incoming", form))
    root = twiml(twilio.post("/voice/hold/key", {**form, "Digits": digits}))
    if digits.strip() in ("1", "2"):  # callback or message: leave Twilio's queue to choose
        assert verbs(root) == ["Leave"]
    else:
        assert verbs(root) == ["Say"] and "keep your place" in spoken(root)
    assert lines.length(rt.live, "support") == 1


@pytest.mark.parametrize("attempt", ["0", "-1", "abc", "99999999999999999999", "1%00", ""])
def test_bad_attempt_argument_is_400_and_changes_nothing(client, rt, busy_line, attempt):
    before = snapshot(rt)
    path = f"/voice/menu?attempt={attempt}"
    form = {**busy_line, "Digits": "1"}
    assert client.post(path, data=form, headers=signed(path, form)).status_code == 400
    assert snapshot(rt) == before


def test_text_with_a_nul_character_is_refused_400_and_changes_nothing(app, rt):
    from tests.console_helpers import Desk, seed_people
    seed_people(rt)
    alice = Desk(app, "alice")
    answer = alice.send("POST", "/api/me/state", {"state": "available\u0000"})
    assert answer.status_code == 400
    assert "NUL" in answer.json["detail"]
    assert alice.get("/api/me").json["state"] == "offline"


@pytest.mark.parametrize("text", ["\ud800", "ok \udfff then", "\udbff\udbff"])
def test_json_text_with_a_lone_surrogate_is_refused_400_and_changes_nothing(
        app, rt, twilio, worker, text):
    from tests.console_helpers import Desk, route_call_to, seed_people
    people = seed_people(rt)
    _form, interaction, _leg = route_call_to(rt, twilio, worker, people["alice"])
    alice = Desk(app, "alice")
    before = snapshot(rt)
    for method, path in (("POST", f"/api/interactions/{interaction.id}/notes"),
                         ("PUT", f"/api/interactions/{interaction.id}/notes/draft")):
        answer = alice.send(method, path, {"text": text})
        assert answer.status_code == 400, answer.get_data(as_text=True)
        assert "UTF-8" in answer.json["detail"]
    assert snapshot(rt) == before

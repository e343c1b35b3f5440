"""The console during a callback: "callback, attempt N of M", reference, voicemail recording,
and the caller's callback history beside their previous interactions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models.callbacks import UNREACHABLE, Callback, CallbackAttempt
from models.entities import Queue
from tests.callback_steps import agent_answers, book_callback, only_callback
from tests.console_helpers import Desk, route_call_to, seed_people
from tests.helpers import make_available

ACCOUNT = "AC" + "0" * 32  # the account of the settings under test
RECORDING_SID = "RE" + "1" * 32
MEDIA = b"ID3 the caller's message"


def _recording(twilio_api) -> str:
    """A recording kept by the stand-in, whose media needs the account's basic auth."""
    return twilio_api.add_recording(ACCOUNT, RECORDING_SID, MEDIA)


def test_agent_rung_for_a_callback_sees_attempt_reference_recording_and_history(
        rt, app, twilio, worker, frozen_clock, twilio_api):
    people = seed_people(rt)
    book_callback(twilio)
    worker()
    callback = only_callback(rt)
    with rt.db.session() as s:
        s.get(Callback, callback.id).recording_url = _recording(twilio_api)
    frozen_clock.advance(300)
    make_available(rt, people["alice"])
    worker()
    alice = Desk(app, "alice")
    body = alice.get("/api/me/current").json
    context = body["interaction"]
    assert (context["id"], context["phase"]) == (callback.interaction_id, "ringing")
    assert context["callback"] == {
        "id": callback.id, "reference": callback.reference, "status": "dialling",
        "queue": "Support", "time_zone": "America/New_York",
        "requested_at": context["callback"]["requested_at"],
        "attempt": 1, "max_attempts": 3, "on_attempt_now": True,
        "recording_url": f"/api/callbacks/{callback.id}/recording?via={callback.interaction_id}"}
    agent_answers(twilio, rt)
    context = alice.get("/api/me/current").json["interaction"]
    assert context["phase"] == "connected"
    [history] = context["callback_history"]
    assert (history["reference"], history["recording_url"]) == (
        callback.reference, context["callback"]["recording_url"])
    assert [(a["number"], a["agent"], a["outcome"]) for a in history["attempts"]] == [
        (1, "Alice Agent", "ringing")]
    note = alice.send("POST", f"/api/interactions/{context['id']}/notes", {"text": "called back"})
    assert note.status_code == 201
    assert Desk(app, "bob").get(f"/api/interactions/{context['id']}").status_code == 403


def test_a_callers_earlier_callbacks_show_beside_previous_interactions(
        rt, app, twilio, worker, frozen_clock):
    people = seed_people(rt)
    now = frozen_clock.now()
    with rt.db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.slug == "support"))
        old = Callback(queue_id=queue.id, number="+12125550123", reference="KM7RA3",
                       status=UNREACHABLE, place=0.0, attempts=2, max_attempts=2,
                       created_at=now - timedelta(days=2), updated_at=now)
        old.tries = [CallbackAttempt(number=n, idempotency_key=f"old-{n}", agent_id=people["bob"],
                                     outcome="no-answer", started_at=now - timedelta(days=2))
                     for n in (1, 2)]
        s.add(old)
    route_call_to(rt, twilio, worker, people["alice"])
    context = Desk(app, "alice").get("/api/me/current").json["interaction"]
    assert context["callback"] is None
    [history] = context["callback_history"]
    assert (history["reference"], history["status"]) == ("KM7RA3", "unreachable")
    assert [(a["number"], a["agent"], a["outcome"]) for a in history["attempts"]] == [
        (1, "Bob Agent", "no-answer"), (2, "Bob Agent", "no-answer")]


def test_callback_wrap_up_shows_in_the_console_until_the_agent_finishes_it(
        rt, app, twilio, worker, frozen_clock):
    people = seed_people(rt)
    book_callback(twilio)
    worker()
    callback = only_callback(rt)
    make_available(rt, people["alice"])
    worker()
    attempt, _whisper, _form = agent_answers(twilio, rt)
    with rt.db.session() as s:
        s.get(CallbackAttempt, attempt.id).outcome = "connected"
    twilio.post(f"/voice/callback/agent/status?attempt={attempt.id}",
                {"CallSid": attempt.agent_call_sid, "AccountSid": "AC" + "0" * 32,
                 "CallStatus": "completed"})
    alice = Desk(app, "alice")
    body = alice.get("/api/me/current").json
    assert body["state"] == "wrap-up"
    assert (body["interaction"]["id"], body["interaction"]["phase"]) == (
        callback.interaction_id, "wrap-up")
    done = alice.send("POST", f"/api/interactions/{callback.interaction_id}/wrap-up",
                      {"disposition": "resolved"})
    assert done.json == {"state": "available"}
    assert alice.get("/api/me/current").json["interaction"] is None


def test_recording_media_needs_the_accounts_basic_auth_so_agents_hear_it_through_the_app(
        rt, app, twilio, worker, frozen_clock, twilio_api):
    """Accounts may require HTTP basic auth for recording media
    (twilio.com/docs/voice/api/recording#fetch-a-recording-media-file): the console never
    links Twilio's URL; the app fetches the media with the account's credentials for an
    agent who may see the call, and audits each play."""
    from models.console import AuditEntry
    people = seed_people(rt)
    book_callback(twilio)
    worker()
    callback = only_callback(rt)
    url = _recording(twilio_api)
    with rt.db.session() as s:
        s.get(Callback, callback.id).recording_url = url
    import requests
    assert requests.get(twilio_api.base_url + url.removeprefix("https://api.twilio.com")
                        + ".mp3", timeout=5).status_code == 401  # a bare link is refused
    frozen_clock.advance(300)
    make_available(rt, people["alice"])
    worker()
    alice = Desk(app, "alice")
    link = alice.get("/api/me/current").json["interaction"]["callback"]["recording_url"]
    assert not link.startswith("https://api.twilio.com")
    played = alice.get(link)
    assert played.status_code == 200 and played.data == MEDIA
    assert played.mimetype == "audio/mpeg" and "no-store" in played.headers["Cache-Control"]
    fetched = twilio_api.requests("recording-media")[-1]
    assert fetched.status == 200 and fetched.path.endswith(f"{RECORDING_SID}.mp3")
    assert Desk(app, "bob").get(link).status_code == 403  # not routed to bob
    with rt.db.session() as s:
        audits = s.scalars(select(AuditEntry).where(AuditEntry.action == "play-recording")).all()
        assert [(a.agent_id, a.interaction_id) for a in audits] == [
            (people["alice"], callback.interaction_id)]

"""The post-call survey, opt-in per queue: redirected when the last agent leaves, two keypad
questions with a spoken retry, answers on the interaction and the agent, in the API and
in the admin report per agent."""

from __future__ import annotations

from sqlalchemy import select, update

from admin import directory, reports
from models.entities import Queue
from models.survey import SurveyAnswer
from tests.console_helpers import PASSWORD, Desk, route_call_to, seed_people
from tests.helpers import call_form, spoken, twiml, verbs


def _survey_on(rt, slug="support"):
    with rt.db.session() as s:
        s.execute(update(Queue).where(Queue.slug == slug).values(survey_enabled=True))


def _agent_leaves(twilio, worker, leg):
    twilio.post(f"/voice/status/agent?leg={leg.id}",
                call_form(sid=leg.call_sid, CallStatus="completed"))
    worker()


def _local(url):
    return url.removeprefix("https://holdless.test")


def _caller_updates(twilio_api, call_sid):
    return [r for r in twilio_api.requests("call-update") if call_sid in r.path]


def test_survey_on_redirects_the_caller_asks_two_questions_and_records_answers_for_agent(
        rt, app, twilio, worker, twilio_api, frozen_clock):
    people = seed_people(rt)
    _survey_on(rt)
    form, interaction, leg = route_call_to(rt, twilio, worker, people["alice"])
    _agent_leaves(twilio, worker, leg)
    redirect = [r for r in _caller_updates(twilio_api, form["CallSid"]) if r.field("Url")][-1]
    assert redirect.field("Url").endswith("/voice/survey")
    assert not any(r.field("Status") == "completed"
                   for r in _caller_updates(twilio_api, form["CallSid"]))
    first = twiml(twilio.post("/voice/survey", form))
    assert spoken(first) == ("Before you go, please answer a short survey about this call. "
                             "Was your issue solved? Press 1 for yes, 2 for no.")
    bad = twiml(twilio.post(_local(first.find("Gather").get("action")), {**form, "Digits": "7"}))
    assert spoken(bad).startswith("Sorry, that is not an option. Was your issue solved?")
    second = twiml(twilio.post(_local(bad.find("Gather").get("action")), {**form, "Digits": "1"}))
    assert "How would you rate the agent, 1 to 5?" in spoken(second)
    done = twiml(twilio.post(_local(second.find("Gather").get("action")), {**form, "Digits": "4"}))
    assert verbs(done) == ["Say", "Hangup"] and "Thank you for your answers" in spoken(done)
    with rt.db.session() as s:
        rows = s.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id)).all()
        assert [(a.interaction_id, a.agent_id, a.question, a.answer) for a in rows] == [
            (interaction.id, people["alice"], "solved", 1),
            (interaction.id, people["alice"], "rating", 4)]
    survey = Desk(app, "alice").get(f"/api/interactions/{interaction.id}").json["survey"]
    assert [(a["question"], a["answer"], a["agent"]) for a in survey] == [
        ("solved", 1, "Alice Agent"), ("rating", 4, "Alice Agent")]
    with rt.db.session() as s:
        [row] = reports.survey_by_agent(s, frozen_clock.now().date(), "support")
    assert row == reports.AgentSurvey("Alice Agent", 1, 100.0, 4.0)
    with rt.db.session() as s:
        directory.create_agent(s, "Ada Admin", "ada", "client:ada", [], "admin", PASSWORD)
    admin = Desk(app, "ada")
    day = frozen_clock.now().date().isoformat()
    shown = admin.get(f"/api/admin/reports/{day}?queue=support").json["surveys"]
    assert shown == [{"agent": "Alice Agent", "surveyed": 1, "solved_percent": 100.0,
                      "mean_rating": 4.0}]
    page = admin.get(f"/admin/reports?day={day}&queue=support").get_data(as_text=True)
    assert "<td>Alice Agent</td><td>1</td>" in page


def test_no_key_twice_skips_the_question_and_a_repeated_webhook_keeps_the_first_answer(
        rt, twilio, worker):
    people = seed_people(rt)
    _survey_on(rt)
    form, _interaction, leg = route_call_to(rt, twilio, worker, people["alice"])
    _agent_leaves(twilio, worker, leg)
    path = "/voice/survey/answer?q=solved&attempt=1"
    retry = twiml(twilio.post(path, form))
    assert spoken(retry).startswith("Sorry, I didn't catch that.")
    skipped = twiml(twilio.post("/voice/survey/answer?q=solved&attempt=2", form))
    assert spoken(skipped).startswith("How would you rate the agent")
    for digits in ("5", "2"):
        twilio.post("/voice/survey/answer?q=rating&attempt=1", {**form, "Digits": digits})
    with rt.db.session() as s:
        assert [(a.question, a.answer) for a in s.scalars(select(SurveyAnswer))] == [
            ("rating", 5)]


def test_survey_off_hangs_the_caller_up_as_before(rt, twilio, worker, twilio_api):
    people = seed_people(rt)
    form, _interaction, leg = route_call_to(rt, twilio, worker, people["alice"])
    _agent_leaves(twilio, worker, leg)
    updates = _caller_updates(twilio_api, form["CallSid"])
    assert updates[-1].field("Status") == "completed"
    assert not any("/voice/survey" in (r.field("Url") or "") for r in updates)


def test_survey_webhooks_refuse_unsigned_requests_and_unknown_questions(rt, client, twilio):
    seed_people(rt)
    form = call_form()
    assert client.post("/voice/survey", data=form).status_code in (401, 403)
    unknown = twiml(twilio.post("/voice/survey/answer?q=salary&attempt=1", {**form, "Digits": "1"}))
    assert verbs(unknown) == ["Say", "Hangup"]

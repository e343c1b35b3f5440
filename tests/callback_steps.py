"""Steps of the callback journey shared by the callback tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models.callbacks import Callback
from tests.helpers import call_form, twiml

BASE = "https://holdless.test"


def local(url: str) -> str:
    """A webhook URL as the test client posts it."""
    return url.removeprefix(BASE)


def call_in(twilio: Any, from_: str = "+12125550123") -> dict[str, str]:
    """A caller phones in and joins the only queue; returns their call form."""
    form = call_form(from_=from_)
    twiml(twilio.post("/voice/incoming", form))
    return form


def ask_for_callback(twilio: Any, form: dict[str, str]) -> Any:
    """Press 1 while holding, leave Twilio's queue; returns the capture TwiML."""
    left = twiml(twilio.post("/voice/hold/key", {**form, "Digits": "1"}))
    assert [child.tag for child in left] == ["Leave"]
    return twiml(twilio.post("/voice/queue-exit", {**form, "QueueResult": "leave"}))


def book_callback(twilio: Any, from_: str = "+12125550123") -> tuple[dict[str, str], Any]:
    """Phone in, ask for a callback on the caller ID and confirm it; returns form and TwiML."""
    form = call_in(twilio, from_)
    prompt = ask_for_callback(twilio, form)
    action = local(prompt.find("Gather").get("action"))
    return form, twiml(twilio.post(action, {**form, "Digits": "1"}))


def only_callback(rt: Any) -> Callback:
    """The one callback in the database."""
    with rt.db.session() as s:
        found = s.scalars(select(Callback)).all()
        assert len(found) == 1
        return found[0]


def run_scheduled(rt: Any, worker: Any) -> None:
    """Run the jobs waiting for a later time now (the frozen clock has been moved on)."""
    from rq.job import Job
    registry = rt.jobs.scheduled_job_registry
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=rt.jobs_redis)
        registry.remove(job)
        rt.jobs.enqueue_job(job)
    worker()


def attempt_row(rt: Any, attempt_id: int | None = None) -> Any:
    """One callback attempt (the newest when no id is given)."""
    from models.callbacks import CallbackAttempt
    with rt.db.session() as s:
        if attempt_id is not None:
            return s.get(CallbackAttempt, attempt_id)
        return s.scalars(select(CallbackAttempt).order_by(CallbackAttempt.id.desc())).first()


def agent_answers(twilio: Any, rt: Any) -> tuple[Any, Any, dict[str, str]]:
    """The rung agent picks up the newest attempt; returns the attempt, whisper TwiML, form."""
    attempt = attempt_row(rt)
    form = call_form(sid=attempt.agent_call_sid, from_="+12125550000")
    root = twiml(twilio.post(f"/voice/callback/agent?attempt={attempt.id}", form))
    return attempt, root, form


def customer_form(rt: Any, attempt_id: int, **extra: str) -> dict[str, str]:
    """What Twilio posts about the customer's call of an attempt."""
    attempt = attempt_row(rt, attempt_id)
    return call_form(sid=attempt.call_sid, from_="+12125550000", **extra)

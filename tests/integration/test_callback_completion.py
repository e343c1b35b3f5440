"""After a callback conversation the agent is free for the next call: the pairing the
callback was placed under ends with the conversation."""

from __future__ import annotations

from sqlalchemy import select

from callbacks import jobs
from models.entities import Assignment
from tests.callback_steps import agent_answers, book_callback, call_in, customer_form, local
from tests.helpers import make_available, seed_agent, seed_queues, twiml


def test_completed_callback_ends_its_assignment_so_the_agent_takes_the_next_caller(
        rt, twilio, worker, twilio_api, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"])
    book_callback(twilio)
    make_available(rt, alice)
    worker()
    attempt, _whisper, agent_form = agent_answers(twilio, rt)
    worker()
    customer_call = twilio_api.calls_created()[-1]
    twiml(twilio.post(local(customer_call.field("Url")),
                      customer_form(rt, attempt.id, AnsweredBy="human")))
    frozen_clock.advance(120)
    twilio.post(f"/voice/callback/agent/status?attempt={attempt.id}",
                {**agent_form, "CallStatus": "completed"})
    with rt.db.session() as s:
        first = s.get(Assignment, attempt.assignment_id)
        assert first.ended_at is not None and first.active_agent_id is None
    frozen_clock.advance(rt.settings.wrap_up_seconds)
    jobs.end_wrap_up(rt, alice, rt.live.hget(f"hl:agent:{alice}", "since"))  # its job, due now
    call_in(twilio, "+12125550177")
    with rt.db.session() as s:
        open_now = s.scalars(select(Assignment).where(Assignment.ended_at.is_(None))).all()
    assert [(a.agent_id, a.entry.startswith("i:")) for a in open_now] == [(alice, True)]

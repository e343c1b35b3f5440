"""The first estimate of a day: with no handle time yet in the live figures, it starts from
the queue's recent days of answered calls; with none, the caller is told honestly that no
estimate can be given yet, not a range so wide it says nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ivr import wording
from models.entities import COMPLETED, Interaction, Leg, Queue
from queueing import estimate, keys, stats, usual
from tests.helpers import call_form, seed_queues, spoken, twiml

TALK = 150.0  # seconds each past call talked


def _past_calls(rt, count, days_ago=1.0, talk=TALK):
    """`count` answered calls of support, `days_ago` days back, each talking `talk` s."""
    answered = rt.clock.now() - timedelta(days=days_ago)
    with rt.db.session() as s:
        queue_id = s.scalar(select(Queue.id).where(Queue.slug == "support"))
        for n in range(count):
            call = Interaction(call_sid=f"CApast{days_ago}x{n:04d}", queue_id=queue_id,
                               status=COMPLETED, created_at=answered, ivr_choices={},
                               joined_at=answered.timestamp(), answered_at=answered,
                               wait_seconds=10.0)
            call.legs.append(Leg(started_at=answered, answered_at=answered, status="completed",
                                 ended_at=answered + timedelta(seconds=talk)))
            s.add(call)
        s.commit()


def _join(rt, twilio, n):
    rt.clock.advance(1)
    return spoken(twiml(twilio.post("/voice/incoming", call_form(from_=f"+1212555{n:04d}"))))


def test_a_first_caller_of_the_day_hears_a_range_from_the_queues_recent_days(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _past_calls(rt, usual.MIN_PRIOR_HANDLE_CALLS)
    said = [_join(rt, twilio, n) for n in range(3)]
    handle = TALK + rt.settings.wrap_up_seconds  # talk plus wrap-up, from yesterday
    assert rt.live.hgetall(keys.handle_average("support"))["average"] == repr(handle)
    figures = stats.queue_stats(rt.live, rt.presence, "support")
    assert wording.wait_sentence(estimate.estimate_wait(3, figures)) in said[2]
    with rt.db.session() as s:
        told = s.scalars(select(Interaction.announced_wait).where(
            Interaction.wait_seconds.is_(None)).order_by(Interaction.id)).all()
    assert told == [handle, 2 * handle, 3 * handle]  # one agent's worth per place, no agent
    assert not any(wording.NO_ESTIMATE in words for words in said)


def test_a_first_caller_with_no_history_is_told_no_estimate_can_be_given_yet(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _past_calls(rt, usual.MIN_PRIOR_HANDLE_CALLS - 1)  # too few to start from
    said = _join(rt, twilio, 1)
    assert wording.NO_ESTIMATE in said and "Your expected wait is" not in said
    assert "You are next in line." in said


def test_calls_older_than_the_recent_days_are_not_a_history_to_start_from(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _past_calls(rt, usual.MIN_PRIOR_HANDLE_CALLS, days_ago=usual.PRIOR_HANDLE_DAYS + 1)
    assert wording.NO_ESTIMATE in _join(rt, twilio, 1)


def test_once_a_call_is_handled_today_callers_hear_an_estimate_again(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    assert wording.NO_ESTIMATE in _join(rt, twilio, 1)
    stats.record_handle_time(rt.live, "support", 200.0)
    said = _join(rt, twilio, 2)
    assert wording.NO_ESTIMATE not in said and "Your expected wait is" in said

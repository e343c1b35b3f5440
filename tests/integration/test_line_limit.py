"""A line cannot overflow: above its queue's max_waiting a new caller is told the line is
full, and why, and offered a callback instead of the hold."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from admin import config
from admin.audit import Actor
from models.callbacks import Callback
from models.entities import Interaction, OpeningHours, Queue
from queueing import lines
from tests.helpers import call_form, seed_queues, spoken, twiml, verbs


def _limit(rt, max_waiting):
    """The queue open 9-17 on weekdays (New York), holding at most `max_waiting`."""
    with rt.db.session() as s:
        queue = s.scalar(select(Queue))
        queue.max_waiting = max_waiting
        queue.hours = [OpeningHours(weekday=d, opens=time(9), closes=time(17)) for d in range(5)]


def test_caller_above_max_waiting_is_told_the_line_is_full_and_offered_a_callback(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _limit(rt, 1)
    first = twiml(twilio.post("/voice/incoming", call_form(from_="+12125550101")))
    assert "Enqueue" in verbs(first)
    turned = twiml(twilio.post("/voice/incoming", call_form(from_="+12125550102")))
    assert "Enqueue" not in verbs(turned)
    said = spoken(turned)
    assert "Our line is full right now: 1 caller already waiting" in said
    assert "Instead of waiting, we can call you back." in said and "press 1" in said
    assert turned.find("Gather") is not None
    assert lines.length(rt.live, "support") == 1
    with rt.db.session() as s:
        outcomes = [i.outcome for i in s.scalars(select(Interaction).order_by(Interaction.id))]
    assert outcomes[-1] == "line full"


def test_raising_max_waiting_lets_the_next_caller_join_the_line(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _limit(rt, 2)
    for n in range(2):
        assert "Enqueue" in verbs(twiml(twilio.post(
            "/voice/incoming", call_form(from_=f"+1212555010{n}"))))
    assert lines.length(rt.live, "support") == 2


def test_caller_above_max_waiting_with_no_callback_time_free_is_told_why_and_to_call_again(
        rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _limit(rt, 1)
    with rt.db.session() as s:  # a plan with nobody in it: no callback time has room
        config.set_staffing(s, Actor(None, "operator"), "support", 1, "09:00", 0)
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", call_form(
        from_="+12125550101"))))
    turned = twiml(twilio.post("/voice/incoming", call_form(from_="+12125550102")))
    said = spoken(turned)
    assert "Our line is full right now: 1 caller already waiting" in said
    assert said.endswith("Please call again a little later. Thank you for calling. Goodbye.")
    assert "Enqueue" not in verbs(turned) and turned.find("Gather") is None
    assert verbs(turned)[-1] == "Hangup"
    assert lines.length(rt.live, "support") == 1
    with rt.db.session() as s:
        assert s.scalars(select(Callback)).all() == []
        outcomes = [i.outcome for i in s.scalars(select(Interaction).order_by(Interaction.id))]
    assert outcomes[-1] == "line full"


def test_caller_choosing_a_full_queue_in_the_menu_is_told_and_offered_a_callback(rt, twilio):
    seed_queues(rt, ("support", "Support", "1"), ("sales", "Sales", "2"))
    with rt.db.session() as s:
        s.scalar(select(Queue).where(Queue.slug == "support")).max_waiting = 1
    for number in ("+12125550101", "+12125550102"):
        form = call_form(from_=number)
        twiml(twilio.post("/voice/incoming", form))
        chosen = twiml(twilio.post("/voice/menu?attempt=1", {**form, "Digits": "1"}))
    said = spoken(chosen)
    assert "Enqueue" not in verbs(chosen)
    assert "Our line is full right now: 1 caller already waiting" in said
    assert "Instead of waiting, we can call you back." in said
    assert lines.length(rt.live, "support") == 1

"""A Twilio queue holds at most its MaxSize (Twilio's maximum is 5000), and past it Twilio
refuses an <Enqueue> with QueueResult=queue-full after the caller was told their place
(twilio.com/docs/voice/twiml/enqueue; twilio.com/docs/api/errors/14207). Holdless sizes
its Twilio queues through REST, never tells a caller a place past what the queue takes, and
offers the callback to a caller Twilio refused anyway."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest
from sqlalchemy import select

from admin.audit import Actor
from admin.config import ConfigError, update_queue
from holdless import tasks
from holdless.settings import TWILIO_MAX_QUEUE_SIZE, TWILIO_QUEUE_MARGIN
from ivr import wording
from ivr.in_line import TWILIO_QUEUE_FULL
from models.entities import OpeningHours, Queue
from queueing import lines
from tests.helpers import call_form, seed_queues, spoken, twiml, verbs

ROOM = 2  # callers a small Twilio queue takes once its margin is kept free


@pytest.fixture
def settings(settings):
    """The stack under test with Twilio queues of ROOM + TWILIO_QUEUE_MARGIN places."""
    return replace(settings, twilio_queue_size=ROOM + TWILIO_QUEUE_MARGIN)


def _open_weekdays(rt):
    """The queue open 9-17 on weekdays (New York): callback slots to offer."""
    with rt.db.session() as s:
        queue = s.scalar(select(Queue))
        queue.hours = [OpeningHours(weekday=d, opens=time(9), closes=time(17)) for d in range(5)]


def test_a_line_at_its_twilio_queue_size_offers_the_next_caller_a_callback_never_a_place(
        rt, twilio):
    seed_queues(rt, ("support", "Support", None))  # no max_waiting of its own
    _open_weekdays(rt)
    for n in range(ROOM):
        joined = twiml(twilio.post("/voice/incoming", call_form(from_=f"+1212555010{n}")))
        assert "Enqueue" in verbs(joined)
    turned = twiml(twilio.post("/voice/incoming", call_form(from_="+12125550109")))
    said = spoken(turned)
    assert "Enqueue" not in verbs(turned)
    assert wording.place_in_line(ROOM + 1) not in said and "in line" not in said
    assert "Our line is full right now: 2 callers already waiting" in said
    assert "we can call you back" in said and turned.find("Gather") is not None
    assert lines.length(rt.live, "support") == ROOM


def test_twilio_refusing_a_caller_with_queue_full_offers_the_callback(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    form = call_form(from_="+12125550101")
    assert "Enqueue" in verbs(twiml(twilio.post("/voice/incoming", form)))
    refused = twiml(twilio.post("/voice/queue-exit", {**form, "QueueResult": "queue-full"}))
    said = spoken(refused)
    assert TWILIO_QUEUE_FULL in said
    assert refused.find(".//Gather") is not None and "Hangup" not in verbs(refused)
    assert "call again" not in said
    assert lines.length(rt.live, "support") == 0  # out of the line while booking


def test_each_lines_twilio_queue_is_created_with_the_max_size_the_app_needs(
        rt, worker, twilio_api, settings):
    seed_queues(rt, ("support", "Support", "1"), ("billing", "Billing", "2"))
    twilio_api.store.ensure_queue(settings.twilio_account_sid, "billing")  # Twilio's default
    worker()  # a worker starting sizes every line's Twilio queue
    created = twilio_api.requests("queue-create")
    assert [(r.field("FriendlyName"), r.field("MaxSize")) for r in created] == [
        ("support", str(settings.twilio_queue_size))]
    updated = twilio_api.requests("queue-update")
    assert [r.field("MaxSize") for r in updated] == [str(settings.twilio_queue_size)]
    assert {q.friendly_name: q.max_size for q in twilio_api.store.list_queues()} == {
        "support": settings.twilio_queue_size, "billing": settings.twilio_queue_size}



def test_a_max_waiting_past_what_a_twilio_queue_holds_is_refused_in_plain_words(rt):
    seed_queues(rt, ("support", "Support", None))
    most = TWILIO_MAX_QUEUE_SIZE - TWILIO_QUEUE_MARGIN
    with rt.db.session() as s, pytest.raises(ConfigError) as refused:
        update_queue(s, Actor(None, "test"), "support", {"max_waiting": most + 1})
    assert f"can be at most {most}: a Twilio queue holds at most 5000 calls" in str(
        refused.value)


def test_a_queue_an_admin_adds_gets_its_twilio_queue_created_with_the_size_the_app_needs(
        rt, app, worker, twilio_api, settings):
    from tests.console_helpers import Desk, seed_people_and_admin
    seed_people_and_admin(rt)
    worker()  # the worker's own start sizes the seeded queues
    before = len(twilio_api.requests("queue-create"))
    made = Desk(app, "ada").send("POST", "/api/admin/queues", {
        "slug": "billing", "name": "Billing", "digit": "3", "time_zone": "UTC"})
    assert made.status_code == 201
    assert rt.jobs.job_ids == [tasks.SIZE_TWILIO_QUEUES_JOB_ID]  # handed to the worker now
    worker()
    created = twilio_api.requests("queue-create")[before:]
    assert [(r.field("FriendlyName"), r.field("MaxSize")) for r in created] == [
        ("billing", str(settings.twilio_queue_size))]

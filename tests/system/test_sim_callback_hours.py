"""Callbacks ring only while their queue is open, through the real stack and the phone
network (the app over HTTP, a real worker, the Twilio stand-in): a callback booked while the
queue is open is not rung once it has closed, however free its agent, and its customer is
texted the next opening; a German customer of a New York queue is not rung in their quiet
hours (Berlin time) while the queue is open. The same rule at fixed moments:
tests/integration/test_callback_hours.py."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from holdless import clock
from models.admin import CALLBACK_DEFAULTS, CallbackPolicy
from models.callbacks import BOOKED, Callback
from models.entities import OpeningHours, Queue
from queueing import lines
from queueing.presence import AVAILABLE
from simulator import Answer, answer_when
from tests.helpers import make_available, seed_agent, seed_queues
from tests.system import test_e2e_sim as e2e
from tests.system.test_e2e_sim import CALLER, OUR_NUMBER, Live, agent_endpoint, eventually

live = e2e.live  # the running stack and the phone network (a fixture)

NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
GERMAN_MOBILE = "+4915123456789"
BOOK = answer_when({"Press 1 to be called back": "1", "Press 1 to confirm": "1"})
QUIET_SPELL = 2.0  # real seconds: many routing turns and jobs at the stack's pace


def _close_until_tomorrow_nine(live: Live) -> datetime:
    """The queue's hours become 9 AM-5 PM tomorrow only (New York): it is closed now.
    Returns tomorrow 9 AM."""
    tomorrow = clock.now().astimezone(NEW_YORK).date() + timedelta(days=1)
    with live.rt.db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.slug == "support"))
        queue.hours = [OpeningHours(weekday=tomorrow.weekday(), opens=clock_time(9),
                                    closes=clock_time(17))]
    return datetime.combine(tomorrow, clock_time(9), NEW_YORK)


def _callback(live: Live) -> Callback:
    with live.rt.db.session() as s:
        found = s.scalars(select(Callback)).one()
        s.expunge(found)
        return found


def test_callback_booked_while_open_is_not_rung_after_closing_when_its_agent_frees_up(live):
    seed_queues(live.rt, ("support", "Support", None))
    e2e._callbacks_offered_at_once(live)
    alice = seed_agent(live.rt, "alice", ["support"])
    agent_endpoint(live, "alice")
    live.network.register_endpoint(CALLER, Answer.human(after=1), handle_time=20)
    caller = live.network.place_call(CALLER, OUR_NUMBER, keypresses=BOOK)
    caller.wait_ended(timeout=20)
    assert "You're booked" in caller.said(), caller.said()
    assert lines.length(live.rt.live, "support") == 1  # keeps its place, nobody free yet
    opening = _close_until_tomorrow_nine(live)

    make_available(live.rt, alice)
    eventually(lambda: _callback(live).next_attempt_at == opening, timeout=10)
    time.sleep(QUIET_SPELL)
    assert live.network.calls_to("client:alice") == []
    assert [c for c in live.network.calls_to(CALLER) if c.sid != caller.sid] == []
    assert (_callback(live).status, lines.length(live.rt.live, "support")) == (BOOKED, 0)
    assert live.rt.presence.state(alice) == AVAILABLE
    eventually(lambda: any("tomorrow at 9 AM" in m.body
                           for m in live.network.rest.messages()), timeout=10)


def test_german_customer_of_an_open_new_york_queue_is_not_rung_in_their_quiet_hours(live):
    seed_queues(live.rt, ("support", "Support", None))  # no hours: open now
    e2e._callbacks_offered_at_once(live)
    with live.rt.db.session() as s:  # quiet from noon in the customer's time: now, in Berlin
        queue_id = s.scalar(select(Queue.id).where(Queue.slug == "support"))
        s.add(CallbackPolicy(queue_id=queue_id, **{
            **CALLBACK_DEFAULTS, "allowed_countries": ["DE", "US"],
            "quiet_starts": clock_time(12), "quiet_ends": clock_time(8)}))
    alice = seed_agent(live.rt, "alice", ["support"])
    agent_endpoint(live, "alice")
    live.network.register_endpoint(GERMAN_MOBILE, Answer.human(after=1), handle_time=20)
    caller = live.network.place_call(GERMAN_MOBILE, OUR_NUMBER, keypresses=BOOK)
    caller.wait_ended(timeout=20)
    assert "We will call you back tomorrow after 8 AM" in caller.said(), caller.said()
    tomorrow = clock.now().astimezone(BERLIN).date() + timedelta(days=1)

    make_available(live.rt, alice)
    eventually(lambda: _callback(live).next_attempt_at == datetime.combine(
        tomorrow, clock_time(8), BERLIN), timeout=10)
    time.sleep(QUIET_SPELL)
    assert live.network.calls_to("client:alice") == []
    assert [c for c in live.network.calls_to(GERMAN_MOBILE) if c.sid != caller.sid] == []
    assert live.rt.presence.state(alice) == AVAILABLE

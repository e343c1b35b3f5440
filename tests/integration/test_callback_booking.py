"""Offering a callback, capturing and checking the number, and booking it at the caller's place."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models.callbacks import BOOKED, Callback, open_key
from models.entities import COMPLETED, Interaction, Queue
from queueing import keys, lines
from tests.callback_steps import ask_for_callback, book_callback, call_in, local, only_callback
from tests.helpers import seed_queues, spoken, twiml, verbs

OFFER = "Press 1 to be called back when it is your turn, keeping your place in line."


@pytest.fixture
def support(rt):
    seed_queues(rt, ("support", "Support", None))
    return "support"


def test_join_announcement_offers_callback_when_estimate_passes_threshold(rt, twilio, support):
    form = call_in(twilio)
    again = twiml(twilio.post("/voice/incoming", form))
    assert OFFER in spoken(again)


def test_no_callback_offer_when_estimate_is_under_threshold(rt, twilio, support):
    with rt.db.session() as s:
        s.scalar(select(Queue)).callback_threshold_seconds = 3600
    form = call_in(twilio)
    assert OFFER not in spoken(twiml(twilio.post("/voice/incoming", form)))
    assert OFFER not in spoken(twiml(twilio.post("/voice/hold", form)))


def test_every_hold_update_offers_the_callback_inside_the_gather(rt, twilio, support):
    form = call_in(twilio)
    root = twiml(twilio.post("/voice/hold", form))
    assert OFFER in " ".join(s.text for s in root.find("Gather").iter("Say"))


def test_pressing_1_leaves_the_line_and_offers_caller_id_by_last_four(rt, twilio, support):
    form = call_in(twilio)
    prompt = ask_for_callback(twilio, form)
    assert "number ending 0 1 2 3" in spoken(prompt)
    assert "Press 1 to confirm, or 2 to enter another number." in spoken(prompt)
    assert lines.length(rt.live, support) == 0  # routing cannot hand them out meanwhile


def test_other_hold_keys_still_do_nothing(rt, twilio, support):
    form = call_in(twilio)
    root = twiml(twilio.post("/voice/hold/key", {**form, "Digits": "5"}))
    assert "that key does nothing" in spoken(root)
    assert lines.length(rt.live, support) == 1


def test_confirming_commits_callback_at_original_place_then_speaks_and_texts(
        rt, twilio, worker, twilio_api, frozen_clock, support):
    first = call_in(twilio, "+12125550100")
    frozen_clock.advance(30)
    form = call_in(twilio)
    with rt.db.session() as s:
        joined = s.scalar(select(Interaction).where(Interaction.call_sid == form["CallSid"])
                          ).joined_at
    frozen_clock.advance(90)
    prompt = ask_for_callback(twilio, form)
    booked = twiml(twilio.post(local(prompt.find("Gather").get("action")), {**form, "Digits": "1"}))
    callback = only_callback(rt)
    assert callback.status == BOOKED and callback.number == "+12125550123"
    assert callback.place == joined and callback.open_key == open_key(callback.queue_id,
                                                                      callback.number)
    text = spoken(booked)
    assert text.startswith("You're booked. We will call you back in about")
    assert ", ".join(callback.reference) in text
    assert verbs(booked)[-1] == "Hangup"
    waiting = lines.waiting(rt.live, support)
    assert [e.kind for e in waiting] == [lines.CALLER, lines.CALLBACK]
    assert waiting[0].call_sid == first["CallSid"]
    assert waiting[1].kind == lines.CALLBACK and waiting[1].joined == joined
    assert rt.live.zscore(keys.line(support), f"cb:{callback.id}") == joined
    worker()
    [sms] = twilio_api.messages()
    assert sms.to == "+12125550123" and callback.reference in sms.body


def test_caller_hanging_up_after_booking_is_not_counted_abandoned(rt, twilio, support):
    form, _ = book_callback(twilio)
    twilio.post("/voice/status", {**form, "CallStatus": "completed"})
    with rt.db.session() as s:
        interaction = s.scalar(select(Interaction))
        assert interaction.status == COMPLETED and interaction.outcome == "callback booked"
    assert rt.live.lrange(keys.outcomes(support), 0, -1) == []
    assert lines.length(rt.live, support) == 1  # the callback keeps the place


def test_hidden_caller_id_goes_straight_to_keying_a_number(rt, twilio, support):
    form = call_in(twilio, "anonymous")
    prompt = ask_for_callback(twilio, form)
    gather = prompt.find("Gather")
    assert gather.get("finishOnKey") == "#"
    assert local(gather.get("action")) == "/voice/callback/number"
    confirm = twiml(twilio.post("/voice/callback/number", {**form, "Digits": "2015550123"}))
    assert "number ending 0 1 2 3" in spoken(confirm)
    twiml(twilio.post(local(confirm.find("Gather").get("action")), {**form, "Digits": "1"}))
    assert only_callback(rt).number == "+12015550123"


def test_pressing_2_keys_another_number_which_is_booked(rt, twilio, support):
    form = call_in(twilio)
    prompt = ask_for_callback(twilio, form)
    enter = twiml(twilio.post(local(prompt.find("Gather").get("action")), {**form, "Digits": "2"}))
    assert enter.find("Gather").get("finishOnKey") == "#"
    confirm = twiml(twilio.post("/voice/callback/number", {**form, "Digits": "6465550199"}))
    twiml(twilio.post(local(confirm.find("Gather").get("action")), {**form, "Digits": "1"}))
    assert only_callback(rt).number == "+16465550199"


@pytest.mark.parametrize(("keyed", "reason"), [
    ("911", "I cannot call emergency numbers or short codes."),
    ("112", "I cannot call emergency numbers or short codes."),
    ("22222", "I cannot call emergency numbers or short codes."),
    ("9005551234", "I cannot call premium rate numbers."),
    ("5002345678", "I cannot call personal forwarding numbers."),
    ("011447400123456", "I can only call you back on a number in the United States."),
    ("0118823456789", "That is not a complete phone number."),
    ("21255501", "That is not a complete phone number."),
    ("", "I did not hear any digits."),
])
def test_bad_number_is_refused_with_reason_and_one_more_try(rt, twilio, support, keyed, reason):
    form = call_in(twilio, "anonymous")
    ask_for_callback(twilio, form)
    retry = twiml(twilio.post("/voice/callback/number", {**form, "Digits": keyed}))
    assert spoken(retry).startswith(f"{reason} Please try once more.")
    assert retry.find("Gather").get("finishOnKey") == "#"
    with rt.db.session() as s:
        assert s.scalars(select(Callback)).all() == []


def test_second_refusal_returns_caller_to_original_place(rt, twilio, frozen_clock, support):
    form = call_in(twilio, "anonymous")
    frozen_clock.advance(60)
    later = call_in(twilio, "+12125550177")
    ask_for_callback(twilio, form)
    twilio.post("/voice/callback/number", {**form, "Digits": "9005551234"})
    back = twiml(twilio.post("/voice/callback/number", {**form, "Digits": "911"}))
    assert spoken(back) == ("I cannot call emergency numbers or short codes. "
                            "I am returning you to your place in line.")
    assert local(back.find("Redirect").text) == "/voice/rejoin"
    rejoined = twiml(twilio.post("/voice/rejoin", form))
    assert "You are next in line." in spoken(rejoined)
    assert [e.call_sid for e in lines.waiting(rt.live, support)] == [form["CallSid"],
                                                                     later["CallSid"]]


def test_premium_caller_id_is_not_offered_and_caller_keys_another(rt, twilio, support):
    form = call_in(twilio, "+19005551234")
    prompt = ask_for_callback(twilio, form)
    assert spoken(prompt).startswith("I cannot call premium rate numbers. Please enter")


def test_no_answer_to_confirm_twice_returns_caller_to_the_line(rt, twilio, support):
    form = call_in(twilio)
    prompt = ask_for_callback(twilio, form)
    again = twiml(twilio.post(local(prompt.find("Gather").get("action")), form))
    assert "Sorry, I didn't catch that." in spoken(again)
    back = twiml(twilio.post(local(again.find("Gather").get("action")), form))
    assert local(back.find("Redirect").text) == "/voice/rejoin"


def test_asking_again_updates_the_one_open_callback(rt, twilio, frozen_clock, support):
    book_callback(twilio)
    first = only_callback(rt)
    frozen_clock.advance(600)
    form = call_in(twilio, "anonymous")  # no caller ID, so not recognised: asks again
    ask_for_callback(twilio, form)
    confirm = twiml(twilio.post("/voice/callback/number", {**form, "Digits": "2125550123"}))
    twiml(twilio.post(local(confirm.find("Gather").get("action")), {**form, "Digits": "1"}))
    again = only_callback(rt)
    assert (again.id, again.reference, again.place) == (first.id, first.reference, first.place)
    assert again.interaction_id != first.interaction_id
    assert lines.length(rt.live, support) == 1


def test_database_refuses_a_second_open_callback_for_number_and_queue(rt, twilio, support):
    book_callback(twilio)
    first = only_callback(rt)
    with pytest.raises(IntegrityError), rt.db.session() as s:
        s.add(Callback(queue_id=first.queue_id, number=first.number, reference="XXXXXX",
                       place=1.0, open_key=first.open_key, created_at=first.created_at,
                       updated_at=first.updated_at))


def test_caller_handed_to_an_agent_while_pressing_1_keeps_holding_for_them(rt, twilio, support):
    from tests.helpers import make_available, seed_agent
    form = call_in(twilio)
    twiml(twilio.post("/voice/hold/key", {**form, "Digits": "1"}))
    make_available(rt, seed_agent(rt, "alice", [support]))  # routing takes the caller now
    root = twiml(twilio.post("/voice/queue-exit", {**form, "QueueResult": "leave"}))
    assert spoken(root) == "An agent is about to take your call. Please hold."
    assert root.find("Enqueue").text == support
    assert lines.length(rt.live, support) == 0
    with rt.db.session() as s:
        assert s.scalars(select(Callback)).all() == []

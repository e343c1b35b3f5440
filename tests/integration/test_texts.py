"""Texts (SMS) as Twilio does them: its own opt-out keywords and 21610, numbers that cannot
take texts, message status callbacks after `queued`, and a retried job texting once.

Twilio is the stand-in (simulator/); a customer's text reaches Twilio first (the stand-in
applies its keywords) and is then forwarded to the app's messaging webhook, signed.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from callbacks import notify
from holdless.settings import Settings
from models.callbacks import CANCELLED, TEXT_BOOKED
from models.texts import QUEUED, REFUSED, SKIPPED, TextMessage, TextOptOut
from simulator.messaging import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, Fate
from tests.callback_steps import book_callback, local, only_callback
from tests.console_helpers import Desk, seed_people_and_admin
from tests.faults import StatementOutage
from tests.helpers import seed_queues, spoken

CUSTOMER = "+12125550123"
# The number our texts come from (the caller ID), which customers reply to.
OUR_NUMBER = Settings().twilio_caller_id


@pytest.fixture
def support(rt):
    seed_queues(rt, ("support", "Support", None))
    return "support"


def customer_texts(twilio, twilio_api, body, from_=CUSTOMER):
    """The customer texts our number: Twilio applies its keywords, then forwards it."""
    twilio_api.store.messaging.receive(from_, OUR_NUMBER, body)
    form = {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": from_,
            "To": OUR_NUMBER, "Body": body}
    response = twilio.post("/sms/incoming", form)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    found = ET.fromstring(response.get_data(as_text=True)).find("Message")
    return None if found is None else found.text


def texts(rt):
    with rt.db.session() as s:
        return list(s.scalars(select(TextMessage).order_by(TextMessage.id)))


def test_our_texts_ask_for_a_cancel_word_twilio_does_not_reserve(rt, twilio, twilio_api,
                                                                  support, worker):
    book_callback(twilio)
    worker()
    [message] = twilio_api.messages()
    assert "Reply NOCALL if you no longer need the call." in message.body
    reserved = OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | {"HELP", "INFO"}
    words = message.body.upper().replace(".", " ").replace(",", " ").split()
    assert not reserved & set(words)
    assert customer_texts(twilio, twilio_api, "nocall").startswith("Your callback (reference")
    assert only_callback(rt).status == CANCELLED
    assert not twilio_api.store.messaging.is_opted_out(CUSTOMER, OUR_NUMBER)


def test_cancel_is_an_opt_out_keyword_at_twilio_recorded_and_never_texted_after(
        rt, twilio, twilio_api, support, worker):
    assert customer_texts(twilio, twilio_api, "CANCEL") is None  # Twilio replies, not us
    assert twilio_api.store.messaging.auto_replies[-1][1] == CUSTOMER
    with rt.db.session() as s:
        assert s.get(TextOptOut, CUSTOMER).opted_out
    _form, confirmed = book_callback(twilio)
    assert "We cannot send text messages to this number" in spoken(confirmed)
    assert "by text message" not in spoken(confirmed)
    worker()
    assert twilio_api.requests("message-create") == []
    assert [t.status for t in texts(rt)] == [SKIPPED]


def test_start_after_stop_opts_back_in_and_texts_resume(rt, twilio, twilio_api, support,
                                                         worker):
    customer_texts(twilio, twilio_api, "STOP")
    customer_texts(twilio, twilio_api, "start")
    with rt.db.session() as s:
        assert not s.get(TextOptOut, CUSTOMER).opted_out
    _form, confirmed = book_callback(twilio)
    assert "We will also send it to you by text message." in spoken(confirmed)
    worker()
    assert len(twilio_api.messages()) == 1


def test_twilio_21610_for_an_opt_out_the_app_missed_is_recorded_as_an_opt_out(
        rt, twilio, twilio_api, support, worker):
    twilio_api.store.messaging.receive(CUSTOMER, OUR_NUMBER, "STOP")  # webhook never reached
    book_callback(twilio)
    worker()
    [refused] = twilio_api.requests("message-create")
    assert refused.status == 400
    [text] = texts(rt)
    assert (text.status, text.error_code, text.sid) == (REFUSED, 21610, None)
    with rt.db.session() as s:
        row = s.get(TextOptOut, CUSTOMER)
        assert row.opted_out and row.source == "21610"
    customer_texts(twilio, twilio_api, "nocall")  # the next booking is told the truth
    _form, confirmed = book_callback(twilio)
    assert "We cannot send text messages to this number" in spoken(confirmed)


def test_twilio_refuses_21614_for_a_number_that_is_not_mobile(rt, twilio, twilio_api,
                                                              support, worker):
    twilio_api.store.messaging.fixed_lines.add(CUSTOMER)
    book_callback(twilio)
    worker()
    [refused] = twilio_api.requests("message-create")
    assert refused.status == 400
    [text] = texts(rt)
    assert (text.status, text.error_code) == (REFUSED, 21614)


def test_a_fixed_line_callback_number_is_told_by_phone_no_text_can_come(
        rt, twilio, twilio_api, support, worker):
    rt.settings = dataclasses.replace(rt.settings, callback_regions="US,FR")
    fixed_line = "+33142685300"
    _form, confirmed = book_callback(twilio, from_=fixed_line)
    said = spoken(confirmed)
    assert "We cannot send text messages to this number" in said and "by text" not in said
    worker()
    assert twilio_api.requests("message-create") == []


def test_message_status_callbacks_after_queued_record_delivery(rt, twilio, twilio_api,
                                                               support, worker):
    book_callback(twilio)
    worker()
    [message] = twilio_api.messages()
    assert message.status_callback == "https://holdless.test/sms/status"
    [text] = texts(rt)
    assert (text.status, text.sid) == (QUEUED, message.sid)
    callbacks = twilio_api.message_callbacks(message.sid)
    assert [form["MessageStatus"] for _url, form in callbacks] == ["sent", "delivered"]
    for url, form in callbacks:
        assert twilio.post(local(url), form).status_code == 204
    assert texts(rt)[0].status == "delivered"


def test_an_undelivered_text_keeps_twilio_error_code_and_a_late_sent_does_not_undo_it(
        rt, twilio, twilio_api, support, worker):
    twilio_api.store.messaging.fates[CUSTOMER] = Fate("undelivered", 30003)
    book_callback(twilio)
    worker()
    [message] = twilio_api.messages()
    sent, undelivered = twilio_api.message_callbacks(message.sid)
    assert undelivered[1]["ErrorCode"] == "30003" and "ErrorCode" not in sent[1]
    twilio.post(local(undelivered[0]), undelivered[1])
    twilio.post(local(sent[0]), sent[1])  # status callbacks may arrive out of order
    [text] = texts(rt)
    assert (text.status, text.error_code) == ("undelivered", 30003)


def test_message_status_callbacks_during_a_database_outage_are_recorded_afterwards(
        rt, twilio, twilio_api, support, worker):
    # Twilio sends each message status callback once
    # (www.twilio.com/docs/messaging/guides/track-outbound-message-status): one answered
    # with an error is gone, and a text that failed would never be shown to admins.
    twilio_api.store.messaging.fates[CUSTOMER] = Fate("undelivered", 30003)
    book_callback(twilio)
    worker()
    [message] = twilio_api.messages()
    outage = StatementOutage(rt.db.engine)
    outage.start()
    try:
        answers = [twilio.post(local(url), form).status_code
                   for url, form in twilio_api.message_callbacks(message.sid)]
    finally:
        outage.end()
        outage.remove()
    assert answers == [202, 202]  # accepted: the worker records them
    worker()
    [text] = texts(rt)
    assert (text.status, text.error_code) == ("undelivered", 30003)


def _during_an_outage(rt, act):
    """`act()` while every database statement fails; its result."""
    outage = StatementOutage(rt.db.engine)
    outage.start()
    try:
        return act()
    finally:
        outage.end()
        outage.remove()


def _opted_out(rt) -> bool:
    with rt.db.session() as s:
        row = s.get(TextOptOut, CUSTOMER)
        return row is not None and row.opted_out


def test_a_text_forwarded_once_during_a_database_outage_asks_to_be_sent_again_and_changes_nothing(
        rt, twilio, twilio_api, support, worker):
    # Twilio forwards an incoming text to the messaging webhook once
    # (www.twilio.com/docs/messaging/guides/webhook-request): a cancel word the app cannot
    # act on is answered with a request to send it again, never silence.
    book_callback(twilio)
    worker()
    reply = _during_an_outage(rt, lambda: customer_texts(twilio, twilio_api, "NOCALL"))
    assert reply == ("Sorry, we could not act on your message just now. "
                     "Please send it again in a few minutes.")
    assert only_callback(rt).status != CANCELLED
    assert customer_texts(twilio, twilio_api, "NOCALL").startswith("Your callback (reference")
    assert only_callback(rt).status == CANCELLED


def test_an_opt_in_texted_during_a_database_outage_is_recorded_afterwards(
        rt, twilio, twilio_api, support, worker):
    customer_texts(twilio, twilio_api, "STOP")
    reply = _during_an_outage(rt, lambda: customer_texts(twilio, twilio_api, "START"))
    assert reply is None  # Twilio answers its keywords itself
    assert _opted_out(rt)
    worker()
    assert not _opted_out(rt)
    _form, confirmed = book_callback(twilio)
    assert "We will also send it to you by text message." in spoken(confirmed)


def test_a_keyword_recorded_late_never_undoes_a_later_one(
        rt, twilio, twilio_api, support, worker, frozen_clock):
    _during_an_outage(rt, lambda: customer_texts(twilio, twilio_api, "STOP"))
    frozen_clock.advance(60)
    customer_texts(twilio, twilio_api, "START")  # the database is back: recorded at once
    worker()  # the STOP of a minute earlier, recorded only now
    assert not _opted_out(rt)


def test_a_retried_send_job_does_not_text_twice(rt, twilio, twilio_api, support, worker):
    book_callback(twilio)
    callback_id = only_callback(rt).id
    for _ in range(2):
        notify.send_sms(rt, callback_id, TEXT_BOOKED, "soon", "cb-sms-booked-test-key")
    assert len(twilio_api.messages()) == 1
    assert notify.send_sms(rt, callback_id, TEXT_BOOKED, "soon",
                           "cb-sms-booked-test-key") == "already sent"


def test_a_twilio_server_error_sends_nothing_so_the_retry_sends(rt, twilio, twilio_api,
                                                                 support, worker):
    book_callback(twilio)
    callback_id = only_callback(rt).id
    twilio_api.store.messaging.server_errors = 1
    with pytest.raises(TwilioRestException):
        notify.send_sms(rt, callback_id, TEXT_BOOKED, "soon", "key-500")
    assert notify.send_sms(rt, callback_id, TEXT_BOOKED, "soon", "key-500").startswith("SM")
    assert len(twilio_api.messages()) == 1


def test_texts_twilio_reports_failed_or_undelivered_are_shown_to_admins(
        rt, app, twilio, twilio_api, worker):
    seed_people_and_admin(rt)  # support and sales queues, ada the admin
    twilio_api.store.messaging.fates[CUSTOMER] = Fate("failed", 30008)
    book_callback(twilio)
    worker()
    [message] = twilio_api.messages()
    for url, form in twilio_api.message_callbacks(message.sid):
        twilio.post(local(url), form)
    ada = Desk(app, "ada")
    reply = ada.get("/api/admin/texts/failures")
    assert reply.status_code == 200
    [failure] = reply.get_json()["failures"]
    assert (failure["status"], failure["error_code"], failure["kind"]) == ("failed", 30008,
                                                                          "booked")
    assert failure["number_ending"] == CUSTOMER[-4:] and CUSTOMER not in reply.get_data(
        as_text=True)
    assert reply.get_json()["statuses"] == {"failed": 1}
    page = ada.get("/admin/callbacks").get_data(as_text=True)
    assert "Texts not delivered" in page and "30008" in page and CUSTOMER not in page
    assert Desk(app, "alice").get("/api/admin/texts/failures").status_code == 403


def test_a_status_callback_before_the_send_job_stored_the_sid_is_kept(rt, twilio, twilio_api,
                                                                       support, worker):
    """Twilio may call back (sent, delivered) before the job that created the message has
    recorded its sid: the text is found by its number and the later answer undoes nothing."""
    book_callback(twilio)
    callback_id = only_callback(rt).id
    real = rt.gateway.send_sms

    def send_and_hear_back_first(to, body, status_callback):
        sid = real(to, body, status_callback)
        for url, form in twilio_api.message_callbacks(sid):
            assert twilio.post(local(url), form).status_code == 204
        return sid

    rt.gateway.send_sms = send_and_hear_back_first
    sid = notify.send_sms(rt, callback_id, TEXT_BOOKED, "soon", "key-early")
    [text] = texts(rt)
    assert (text.sid, text.status) == (sid, "delivered")

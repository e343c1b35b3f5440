"""Callers hear their own language (issue 18): a line's language and voice on every <Say>,
recorded prompts where Twilio has no voice, the caller's choice remembered for their
number, callbacks and texts in it, and admin texts per language."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import unquote_plus, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from holdless import prompts
from holdless.speech import LANGUAGES
from ivr import language, outage
from models.callbacks import CANCELLED
from models.entities import Caller, Leg, Queue
from queueing import directory, stats
from simulator.messaging import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS
from tests.callback_steps import (
    agent_answers,
    ask_for_callback,
    book_callback,
    customer_form,
    local,
    only_callback,
)
from tests.console_helpers import Desk, seed_people, seed_people_and_admin
from tests.helpers import call_form, make_available, seed_agent, seed_queues, spoken, twiml
from tests.integration.test_texts import customer_texts

GERMAN_VOICE = "Polly.Vicki"


def _set_queue(rt, slug="support", **values):
    with rt.db.session() as s:
        s.execute(update(Queue).where(Queue.slug == slug).values(**values))
    directory.changed(rt.live)  # as the admin API does: cached cards are read again


def _says(root: ET.Element) -> list[ET.Element]:
    return list(root.iter("Say"))


def _all_in(root: ET.Element, tag: str, voice: str) -> None:
    """Every <Say> of the document speaks `tag` with `voice` (never a default voice)."""
    says = _says(root)
    assert says, ET.tostring(root, encoding="unicode")
    assert {(s.get("language"), s.get("voice")) for s in says} == {(tag, voice)}


def test_a_german_caller_hears_german_from_greeting_to_survey_with_a_documented_voice(
        rt, twilio, worker):
    people = seed_people(rt)
    _set_queue(rt, "sales", language="de-DE")  # one language on the line: nobody is asked
    _set_queue(rt, language="de-DE", survey_enabled=True)
    stats.record_handle_time(rt.live, "support", 240.0)
    form = call_form()
    greeted = twiml(twilio.post("/voice/incoming", form))
    _all_in(greeted, "de-DE", GERMAN_VOICE)
    assert "Vielen Dank für Ihren Anruf bei Holdless." in spoken(greeted)
    assert "Sie sind als Nächstes an der Reihe." in spoken(greeted)
    hold = twiml(twilio.post("/voice/hold", form))
    _all_in(hold, "de-DE", GERMAN_VOICE)
    assert "Ihre voraussichtliche Wartezeit beträgt weniger als 11 Minuten." in spoken(hold)
    assert "Drücken Sie die 1, wenn wir Sie zurückrufen sollen" in spoken(hold)
    make_available(rt, people["alice"])
    worker()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == people["alice"]))
    whisper = twiml(twilio.post(f"/voice/agent/whisper?leg={leg.id}",
                                call_form(sid=leg.call_sid, from_="+12125550000")))
    _all_in(whisper, "de-DE", GERMAN_VOICE)
    worker()
    bridged = twiml(twilio.post(f"/voice/conference/caller?interaction={leg.interaction_id}",
                                form))
    _all_in(bridged, "de-DE", GERMAN_VOICE)
    twilio.post(f"/voice/status/agent?leg={leg.id}",
                call_form(sid=leg.call_sid, CallStatus="completed"))
    worker()
    first = twiml(twilio.post("/voice/survey", form))
    _all_in(first, "de-DE", GERMAN_VOICE)
    assert spoken(first) == ("Bevor Sie auflegen: Bitte beantworten Sie noch eine kurze "
                             "Umfrage zu diesem Anruf. Konnte Ihr Anliegen gelöst werden? "
                             "Drücken Sie die 1 für Ja, die 2 für Nein.")
    second = twiml(twilio.post(local(first.find("Gather").get("action")),
                               {**form, "Digits": "1"}))
    done = twiml(twilio.post(local(second.find("Gather").get("action")),
                             {**form, "Digits": "5"}))
    _all_in(done, "de-DE", GERMAN_VOICE)
    assert spoken(done) == "Vielen Dank für Ihre Antworten und für Ihren Anruf. Auf Wiederhören."


def test_a_german_caller_books_a_callback_in_german_and_is_called_back_in_german(
        rt, twilio, worker, twilio_api, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    alice = seed_agent(rt, "alice", ["support"])
    _set_queue(rt, language="de-DE", callback_threshold_seconds=0)
    stats.record_handle_time(rt.live, "support", 600.0)
    _form, booked = book_callback(twilio)
    _all_in(booked, "de-DE", GERMAN_VOICE)
    assert spoken(booked).startswith("Ihr Rückruf ist gebucht. Wir rufen Sie in weniger als ")
    assert only_callback(rt).language == "de-DE"
    worker()
    [text] = twilio_api.messages()
    assert "Ihr Rückruf ist gebucht" in text.body and "KEINANRUF" in text.body
    frozen_clock.advance(600)
    make_available(rt, alice)
    worker()
    attempt, whisper, _agent = agent_answers(twilio, rt)
    _all_in(whisper, "de-DE", GERMAN_VOICE)
    assert spoken(whisper).startswith("Rückruf für Kundschaft, Support, wartet seit 10 Minuten")
    worker()
    customer = twiml(twilio.post(local(next(
        c for c in twilio_api.calls_created() if c.field("To") == "+12125550123").field("Url")),
        customer_form(rt, attempt.id, AnsweredBy="human")))
    _all_in(customer, "de-DE", GERMAN_VOICE)
    assert "Wir rufen Sie wie gewünscht wegen Ihres Anrufs bei Support zurück" in spoken(customer)


def test_a_danish_callback_is_texted_in_danish_and_cancelled_with_the_danish_word(
        rt, twilio, worker, twilio_api):
    seed_queues(rt, ("support", "Support", None))
    _set_queue(rt, language="da-DK", callback_threshold_seconds=0)
    stats.record_handle_time(rt.live, "support", 600.0)
    _form, booked = book_callback(twilio)
    _all_in(booked, "da-DK", "Polly.Naja")
    worker()
    [text] = twilio_api.messages()
    assert text.body.startswith("Holdless: dit opkald fra os er bestilt, reference ")
    assert "Svar INGENOPKALD, hvis du ikke længere har brug for opkaldet." in text.body
    reply = customer_texts(twilio, twilio_api, "Ingenopkald")
    assert reply.startswith("Dit opkald fra os (reference ")
    assert only_callback(rt).status == CANCELLED


def test_no_cancel_word_is_one_of_twilios_reserved_keywords():
    reserved = OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | {"HELP", "INFO"}
    words = {lang.cancel_word for lang in LANGUAGES.values()}
    assert len(words) == len(LANGUAGES) and not words & reserved


def test_an_estonian_line_plays_recorded_prompts_and_never_says_a_word(rt, twilio, tmp_path,
                                                                       client):
    seed_queues(rt, ("support", "Support", None))
    _set_queue(rt, language="et-EE")
    root = twiml(twilio.post("/voice/incoming", call_form()))
    assert not _says(root)
    plays = [p.text for p in root.iter("Play")]
    first = urlsplit(plays[0])
    assert first.path.startswith("/voice/prompts/et-EE/")
    text = dict(x.split("=", 1) for x in first.query.split("&"))
    recorded = tmp_path / "thanks.wav"
    recorded.write_bytes(b"RIFF" + b"\0" * 40)
    sentence = unquote_plus(text["text"])
    assert sentence == "Täname, et helistasite ettevõttesse Holdless."
    prompts.add(language.folder(rt), "et-EE", sentence, recorded)
    served = client.get(f"{first.path}?{first.query}")
    assert served.status_code == 200 and served.data == recorded.read_bytes()
    assert client.get(f"{first.path}?{first.query.replace('sig=', 'sig=0')}").status_code == 403


@pytest.mark.skipif(prompts.synthesizer() is None,
                    reason="espeak-ng is not installed (apt-get install espeak-ng): the "
                           "generated Estonian prompts cannot be made here")
def test_an_estonian_sentence_without_a_recording_is_generated_in_estonian(rt, twilio, client):
    seed_queues(rt, ("support", "Support", None))
    _set_queue(rt, language="et-EE")
    root = twiml(twilio.post("/voice/incoming", call_form()))
    place = next(p.text for p in root.iter("Play") if "j%C3%A4rjekorras" in p.text)
    served = client.get(place.removeprefix("https://holdless.test"))
    assert served.status_code == 200 and served.data[:4] == b"RIFF"
    assert served.mimetype == "audio/wav"


def test_a_line_of_two_languages_asks_once_and_remembers_the_choice_for_the_number(
        rt, twilio, worker, twilio_api):
    seed_queues(rt, ("support", "Support", None))
    _set_queue(rt, language="de-DE", languages="en-US", callback_threshold_seconds=0)
    form = call_form()
    asked = twiml(twilio.post("/voice/incoming", form))
    [offer] = _says(asked)
    assert (offer.text, offer.get("language"), offer.get("voice")) == (
        "For English, press 9.", "en-US", "Polly.Joanna")
    english = twiml(twilio.post("/voice/language", {**form, "Digits": "9"}))
    _all_in(english, "en-US", "Polly.Joanna")
    assert "Thank you for calling Holdless." in spoken(english)
    with rt.db.session() as s:
        assert s.scalar(select(Caller.language).where(Caller.number == "+12125550123")) == "en-US"
    again = twiml(twilio.post("/voice/incoming", call_form()))
    _all_in(again, "en-US", "Polly.Joanna")
    assert "For English" not in spoken(again)
    capture = ask_for_callback(twilio, form)
    booked = twiml(twilio.post(local(capture.find("Gather").get("action")),
                               {**form, "Digits": "1"}))
    _all_in(booked, "en-US", "Polly.Joanna")
    worker()
    [text] = twilio_api.messages()
    assert "Reply NOCALL if you no longer need the call." in text.body


def test_a_silent_caller_on_a_line_of_two_languages_gets_the_first(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _set_queue(rt, language="de-DE", languages="en-US")
    form = call_form(from_="+12125550177")
    twiml(twilio.post("/voice/incoming", form))
    german = twiml(twilio.post("/voice/language", form))
    _all_in(german, "de-DE", GERMAN_VOICE)


def test_a_known_caller_is_greeted_in_their_language_without_being_asked(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _set_queue(rt, language="de-DE", languages="da-DK")
    with rt.db.session() as s:
        s.add(Caller(number="+12125550123", name="Karen", language="da-DK"))
    root = twiml(twilio.post("/voice/incoming", call_form()))
    _all_in(root, "da-DK", "Polly.Naja")
    assert spoken(root).startswith("Hej Karen, tak fordi du ringer til Holdless.")


@pytest.mark.parametrize("tag", sorted(LANGUAGES))
def test_every_language_gives_the_same_twiml_as_english(rt, twilio, tag):
    seed_queues(rt, ("support", "Support", None))
    stats.record_handle_time(rt.live, "support", 600.0)
    twilio.post("/voice/incoming", call_form(from_="+12125550100"))  # one ahead: a wait
    english = _journey(twilio, "+12125550101")
    _set_queue(rt, language=tag)
    spoken_in = _journey(twilio, "+12125550102")
    assert [_shape(a) for a in spoken_in] == [_shape(b) for b in english]


def _journey(twilio, number):
    """The TwiML a caller gets joining, holding, asking for a callback and confirming."""
    form = call_form(from_=number)
    joined = twiml(twilio.post("/voice/incoming", form))
    held = twiml(twilio.post("/voice/hold", form))
    capture = ask_for_callback(twilio, form)
    booked = twiml(twilio.post(local(capture.find("Gather").get("action")),
                               {**form, "Digits": "1"}))
    return [joined, held, capture, booked]


def _shape(root: ET.Element) -> list[str]:
    """A document's structure: its verbs and nouns, a spoken sentence counted as a <Say>
    (a line without a voice plays one <Play> a sentence instead)."""
    shape = []
    for element in root.iter():
        if element.tag == "Play" and "/voice/prompts/" in (element.text or ""):
            if shape[-1:] != ["Say"]:
                shape.append("Say")
            continue
        shape.append(element.tag)
    return shape


def test_admin_texts_per_language_are_heard_in_that_language_only(rt, app, twilio):
    seed_people_and_admin(rt)
    admin = Desk(app, "ada")
    refused = admin.send("PATCH", "/api/admin/queues/support", {"language": "fr-FR"})
    assert refused.status_code == 400 and "fr-FR" in refused.get_data(as_text=True)
    changed = admin.send("PATCH", "/api/admin/queues/support", {
        "language": "de-DE", "greeting": "Willkommen beim Support.",
        "texts": {"greeting": {"en-US": "Welcome to support."}}})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    with rt.db.session() as s:
        s.execute(update(Queue).where(Queue.slug == "sales").values(active=False))
    german = twiml(twilio.post("/voice/incoming", call_form()))
    assert "Willkommen beim Support." in spoken(german)
    with rt.db.session() as s:
        s.add(Caller(number="+12125550155", language="en-US"))
    english = twiml(twilio.post("/voice/incoming", call_form(from_="+12125550155")))
    assert "Welcome to support." in spoken(english) and "Willkommen" not in spoken(english)


def test_the_agent_sees_the_callers_language_in_the_context(rt, app, twilio, worker):
    people = seed_people(rt)
    _set_queue(rt, language="de-DE", languages="da-DK")
    _set_queue(rt, "sales", language="de-DE")
    with rt.db.session() as s:
        s.add(Caller(number="+12125550123", language="da-DK"))
    make_available(rt, people["alice"])
    twilio.post("/voice/incoming", call_form())
    worker()
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == people["alice"]))
    context = Desk(app, "alice").get(f"/api/interactions/{leg.interaction_id}").json
    assert context["caller"]["language"] == {"tag": "da-DK", "name": "Dansk"}


def test_an_outage_apology_is_said_in_the_callers_language_without_reading_a_store(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    _set_queue(rt, language="de-DE")
    form = call_form()
    twiml(twilio.post("/voice/incoming", form))
    rt.live.flushdb()  # Redis lost: this process still knows how it spoke to the call
    sp = language.spoken(rt, language.cached(form["CallSid"]))
    apology = ET.fromstring(str(outage.outage_answer(rt, "/voice/hold", {}, sp)))
    _all_in(apology, "de-DE", GERMAN_VOICE)
    assert spoken(apology).startswith("Bitte entschuldigen Sie die Verzögerung.")


def test_admin_page_fields_per_language_set_the_queue_and_holiday_texts(rt, app):
    seed_people_and_admin(rt)
    admin = Desk(app, "ada")
    page = admin.get("/admin/queues").get_data(as_text=True)
    assert 'name="greeting:de-DE"' in page and 'name="closed:et-EE"' in page
    saved = admin.send("PATCH", "/api/admin/queues/support", {
        "language": "de-DE", "voice": "", "languages": "en-US",
        "greeting:en-US": "Welcome.", "closed:de-DE": "Heute geschlossen.", "closed:da-DK": ""})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    with rt.db.session() as s:
        queue = s.scalar(select(Queue).where(Queue.slug == "support"))
        assert (queue.language, queue.voice, queue.languages) == ("de-DE", None, "en-US")
        assert queue.texts == {"greeting": {"en-US": "Welcome."},
                               "closed": {"de-DE": "Heute geschlossen."}}
    refused = admin.send("PATCH", "/api/admin/queues/support", {"greeting:xx-XX": "?"})
    assert refused.status_code == 400 and "xx-XX" in refused.get_data(as_text=True)
    holiday = admin.send("POST", "/api/admin/holidays", {
        "name": "Juleaften", "starts": "2026-12-24", "message": "Geschlossen.",
        "message:da-DK": "Lukket i dag."})
    assert holiday.status_code == 201, holiday.get_data(as_text=True)
    assert holiday.json["messages"] == {"da-DK": "Lukket i dag."}


def test_a_holiday_is_announced_in_the_callers_language_and_never_in_anothers(
        rt, twilio, frozen_clock):
    seed_queues(rt, ("support", "Support", None))
    _set_queue(rt, language="de-DE", languages="en-US,da-DK")
    with rt.db.session() as s:
        s.add_all([Caller(number="+12125550123", language="en-US"),
                   Caller(number="+12125550124", language="da-DK")])
        from admin.audit import Actor
        from admin.config import add_holiday
        today = frozen_clock.now().astimezone(ZoneInfo("America/New_York")).date()
        add_holiday(s, Actor(None, "test"), "Feiertag", today.isoformat(),
                    message="Heute ist Feiertag.", messages={"en-US": "We are closed today."})
    directory.changed(rt.live)
    english = twiml(twilio.post("/voice/incoming", call_form()))
    assert "We are closed today." in spoken(english) and "Feiertag" not in spoken(english)
    danish = twiml(twilio.post("/voice/incoming", call_form(from_="+12125550124")))
    assert "Vi har lukket lige nu." in spoken(danish) and "Feiertag" not in spoken(danish)

"""Words in each language: CLDR clocks and days, plural forms, recorded prompts' addresses,
the simulated listener and the scenario's language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from holdless import prompts
from holdless.speech import LanguageError, speech
from ivr import wording
from queueing.estimate import WaitEstimate
from simulator import phrases
from simulator.endpoints import GatherPrompt
from simulator.scenario import ScenarioError, parse

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 7, 19, 0, tzinfo=BERLIN)  # a Monday evening
TOMORROW_NINE, TOMORROW_TEN = (datetime(2026, 12, 8, h, 0, tzinfo=BERLIN) for h in (9, 10))


@pytest.mark.parametrize(("tag", "slot"), [
    ("en-US", "tomorrow between 9 AM and 10 AM"),
    ("de-DE", "morgen zwischen 9:00 und 10:00 Uhr"),
    ("da-DK", "i morgen mellem kl. 9.00 og kl. 10.00"),
    ("et-EE", "homme kella 9:00 ja 10:00 vahel"),
])
def test_slots_are_said_with_each_locales_clock_and_day_words(tag, slot):
    assert wording.slot_phrase(TOMORROW_NINE, TOMORROW_TEN, NOW, speech(tag)) == slot


def test_days_and_dates_come_in_each_languages_words():
    thursday = datetime(2026, 12, 10, 13, 30, tzinfo=BERLIN)
    later = datetime(2026, 12, 24, 9, 0, tzinfo=BERLIN)
    assert wording.opening_phrase(thursday, NOW, speech("de-DE")) == "am Donnerstag um 13:30 Uhr"
    assert wording.opening_phrase(thursday, NOW, speech("et-EE")) == "neljapäeval kell 13:30"
    assert wording.opening_phrase(later, NOW, speech("da-DK")) == "den 24. december kl. 9.00"
    assert wording.opening_phrase(later, NOW) == "on December 24 at 9 AM"


def test_waits_take_each_languages_plural_form():
    one, five = WaitEstimate(60, 50, 70), WaitEstimate(300, 280, 310)
    assert wording.wait_phrase(one, speech("de-DE")) == "etwa 1 Minute"
    assert wording.wait_phrase(five, speech("de-DE")) == "etwa 5 Minuten"
    assert wording.wait_phrase(five, speech("et-EE")) == "umbes 5 minutit"
    assert wording.callback_wait_phrase(five, speech("da-DK")) == "om cirka 5 minutter"


def test_places_in_line_are_words_then_figures_in_each_language():
    assert wording.place_in_line(3, speech("de-DE")) == \
        "Sie sind an dritter Stelle in der Warteschlange."
    assert wording.place_in_line(23, speech("da-DK")) == "Du er nummer 23 i køen."
    assert wording.place_in_line(23) == "You are 23rd in line."


def test_a_language_holdless_does_not_speak_is_refused_by_name():
    with pytest.raises(LanguageError, match="fr-FR"):
        speech("fr-FR")


def test_recorded_prompts_are_one_a_sentence_and_their_address_is_signed():
    assert prompts.sentences("Tere! Te olete järjekorras teine. Palun oodake.") == [
        "Tere!", "Te olete järjekorras teine.", "Palun oodake."]
    url = prompts.url_builder("https://x.test", "secret")("et-EE", "Head aega!")
    key = url.split("/")[-1].split(".wav")[0]
    sig = url.split("sig=")[1]
    assert prompts.valid("secret", "et-EE", "Head aega!", key, sig)
    assert not prompts.valid("secret", "et-EE", "Head aega", key, sig)  # another sentence
    assert not prompts.valid("other", "et-EE", "Head aega!", key, sig)


def test_a_simulated_listener_hears_what_is_said_and_what_a_prompt_plays():
    url = prompts.url_builder("https://x.test", "s")("et-EE", "Kinnitamiseks vajutage 1.")
    gather = GatherPrompt(None, "", 1, 1, (url, "https://music.test/hold.mp3"))  # type: ignore[arg-type]
    assert "kinnitamiseks vajutage 1." in phrases.heard(gather)
    assert phrases.callback_taker("et-EE")(gather) == "1"
    assert phrases.callback_taker("de-DE")(gather) is None  # a German caller does not


def test_a_scenario_names_its_language_and_refuses_one_callers_do_not_speak():
    raw = {"arrivals": [1], "queues": [{"slug": "support"}],
           "agents": [{"username": "ann", "queues": ["support"]}]}
    assert parse(raw).language == "en-US"
    assert parse({**raw, "language": "da-DK"}).language == "da-DK"
    with pytest.raises(ScenarioError, match="fr-FR"):
        parse({**raw, "language": "fr-FR"})

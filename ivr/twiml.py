"""TwiML documents as small pure functions (twilio.twiml.voice_response only)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from holdless import prompts
from holdless.speech import ENGLISH, N_, Speech

VOICE = ENGLISH.voice
GOODBYE = N_("Thank you for calling. Goodbye.")
HOLD_MUSIC = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
MENU_TIMEOUT_SECONDS = 6
# Seconds of silence a caller has to press a key after an offer's last word (or its music):
# keys count only inside the <Gather> that takes them, and its timeout starts once its
# nested verbs end (www.twilio.com/docs/voice/twiml/gather#timeout).
OFFER_KEY_TIMEOUT_SECONDS = 3
# Characters XML 1.0 cannot carry at all (escaping does not help): control characters,
# lone surrogates and the two non-characters U+FFFE/U+FFFF.
NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class MenuOption:
    """One choice of the menu: press `digit` for `name`."""

    digit: str
    name: str


def speakable(text: str) -> str:
    """`text` without the characters an XML document cannot hold (markup is escaped later)."""
    return NOT_XML.sub("", text)


def say(response: VoiceResponse | Gather, text: str, sp: Speech = ENGLISH) -> None:
    """Speak `text` in the line's language and voice (any text: names and notes come from
    people); a line whose language Twilio has no voice for plays it recorded instead."""
    if sp.recorded:  # one prompt a sentence: a recorded fixed sentence is found as it is
        for sentence in prompts.sentences(speakable(text)):
            response.play(sp.prompt_url(sentence))
        return
    response.say(speakable(text), voice=sp.voice, language=sp.tag)


def closed(greeting: str, message: str, *, sp: Speech = ENGLISH) -> VoiceResponse:
    """Greet, say when the line opens, and end the call politely."""
    response = VoiceResponse()
    if greeting:
        say(response, greeting, sp)
    say(response, message, sp)
    say(response, sp.gettext(GOODBYE), sp)
    response.hangup()
    return response


def menu(greeting: str, options: list[MenuOption], action: str,
         retry_note: str = "", *, sp: Speech = ENGLISH) -> VoiceResponse:
    """Offer the one-digit menu; no key pressed comes back to `action` without Digits."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=action, method="POST", timeout=MENU_TIMEOUT_SECONDS)
    for text in (greeting, retry_note):
        if text:
            say(gather, text, sp)
    say(gather, " ".join(sp.gettext("For {name}, press {digit}.", name=o.name, digit=o.digit)
                        for o in options), sp)
    response.append(gather)
    response.redirect(action, method="POST")
    return response


def wait_in_line(announcement: str, queue: str, wait_url: str, exit_url: str,
                 key_action: str | None = None, *, sp: Speech = ENGLISH) -> VoiceResponse:
    """Tell the caller their place and wait, then hold them in Twilio's queue. With
    `key_action` the announcement holds an offer: it is spoken inside the <Gather> that
    takes its key (a key pressed outside a Gather is lost); no key goes on to the queue."""
    response = VoiceResponse()
    if key_action:
        gather = Gather(num_digits=1, action=key_action, method="POST",
                        timeout=OFFER_KEY_TIMEOUT_SECONDS)
        say(gather, announcement, sp)
        response.append(gather)
    else:
        say(response, announcement, sp)
    response.enqueue(queue, wait_url=wait_url, wait_url_method="POST", action=exit_url,
                     method="POST")
    return response


def hold_loop(announcement: str, key_action: str, music_url: str = HOLD_MUSIC, *,
              sp: Speech = ENGLISH) -> VoiceResponse:
    """One turn of the hold loop (Twilio fetches it again when it ends): the update and the
    music both inside the Gather, so a key pressed at any moment of the turn is taken."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=key_action, method="POST",
                    timeout=OFFER_KEY_TIMEOUT_SECONDS)
    say(gather, announcement, sp)
    gather.play(music_url)
    response.append(gather)
    return response


def join_conference(announcement: str, conference: str, *, agent: bool,
                    music_url: str = HOLD_MUSIC, sp: Speech = ENGLISH,
                    joined_url: str | None = None) -> VoiceResponse:
    """Say `announcement`, then join the interaction's conference (caller or agent side).
    With `joined_url`, Twilio reports the joining and the leaving there (statusCallbackEvent
    `join leave`, twilio.com/docs/voice/twiml/conference)."""
    response = VoiceResponse()
    if announcement:
        say(response, announcement, sp)
    dial = Dial()
    reported = {"status_callback": joined_url, "status_callback_event": "join leave",
                "status_callback_method": "POST"} if joined_url else {}
    dial.conference(
        conference, start_conference_on_enter=agent, end_conference_on_exit=not agent,
        beep=False, wait_url=music_url if not agent else None, wait_method="GET", **reported,
    )
    response.append(dial)
    if not agent:
        say(response, sp.gettext(GOODBYE), sp)
        response.hangup()
    return response


TRANSFER_NOTICE = N_("Please hold while I transfer you.")
ESCALATION_NOTICE = N_("Please hold for a moment while I bring in my supervisor.")
ESCALATION_WAIT_NOTICE = N_("Our supervisors are all on calls. Please hold for the next free "
                            "supervisor; if none is free soon, I will be right back with you.")


def transfer_hold(music_url: str = HOLD_MUSIC, notice: str = TRANSFER_NOTICE, *,
                  sp: Speech = ENGLISH) -> VoiceResponse:
    """What a caller on hold during a transfer hears: why, then music (never silence)."""
    response = VoiceResponse()
    say(response, sp.gettext(notice), sp)
    response.play(music_url, loop=0)
    return response


def goodbye(text: str = "", *, sp: Speech = ENGLISH) -> VoiceResponse:
    """Say a closing line (by default the line's thanks and goodbye) and hang up."""
    response = VoiceResponse()
    say(response, text or sp.gettext(GOODBYE), sp)
    response.hangup()
    return response


def empty() -> VoiceResponse:
    """Nothing to say (the answer to a callback whose result does not matter)."""
    return VoiceResponse()


NUMBER_ENTRY_TIMEOUT_SECONDS = 10


def leave() -> VoiceResponse:
    """Step out of Twilio's queue (the Enqueue action then decides what comes next)."""
    response = VoiceResponse()
    response.leave()
    return response


def ask_digit(text: str, action: str, *, sp: Speech = ENGLISH) -> VoiceResponse:
    """Ask for one key; no key pressed comes back to `action` without Digits."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=action, method="POST", timeout=MENU_TIMEOUT_SECONDS)
    say(gather, text, sp)
    response.append(gather)
    response.redirect(action, method="POST")
    return response


def ask_number(text: str, action: str, *, sp: Speech = ENGLISH) -> VoiceResponse:
    """Ask for a phone number ended by the pound key; nothing keyed comes back without Digits."""
    response = VoiceResponse()
    gather = Gather(finish_on_key="#", action=action, method="POST",
                    timeout=NUMBER_ENTRY_TIMEOUT_SECONDS)
    say(gather, text, sp)
    response.append(gather)
    response.redirect(action, method="POST")
    return response


def say_then_redirect(text: str, url: str, *, sp: Speech = ENGLISH) -> VoiceResponse:
    """Say `text`, then fetch the next TwiML from `url`."""
    response = VoiceResponse()
    say(response, text, sp)
    response.redirect(url, method="POST")
    return response


def hang_up() -> VoiceResponse:
    """End the call without a word (an answering machine picked up)."""
    response = VoiceResponse()
    response.hangup()
    return response


def record_message(text: str, action: str, status_callback: str,
                   max_length: int, *, sp: Speech = ENGLISH) -> VoiceResponse:
    """Say `text`, then record a message after the beep (ended by # or hanging up)."""
    response = VoiceResponse()
    say(response, text, sp)
    response.record(max_length=max_length, action=action, method="POST", finish_on_key="#",
                    play_beep=True, recording_status_callback=status_callback,
                    recording_status_callback_method="POST",
                    recording_status_callback_event="completed")
    return response


def play_then_redirect(text: str, recording_url: str, url: str, *,
                       sp: Speech = ENGLISH) -> VoiceResponse:
    """Say `text`, play a recording, then fetch the next TwiML from `url`."""
    response = VoiceResponse()
    say(response, text, sp)
    response.play(recording_url)
    response.redirect(url, method="POST")
    return response


def apology_retry(text: str, pause_seconds: int, retry_url: str, *,
                  sp: Speech = ENGLISH) -> VoiceResponse:
    """Apologise, wait a moment, then fetch `retry_url` again (a short retry on an outage)."""
    response = VoiceResponse()
    say(response, text, sp)
    response.pause(length=pause_seconds)
    response.redirect(retry_url, method="POST")
    return response


def apology_hold(text: str, pause_seconds: int, *, sp: Speech = ENGLISH) -> VoiceResponse:
    """Apologise while holding (the hold loop fetches its wait URL again by itself)."""
    response = VoiceResponse()
    say(response, text, sp)
    response.pause(length=pause_seconds)
    return response


def pause_then_redirect(text: str, pause_seconds: int, url: str, *,
                        sp: Speech = ENGLISH) -> VoiceResponse:
    """Say `text` (if any), wait `pause_seconds`, then fetch the next TwiML from `url`."""
    response = VoiceResponse()
    if text:
        say(response, text, sp)
    if pause_seconds:
        response.pause(length=pause_seconds)
    response.redirect(url, method="POST")
    return response

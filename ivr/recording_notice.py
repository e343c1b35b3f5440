"""What a caller is told, or asked, about recording before joining a line, and the one
recording policy their interaction keeps from then on (transfers do not change it).

A queue records in one of three ways (`Queue.recording_mode`): not at all; announce and
record (the notice is spoken with the greeting, long before the recording starts when an
agent is bridged); or only with the caller's consent, a key pressed inside a <Gather>
(keys outside one are lost: twilio.com/docs/voice/twiml/gather). No consent, no recording.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twilio.twiml.voice_response import VoiceResponse

from holdless import paths
from holdless.speech import N_, Speech
from ivr import language, twiml
from models.entities import Interaction, Queue
from models.privacy import POLICY_NOT, POLICY_RECORD, RECORDING_OFF

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

NOTICE = N_("Your conversation with our agent will be recorded.")
QUESTION = N_("We would like to record your conversation with our agent. "
              "To agree, press 1. To go on without recording, press 2.")
RETRY = N_("Sorry, I didn't catch that.")
AGREED = N_("Thank you. Your conversation will be recorded.")
DECLINED = N_("Your conversation will not be recorded.")
AGREE_DIGIT, DECLINE_DIGIT = "1", "2"
ATTEMPTS = 2


def undecided(interaction: Interaction, queue: Queue) -> bool:
    """Whether the caller must still be told or asked before joining `queue` (its policy is
    decided once per interaction, at the first queue that records)."""
    return interaction.recording_policy is None and (queue.recording_mode or RECORDING_OFF) \
        != RECORDING_OFF


def announce(interaction: Interaction, greeting: str, sp: Speech) -> str:
    """Record this interaction; the words to say: the greeting (already in the caller's
    words), then the notice."""
    interaction.recording_policy = POLICY_RECORD
    return " ".join(part for part in (greeting, sp.gettext(NOTICE)) if part)


def ask(rt: Runtime, call_sid: str, queue: Queue, greeting: str, attempt: int = 1,
        note: str = "") -> VoiceResponse:
    """Ask whether the conversation may be recorded (one key, inside the Gather); `note`
    is a msgid, `greeting` already in the caller's words."""
    sp = language.for_call(rt, call_sid)
    parts = (greeting, sp.gettext(note) if note else "", sp.gettext(QUESTION))
    text = " ".join(part for part in parts if part)
    return twiml.ask_digit(text, rt.url(paths.RECORDING_CONSENT, queue=queue.slug,
                                        attempt=attempt), sp=sp)


def decide(interaction: Interaction, digits: str, attempt: int) -> bool:
    """Set the interaction's policy from the key: 1 records, 2 does not, and no answer or
    a wrong key at the last attempt does not. False: ask once more."""
    if digits == AGREE_DIGIT:
        interaction.recording_policy = POLICY_RECORD
    elif digits == DECLINE_DIGIT or attempt >= ATTEMPTS:
        interaction.recording_policy = POLICY_NOT
    return interaction.recording_policy is not None


def answer_words(interaction: Interaction, sp: Speech) -> str:
    """What the caller hears after answering: whether they will be recorded."""
    return sp.gettext(AGREED if interaction.recording_policy == POLICY_RECORD else DECLINED)

"""An agent rung on a phone number accepts an offer with a key before anyone is bridged.

A call to a phone number completes when a voicemail picks up, exactly as when a person
does (help.twilio.com, "What are the possible call statuses": completed "could be seen
when a phone is answered by a person, an IVR phone tree menu, or even a voicemail"). So
answering proves nothing: the whisper sits inside a <Gather> and only the accept key
bridges the caller. No key after a second asking (or a wrong one, or hanging up) ends the
agent's call unanswered: a missed offer, the caller keeps their place for the next agent.
Agents in the browser (client: identities) are not asked: a browser has no voicemail.
"""

from __future__ import annotations

from twilio.twiml.voice_response import Gather, VoiceResponse

from holdless.speech import ENGLISH, N_, Speech
from ivr import twiml

ACCEPT_DIGIT = "1"
ACCEPT_TIMEOUT_SECONDS = 5  # after the prompt ends (Gather's timeout starts then)
ACCEPT_TRIES = 2
NOT_ACCEPTED = N_("Not accepted. The caller will be offered to another agent. Goodbye.")
ASK_AGAIN = N_("Press {digit} to accept, or hang up.")


def needs_accepting(contact: str) -> bool:
    """Whether an agent reached at `contact` must press the accept key (a phone number)."""
    return not contact.startswith("client:")


def ask(prompt: str, action: str, sp: Speech = ENGLISH) -> VoiceResponse:
    """The whisper inside a Gather taking the accept key; no key comes back to `action`."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=action, method="POST",
                    timeout=ACCEPT_TIMEOUT_SECONDS)
    twiml.say(gather, prompt, sp)
    response.append(gather)
    response.redirect(action, method="POST")
    return response


def accepted(digits: str) -> bool:
    """Whether the agent pressed the accept key."""
    return digits == ACCEPT_DIGIT


def not_accepted(tries: int, action: str, sp: Speech = ENGLISH) -> VoiceResponse:
    """No accept key yet: ask once more, then end the agent's call (a missed offer)."""
    if tries < ACCEPT_TRIES:
        return ask(sp.gettext(ASK_AGAIN, digit=ACCEPT_DIGIT), action, sp)
    return twiml.goodbye(sp.gettext(NOT_ACCEPTED), sp=sp)

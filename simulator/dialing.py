"""<Dial>: conferences by friendly name, and bridged calls to numbers and clients."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from simulator.call import HangupSignal, ScopeExit, VirtualCall
from simulator.resources import ParticipantResource, new_sid
from simulator.rooms import Conference, Participant
from simulator.runner import CallRunner, Network, StatusCallback
from simulator.twiml import CONFERENCE_WAIT_VERBS, WHISPER_VERBS, Document, TwimlError, Verb
from simulator.webhooks import WebhookError


@dataclass(frozen=True)
class DialOutcome:
    """How a <Dial> ended, as reported to its action URL."""

    status: str
    dial_sid: str | None = None
    duration: int = 0


class DialingNetwork(Network, Protocol):
    """What a <Dial> needs of the phone network beyond what any call runner needs."""

    def conference_named(self, name: str) -> Conference:
        """The live conference with this friendly name, created if none is live."""

    def start_dial_leg(self, parent: DialingRunner, verb: Verb, noun: Verb, address: str,
                       room: Conference, relative_to: str) -> VirtualCall:
        """Start the dialled leg of a <Dial><Number|Client>; it joins `room` once answered."""


class DialingRunner(CallRunner):
    """A CallRunner that can also execute <Dial>."""

    net: DialingNetwork

    def __init__(self, net: DialingNetwork, call: VirtualCall,
                 callback: StatusCallback) -> None:
        """Bind a call to the network it lives on, one that can place dialled legs."""
        super().__init__(net, call, callback)

    def verb_dial(self, verb: Verb, document: Document) -> Document | None:
        """Connect the call to a conference, number or client; then post the Dial action."""
        noun = verb.children[0] if verb.children else Verb("Number", text=verb.text)
        try:
            if noun.name == "Conference":
                outcome = self.dial_conference(noun, document)
            elif noun.name in ("Number", "Client"):
                outcome = self.dial_party(verb, noun, document)
            else:
                raise TwimlError(f"<Dial><{noun.name}> is not simulated")
        except HangupSignal:
            if verb.attr("action"):
                self.notify(verb.attr("action") or "", verb.attr("method"),
                            {"DialCallStatus": "completed"}, document.url, kind="dial-action")
            raise
        return self._dial_action(verb, document, outcome)

    def _dial_action(self, verb: Verb, document: Document,
                     outcome: DialOutcome) -> Document | None:
        action = verb.attr("action")
        if not action:
            return None
        extra = {"DialCallStatus": outcome.status, "DialCallDuration": str(outcome.duration)}
        if outcome.dial_sid:
            extra["DialCallSid"] = outcome.dial_sid
        return self.fetch(action, verb.attr("method"), extra, relative_to=document.url)

    # -- conferences -------------------------------------------------------------------

    def dial_conference(self, noun: Verb, document: Document) -> DialOutcome:
        """Join a conference by friendly name until it ends or the participant is removed."""
        participant = Participant(
            self.call,
            start_on_enter=noun.flag("startConferenceOnEnter", True),
            end_on_exit=noun.flag("endConferenceOnExit", False),
            muted=noun.flag("muted", False),
            coaching=noun.attr("coach") or None,
        )
        started = self.net.clock.now()
        conference = self._join(noun.text, participant)
        self._conference_event(noun, document, conference, "join", participant)
        try:
            self._stay_in_conference(conference, participant, noun, document)
        finally:
            self._leave(conference, noun, document)
            # the participant left (hung up, redirected, removed or the conference ended):
            # Twilio reports `participant-leave` when statusCallbackEvent asks for `leave`
            # (twilio.com/docs/voice/twiml/conference, "statusCallbackEvent")
            self._conference_event(noun, document, conference, "leave", participant)
        return DialOutcome("completed", None, int(self.net.clock.now() - started))

    def _join(self, name: str, participant: Participant) -> Conference:
        net = self.net
        with net.cond:
            conference = net.conference_named(name)
            just_started = conference.join(participant)
            self.call.state.joined_conference = name
            existing = net.store.get_participant(conference.sid, self.call.sid)
            flags = existing.flags if existing else {}
            net.store.put_participant(ParticipantResource(
                self.call.sid, conference.sid, self.call.account_sid, flags, "connected"))
            net.cond.notify_all()
        self.call.log("dial-conference", name)
        if just_started:
            self.call.log("conference-start", name)
        return conference

    def _conference_event(self, noun: Verb, document: Document, conference: Conference,
                          event: str, participant: Participant) -> None:
        """Post a participant event to the Conference's statusCallback when its
        statusCallbackEvent asks for it (space-separated: start end join leave mute hold …),
        with the parameters Twilio sends (twilio.com/docs/voice/twiml/conference,
        "statusCallbackEvent" and "Attributes: statusCallback parameters"). Twilio posts
        these on its own, not from the call's flow: sent beside it."""
        url = noun.attr("statusCallback")
        if not url or event not in (noun.attr("statusCallbackEvent") or "").split():
            return
        with self.net.cond:
            conference.sequence += 1
            sequence = conference.sequence
        form = {"ConferenceSid": conference.sid, "FriendlyName": conference.name,
                "AccountSid": self.call.account_sid, "SequenceNumber": str(sequence),
                "Timestamp": self.net.timestamp(), "StatusCallbackEvent": f"participant-{event}",
                "CallSid": self.call.sid, "Muted": str(participant.muted).lower(),
                "Hold": str(participant.hold).lower(), "Coaching": "false",
                "EndConferenceOnExit": str(participant.end_on_exit).lower(),
                "StartConferenceOnEnter": str(participant.start_on_enter).lower()}
        target = self.net.app.resolve(url, document.url)
        method = noun.attr("statusCallbackMethod") or "POST"

        def post() -> None:
            try:
                self.net.app.send(target, form, method)
            except WebhookError as error:
                self.call.fail("conference-callback", target, str(error), fatal=False)

        threading.Thread(target=post, name=f"conference-{event}", daemon=True).start()

    def _leave(self, conference: Conference, noun: Verb, document: Document) -> None:
        net = self.net
        with net.cond:
            ends = conference.leave(self.call)
            self.call.state.joined_conference = None
            participant = net.store.get_participant(conference.sid, self.call.sid)
            if participant is not None:
                participant.status = "completed"
            if ends or conference.ended:
                net.store.complete_conference(conference.sid)
            net.cond.notify_all()
        self.call.log("leave-conference", conference.name)
        if ends:
            self.call.log("conference-end", conference.name)

    def _stay_in_conference(self, conference: Conference, participant: Participant,
                            noun: Verb, document: Document) -> None:
        def over() -> bool:
            return conference.ended or participant.removed

        connected = False
        while not over():
            if not conference.started:
                try:
                    with self.call.scope(lambda: conference.started or over()) as token:
                        self._conference_wait_music(noun, document, conference)
                except ScopeExit as exit_:
                    if exit_.token != token:
                        raise
                continue
            if not connected:
                connected = True
                self.call.log("conference-connected", conference.name)
                self.call.connected()
            self.call.wait(None, until=over)

    def _conference_wait_music(self, noun: Verb, document: Document,
                               conference: Conference) -> None:
        wait_url = noun.attr("waitUrl")
        while True:
            lap = self.net.clock.now()
            if wait_url == "":
                self.call.wait(None)
            elif wait_url and _is_audio(wait_url):  # Twilio plays an audio waitUrl as is
                self.call.log("play", wait_url)
                self.call.wait(self.net.play_duration(wait_url))
            elif wait_url:
                extra = {"ConferenceSid": conference.sid, "FriendlyName": conference.name}
                wait_doc = self.fetch(wait_url, noun.attr("waitMethod"), extra,
                                      relative_to=document.url)
                self.run_restricted(wait_doc, CONFERENCE_WAIT_VERBS, "a Conference waitUrl")
            else:
                self.call.log("play", "hold-music")
                self.call.wait(self.net.hold_music_seconds)
            if self.net.clock.now() - lap < 1.0:
                self.call.wait(self.net.empty_wait_pause)

    # -- numbers and clients -----------------------------------------------------------

    def dial_party(self, verb: Verb, noun: Verb, document: Document) -> DialOutcome:
        """Ring a number or client; bridge the two legs until either hangs up."""
        address = _address(noun)
        self.call.log(f"dial-{noun.name.lower()}", address)
        room = Conference(f"dial-{self.call.sid}", new_sid("CF"))
        child = self.net.start_dial_leg(self, verb, noun, address, room, document.url)
        mine = Participant(self.call, start_on_enter=True, end_on_exit=True)
        with self.net.cond:
            room.join(mine)
        bridged_at = None
        try:
            self.call.wait(None, until=lambda: room.started or child.ended)
            if not room.started:
                return DialOutcome(child.status, child.sid, 0)
            bridged_at = self.net.clock.now()
            self.call.log("bridged", address)
            self.call.connected()
            self.call.wait(None, until=lambda: room.ended)
        finally:
            with self.net.cond:
                room.leave(self.call)
                room.ended = True
                self.net.cond.notify_all()
            if not child.ended:
                child.signal(HangupSignal("parent-hangup"))
        duration = int(self.net.clock.now() - bridged_at) if bridged_at is not None else 0
        return DialOutcome("completed", child.sid, duration)

    def bridge_answered(self, room: Conference, whisper: Document | None) -> None:
        """On the dialled leg: hear the whisper, then stay bridged until either side ends."""
        if whisper is not None:
            self.run_restricted(whisper, WHISPER_VERBS, "a Dial whisper URL")
        with self.net.cond:
            if room.ended:
                raise HangupSignal("parent-hangup")
            room.join(Participant(self.call, start_on_enter=True, end_on_exit=True))
            self.net.cond.notify_all()
        self.call.connected()
        try:
            self.call.wait(None, until=lambda: room.ended)
        finally:
            with self.net.cond:
                room.leave(self.call)
                room.ended = True
                self.net.cond.notify_all()
        raise HangupSignal("bridge-ended")


AUDIO_SUFFIXES = (".mp3", ".wav", ".ogg", ".aiff", ".gsm", ".ulaw")


def _is_audio(url: str) -> bool:
    """Whether a waitUrl names an audio file (played) rather than TwiML (fetched)."""
    return urlsplit(url).path.lower().endswith(AUDIO_SUFFIXES)


def _address(noun: Verb) -> str:
    if noun.name == "Client":
        identity = next((c.text for c in noun.children if c.name == "Identity"), noun.text)
        return f"client:{identity}"
    return noun.text


__all__ = ["DialingRunner", "VirtualCall"]

"""A local stand-in for Twilio: a REST server the app's client talks to, and a phone network
that places virtual calls onto the app's webhooks and executes the TwiML they return."""

from simulator.call import CallError, VirtualCall
from simulator.endpoints import Answer, Endpoint, answer_when
from simulator.engine import PhoneNetwork
from simulator.rest import RecordedRequest, TwilioRestStandIn

__all__ = [
    "Answer",
    "CallError",
    "Endpoint",
    "PhoneNetwork",
    "RecordedRequest",
    "TwilioRestStandIn",
    "VirtualCall",
    "answer_when",
]

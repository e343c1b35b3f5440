"""What a caller hears when the database or Redis cannot be reached mid-call.

Twilio plays whatever TwiML we answer, so an outage is met with an apology and a short
retry (the same webhook again after a pause), and after a few tries a polite goodbye,
never Twilio's "application error". Status callbacks get no TwiML (None).

A <Redirect> posts only the standard call parameters (www.twilio.com/docs/voice/twiml/redirect):
the keys pressed, the queue result, the detection result or the recording of the failed
request reach the retry only in its own URL, where the caller of `outage_answer` puts them
(validated; the webhooks read them from there when the form lacks them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twilio.twiml.voice_response import VoiceResponse

from holdless import paths
from holdless.speech import ENGLISH, N_, Speech
from ivr import twiml
from queueing.limits import STORE_OUTAGE_PAUSE_SECONDS, STORE_OUTAGE_RETRIES

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

SORRY_RETRY = N_("We are sorry, we are having a technical problem. "
                 "Please stay on the line while we try again.")
SORRY_HOLD = N_("We are sorry for the delay. Please keep holding; you keep your place in line.")
SORRY_CALL_AGAIN = N_("We are sorry, we cannot take your call right now because of a "
                      "technical problem. Please call again in a few minutes. Goodbye.")
STATUS_CALLBACKS = frozenset({paths.CALL_STATUS, paths.AGENT_STATUS})
HOLDING = frozenset({paths.HOLD, paths.HOLD_KEY})


def outage_answer(rt: Runtime, path: str, params: dict[str, str],
                  sp: Speech = ENGLISH) -> VoiceResponse | None:
    """The TwiML for a voice webhook that failed on an unreachable store (None: no TwiML);
    `params` is what the retry needs: the request's query and the fields only it carried."""
    if path in STATUS_CALLBACKS:
        return None
    if path in HOLDING:
        return twiml.apology_hold(sp.gettext(SORRY_HOLD), STORE_OUTAGE_PAUSE_SECONDS, sp=sp)
    tries = retries_so_far(params)
    if tries >= STORE_OUTAGE_RETRIES:
        return twiml.goodbye(sp.gettext(SORRY_CALL_AGAIN), sp=sp)
    retry_url = rt.url(path, **{**params, "retry": str(tries + 1)})
    return twiml.apology_retry(sp.gettext(SORRY_RETRY), STORE_OUTAGE_PAUSE_SECONDS, retry_url,
                               sp=sp)


def retries_so_far(params: dict[str, str]) -> int:
    """How many outage retries this request is already the result of."""
    raw = params.get("retry", "0")
    return min(int(raw), STORE_OUTAGE_RETRIES) if raw.isdigit() else STORE_OUTAGE_RETRIES

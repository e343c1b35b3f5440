"""What a caller hears from the number's Fallback URL: Twilio could not get an answer from
one of our webhooks (an error, or none within 15 s: error 11205), and asks the Fallback URL
instead, with ErrorCode and ErrorUrl added to the call's parameters
(twilio.com/docs/usage/security/availability-reliability). Built from the request alone:
it reads no store, so it answers when Redis and the database do not.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from twilio.twiml.voice_response import VoiceResponse

from holdless import paths
from holdless.speech import ENGLISH, N_, Speech
from ivr import twiml
from queueing.limits import STORE_OUTAGE_PAUSE_SECONDS

SORRY_TRY_AGAIN = N_("We are sorry, we are having a technical problem. "
                     "Please stay on the line while we try once more.")
SORRY_CALL_AGAIN = N_("We are sorry, we cannot take your call right now because of a "
                      "technical problem. Please call again in a few minutes. Goodbye.")
# The mark on the one retry's URL: its failure brings the caller here again, to say goodbye.
TRIED_MARK = "fallback"
# Twilio's status callbacks get no TwiML; a fallback is only ever asked for TwiML.
NO_RETRY = frozenset({paths.CALL_STATUS, paths.AGENT_STATUS, paths.VOICE_FALLBACK})


def fallback_answer(public_base_url: str, error_url: str,
                    sp: Speech = ENGLISH) -> VoiceResponse:
    """A calm apology, then one more try of the webhook that failed (`error_url`, when it is
    one of ours and not itself the retry), else a goodbye asking the caller to call again."""
    retry = retry_url(public_base_url, error_url)
    if retry is None:
        return twiml.goodbye(sp.gettext(SORRY_CALL_AGAIN), sp=sp)
    return twiml.apology_retry(sp.gettext(SORRY_TRY_AGAIN), STORE_OUTAGE_PAUSE_SECONDS, retry,
                               sp=sp)


def retry_url(public_base_url: str, error_url: str) -> str | None:
    """`error_url` marked as the fallback's one retry, or None: not one of our voice webhooks
    (never send a call elsewhere), a status callback, or already the retry."""
    base, failed = urlsplit(public_base_url), urlsplit(error_url)
    if not public_base_url or (failed.scheme, failed.netloc) != (base.scheme, base.netloc):
        return None
    if not failed.path.startswith("/voice/") or failed.path in NO_RETRY:
        return None
    query = parse_qsl(failed.query, keep_blank_values=True)
    if any(key == TRIED_MARK for key, _ in query):
        return None
    marked = urlencode([*query, (TRIED_MARK, "1")])
    return urlunsplit((failed.scheme, failed.netloc, failed.path, marked, ""))

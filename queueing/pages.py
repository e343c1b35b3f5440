"""Whether an agent's console is still open: an open console's live stream beats
(webhooks/push.py), and an agent whose console has been gone for longer than the grace
period (HOLDLESS_PAGE_GRACE_SECONDS) is taken offline with the reason shown.

Only agents who opened a console are watched: agents driven through the API alone (or
ringing on a phone number with no page open) are left as they are. The grace period is
counted by Redis in real seconds, as the browser's beats are.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

import redis

from models.entities import AGENT_STATES, OFFLINE
from queueing import agents
from queueing.keys import KEY_PREFIX

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

WATCHED = f"{KEY_PREFIX}pages"  # set: agents who opened a console


def _beat_key(agent_id: int) -> str:
    return f"{KEY_PREFIX}page:{agent_id}"


def beat(rt: Runtime, agent_id: int) -> None:
    """The agent's console is open now (kept for the grace period)."""
    pipe = rt.live.pipeline(transaction=False)
    pipe.set(_beat_key(agent_id), "1", ex=rt.settings.page_grace_seconds)
    pipe.sadd(WATCHED, agent_id)
    try:
        pipe.execute()
    except redis.RedisError as exc:  # the next beat tries again; the grace period covers it
        log.warning("console beat of agent %s not kept (%s)", agent_id, type(exc).__name__)


def beat_every(rt: Runtime) -> float:
    """How often an open console beats: well inside the grace period."""
    return max(1.0, min(15.0, rt.settings.page_grace_seconds / 3))


def gone_reason(rt: Runtime) -> str:
    """What a console-less agent is told."""
    return (f"your console was closed for more than {rt.settings.page_grace_seconds} s "
            "(open it again and choose Available)")


def take_gone_offline(rt: Runtime) -> list[int]:
    """Take offline every watched agent whose console has been gone past the grace period;
    returns their ids."""
    watched = [int(a) for a in cast("set[str]", rt.live.smembers(WATCHED))]
    gone = [a for a in watched if not rt.live.exists(_beat_key(a))]
    taken = []
    for agent_id in gone:
        rt.live.srem(WATCHED, agent_id)
        if rt.presence.state(agent_id) == OFFLINE:
            continue
        expected = tuple(s for s in AGENT_STATES if s != OFFLINE)
        if agents.take_offline(rt, agent_id, gone_reason(rt), expected):
            taken.append(agent_id)
    return taken

"""Agent presence in Redis: who is signed in for which queue, and who is free since when."""

from __future__ import annotations

from typing import cast

import redis

from queueing import keys
from queueing.keys import KEY_PREFIX

OFFLINE, AVAILABLE, BUSY, WRAP_UP = "offline", "available", "busy", "wrap-up"

# Atomically move an agent to a state, refusing when the current state is not expected.
SET_STATE_SCRIPT = """
local prefix, agent, state, since = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local queues_csv, expected = ARGV[5], ARGV[6]
local akey = prefix .. 'agent:' .. agent
local current = redis.call('HGET', akey, 'state') or 'offline'
if expected ~= '' and not string.find(',' .. expected .. ',', ',' .. current .. ',', 1, true) then
  return current
end
if state == 'available' and current == 'available' then
  since = redis.call('HGET', akey, 'since') or since
end
local function each(csv, fn) for q in string.gmatch(csv or '', '[^,]+') do fn(q) end end
local old = redis.call('HGET', akey, 'queues') or ''
each(old, function(q)
  redis.call('ZREM', prefix .. 'idle:' .. q, agent)
  redis.call('SREM', prefix .. 'staffed:' .. q, agent)
end)
redis.call('HSET', akey, 'state', state, 'queues', queues_csv, 'since', since)
if state ~= 'busy' then redis.call('HDEL', akey, 'entry') end
each(queues_csv, function(q)
  if state ~= 'offline' then redis.call('SADD', prefix .. 'staffed:' .. q, agent) end
  if state == 'available' then redis.call('ZADD', prefix .. 'idle:' .. q, since, agent) end
end)
return 'ok'
"""


class StateRefused(Exception):
    """The agent's live state did not allow the change; carries the state found."""

    def __init__(self, current: str) -> None:
        super().__init__(f"agent is {current}")
        self.current = current


class Presence:
    """Reads and changes agents' live state."""

    def __init__(self, r: redis.Redis) -> None:
        self.redis = r
        self._set = r.register_script(SET_STATE_SCRIPT)

    def set_state(self, agent_id: int, state: str, since: float, queues: list[str],
                  expected: tuple[str, ...] = ()) -> None:
        """Move an agent to `state` serving `queues`; StateRefused unless now in `expected`."""
        result = self._set(args=[KEY_PREFIX, agent_id, state, repr(since), ",".join(sorted(queues)),
                                 ",".join(expected)])
        if result != "ok":
            raise StateRefused(str(result))

    def state(self, agent_id: int) -> str:
        """The agent's live state (offline when unknown)."""
        return str(self.redis.hget(keys.agent(agent_id), "state") or OFFLINE)

    def current_entry(self, agent_id: int) -> str | None:
        """The entry an agent has been handed, if any."""
        value = self.redis.hget(keys.agent(agent_id), "entry")
        return None if value is None else str(value)

    def staffed(self, queue: str) -> int:
        """Agents signed in for `queue`."""
        return int(self.redis.scard(keys.staffed(queue)))

    def available(self, queue: str) -> int:
        """Agents free for `queue` right now."""
        return int(self.redis.zcard(keys.idle(queue)))

    def available_agents(self, queue: str) -> list[int]:
        """Free agents for `queue`, longest idle first."""
        return [int(a) for a in cast("list[str]", self.redis.zrange(keys.idle(queue), 0, -1))]

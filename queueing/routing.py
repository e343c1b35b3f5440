"""Routing: atomically pair the longest-idle eligible agent with the oldest entry.

One Lua script does the whole match inside Redis, so two web processes or workers
routing at the same moment can never hand out one entry or one agent twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from queueing.limits import KEY_PREFIX, MAX_PAIRS_PER_ROUTE

ROUTE_SCRIPT = """
local prefix, max_pairs, now = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local out = {}
local function split(s)
  local t = {}
  for q in string.gmatch(s or '', '[^,]+') do t[#t + 1] = q end
  return t
end
local function head(key)
  local h = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if h[1] then return h[1], tonumber(h[2]), h[2] end
  return nil
end
for _ = 1, max_pairs do
  local agent, agent_idle, agent_queue = nil, nil, nil
  for i = 4, #ARGV do
    local q = ARGV[i]
    if redis.call('ZCARD', prefix .. 'line:' .. q) > 0 then
      local a, idle = head(prefix .. 'idle:' .. q)
      if a and (agent_idle == nil or idle < agent_idle) then
        agent, agent_idle, agent_queue = a, idle, q
      end
    end
  end
  if not agent then break end
  local queues = split(redis.call('HGET', prefix .. 'agent:' .. agent, 'queues'))
  local entry, entry_score, entry_raw, entry_queue = nil, nil, nil, nil
  for _, q in ipairs(queues) do
    local e, score, raw = head(prefix .. 'line:' .. q)
    if e and (entry_score == nil or score < entry_score) then
      entry, entry_score, entry_raw, entry_queue = e, score, raw, q
    end
  end
  if not entry then
    -- the agent no longer serves the queue it was idle in: a stale member, drop it
    redis.call('ZREM', prefix .. 'idle:' .. agent_queue, agent)
  else
    for _, q in ipairs(queues) do redis.call('ZREM', prefix .. 'idle:' .. q, agent) end
    redis.call('ZREM', prefix .. 'line:' .. entry_queue, entry)
    redis.call('HSET', prefix .. 'agent:' .. agent, 'state', 'busy', 'entry', entry, 'since', now)
    redis.call('HSET', prefix .. 'entry:' .. entry, 'agent', agent)
    out[#out + 1] = agent
    out[#out + 1] = entry
    out[#out + 1] = entry_queue
    out[#out + 1] = entry_raw
  end
end
return out
"""


@dataclass(frozen=True)
class Pair:
    """An agent handed one entry of a line."""

    agent_id: int
    entry_id: str
    queue: str
    joined: float


class Router:
    """Runs the routing script on one Redis connection."""

    def __init__(self, r: redis.Redis) -> None:
        self.redis = r
        self._script = r.register_script(ROUTE_SCRIPT)

    def route(self, queues: list[str], now: float,
              max_pairs: int = MAX_PAIRS_PER_ROUTE) -> list[Pair]:
        """Make every pairing now possible among `queues`; each agent and entry once."""
        if not queues:
            return []
        flat = self._script(args=[KEY_PREFIX, max_pairs, repr(now), *sorted(set(queues))])
        return [
            Pair(int(flat[i]), str(flat[i + 1]), str(flat[i + 2]), float(flat[i + 3]))
            for i in range(0, len(flat), 4)
        ]

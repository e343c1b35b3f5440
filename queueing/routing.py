"""Routing: atomically pair the longest-idle eligible agent with the first entry in line
(the oldest, unless the queue gives VIPs and overdue callbacks a bounded priority bonus).

One Lua script does the whole match inside Redis, so two web processes or workers
routing at the same moment can never hand out one entry or one agent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from queueing.keys import KEY_PREFIX
from queueing.limits import MAX_PAIRS_PER_ROUTE
from queueing.lines import Entry

# The match itself, as a Lua function shared by the scripts below.
ROUTE_FUNCTION = """
local function split(s)
  local t = {}
  for q in string.gmatch(s or '', '[^,]+') do t[#t + 1] = q end
  return t
end
-- the first entry of line `key` scored at most `max` that `agent` may take (with no agent:
-- any): an entry an agent cold-transferred back to the line is never handed back to them
local function first_for(prefix, key, max, agent)
  for offset = 0, 99 do
    local h = redis.call('ZRANGEBYSCORE', key, '-inf', max, 'WITHSCORES', 'LIMIT', offset, 1)
    if not h[1] then return nil end
    if agent == nil or redis.call('HGET', prefix .. 'entry:' .. h[1], 'sender') ~= agent then
      return h[1], tonumber(h[2]), h[2]
    end
  end
  return nil
end
-- the longest-idle member of idle set `key` not passed over in this routing pass
local function first_idle(key, passed)
  for offset = 0, 99 do
    local h = redis.call('ZRANGE', key, offset, offset, 'WITHSCORES')
    if not h[1] then return nil end
    if not passed[h[1]] then return h[1], tonumber(h[2]) end
  end
  return nil
end
local function serves(queues, q)
  for _, mine in ipairs(queues) do if mine == q then return true end end
  return false
end
-- callbacks of line q whose promised time has passed take their priority bonus (once)
local function promote(prefix, q, now)
  local key = prefix .. 'overdue:' .. q
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', key, '-inf', now)) do
    local f = redis.call('HMGET', prefix .. 'entry:' .. id, 'joined', 'late_bonus')
    if f[1] and f[2] and redis.call('ZSCORE', prefix .. 'line:' .. q, id) then
      local score = string.format('%.17g', tonumber(f[1]) - tonumber(f[2]))
      redis.call('ZADD', prefix .. 'line:' .. q, 'XX', score, id)
      redis.call('HSET', prefix .. 'entry:' .. id, 'bonus', f[2])
    end
    redis.call('ZREM', key, id)
  end
end
-- overflow routes (queueing.overflow): to[source] = {target, after};
-- from[target] = list of {source, after}
local function overflow_routes(prefix)
  local to, from = {}, {}
  local flat = redis.call('HGETALL', prefix .. 'overflow')
  for i = 1, #flat, 2 do
    local target, after = string.match(flat[i + 1], '^(.-)|(.*)$')
    if target and target ~= '' then
      to[flat[i]] = {target, tonumber(after) or 0}
      from[target] = from[target] or {}
      table.insert(from[target], {flat[i], tonumber(after) or 0})
    end
  end
  return to, from
end
-- the first entry of line q whose place is at least `after` seconds old, if any
local function waited(prefix, q, after, now, agent)
  promote(prefix, q, now)
  return first_for(prefix, prefix .. 'line:' .. q,
    string.format('%.17g', tonumber(now) - after), agent)
end
-- whether agents idle in queue q have work: their own line, or an overflowing one
local function has_work(prefix, q, from, now)
  if redis.call('ZCARD', prefix .. 'line:' .. q) > 0 then return true end
  for _, src in ipairs(from[q] or {}) do
    if waited(prefix, src[1], src[2], now) then return true end
  end
  return false
end
local function route(prefix, max_pairs, now, lines)
local out = {}
local to, from = overflow_routes(prefix)
for _, q in ipairs(lines) do promote(prefix, q, now) end
local passed, made, tries = {}, 0, 0
while made < max_pairs and tries < max_pairs + 100 do
  tries = tries + 1
  local agent, agent_idle, agent_queue = nil, nil, nil
  local function consider(q)
    local a, idle = first_idle(prefix .. 'idle:' .. q, passed)
    if a and (agent_idle == nil or idle < agent_idle) then
      agent, agent_idle, agent_queue = a, idle, q
    end
  end
  for _, q in ipairs(lines) do
    if has_work(prefix, q, from, now) then consider(q) end
    local o = to[q]
    if o and waited(prefix, q, o[2], now) then consider(o[1]) end
  end
  if not agent then break end
  local queues = split(redis.call('HGET', prefix .. 'agent:' .. agent, 'queues'))
  local entry, entry_score, entry_raw, entry_queue = nil, nil, nil, nil
  local function take(e, score, raw, q)
    if e and (entry_score == nil or score < entry_score) then
      entry, entry_score, entry_raw, entry_queue = e, score, raw, q
    end
  end
  for _, q in ipairs(queues) do
    promote(prefix, q, now)
    local e, score, raw = first_for(prefix, prefix .. 'line:' .. q, '+inf', agent)
    take(e, score, raw, q)
    for _, src in ipairs(from[q] or {}) do
      local oe, oscore, oraw = waited(prefix, src[1], src[2], now, agent)
      take(oe, oscore, oraw, src[1])
    end
  end
  if not entry and serves(queues, agent_queue) then
    passed[agent] = true  -- only work they sent back waits: they stay idle for the next
  elseif not entry then
    -- the agent no longer serves the queue it was idle in: a stale member, drop it
    redis.call('ZREM', prefix .. 'idle:' .. agent_queue, agent)
  else
    made = made + 1
    for _, q in ipairs(queues) do redis.call('ZREM', prefix .. 'idle:' .. q, agent) end
    redis.call('ZREM', prefix .. 'line:' .. entry_queue, entry)
    redis.call('HSET', prefix .. 'agent:' .. agent, 'state', 'busy', 'entry', entry, 'since', now)
    redis.call('HSET', prefix .. 'entry:' .. entry, 'agent', agent)
    out[#out + 1] = agent
    out[#out + 1] = entry
    out[#out + 1] = entry_queue
    -- when it arrived (its score is earlier by any priority bonus)
    out[#out + 1] = redis.call('HGET', prefix .. 'entry:' .. entry, 'joined') or entry_raw
  end
end
return out
end
"""

ROUTE_SCRIPT = ROUTE_FUNCTION + """
local lines = {}
for i = 4, #ARGV do lines[#lines + 1] = ARGV[i] end
return route(ARGV[1], tonumber(ARGV[2]), ARGV[3], lines)
"""

# Join a line and route it in one atomic step (what `lines.join` then `Router.route` for
# that queue do, with nothing in between): ARGV = prefix, max pairs, now, entry id, queue,
# score (arrival less priority bonus), call sid, then the entry's hash fields and values.
# Returns whether the entry was added, its 0-based rank after routing (-1: paired at once)
# and the pairs.
JOIN_AND_ROUTE_SCRIPT = ROUTE_FUNCTION + """
local prefix, id, queue, joined, sid = ARGV[1], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
redis.call('HSET', prefix .. 'entry:' .. id, unpack(ARGV, 8))
if sid ~= '' then redis.call('SET', prefix .. 'call:' .. sid, id) end
redis.call('SADD', prefix .. 'queues', queue)
local added = redis.call('ZADD', prefix .. 'line:' .. queue, 'NX', joined, id)
local pairs_made = route(prefix, tonumber(ARGV[2]), ARGV[3], {queue})
local rank = redis.call('ZRANK', prefix .. 'line:' .. queue, id)
return {added, rank or -1, pairs_made}
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
        self._join_script = r.register_script(JOIN_AND_ROUTE_SCRIPT)

    def route(self, queues: list[str], now: float,
              max_pairs: int = MAX_PAIRS_PER_ROUTE) -> list[Pair]:
        """Make every pairing now possible among `queues`; each agent and entry once."""
        if not queues:
            return []
        flat = self._script(args=[KEY_PREFIX, max_pairs, repr(now), *sorted(set(queues))])
        return _pairs(flat)

    def join_and_route(self, entry: Entry, now: float,
                       max_pairs: int = MAX_PAIRS_PER_ROUTE) -> Joined:
        """Put `entry` in its line at its original place, then make every pairing now
        possible in that line, atomically and in one round trip."""
        fields = [v for pair in entry.fields().items() for v in pair]
        added, rank, flat = self._join_script(args=[
            KEY_PREFIX, max_pairs, repr(now), entry.id, entry.queue, repr(entry.score),
            entry.call_sid, *fields])
        return Joined(bool(added), None if int(rank) < 0 else int(rank) + 1, _pairs(flat))


@dataclass(frozen=True)
class Joined:
    """The outcome of `Router.join_and_route`: whether the entry was new to its line, its
    1-based place after routing (None: paired at once, or gone) and the pairs made."""

    added: bool
    position: int | None
    pairs: list[Pair]


def _pairs(flat: list[Any]) -> list[Pair]:
    return [Pair(int(flat[i]), str(flat[i + 1]), str(flat[i + 2]), float(flat[i + 3]))
            for i in range(0, len(flat), 4)]

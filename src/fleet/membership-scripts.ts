/**
 * Membership's Lua scripts. Heartbeats and the staleness cut-off both read Redis's own `TIME`,
 * so that the replicas' wall clocks (which may disagree) never decide who is a member: every
 * score in the members set is Redis time in ms. Redis 5+ replicates a script's effects, so a
 * script may call TIME and then write.
 */

/** Redis's time in ms, as a Lua number (exact: well under 2^53). */
const REDIS_NOW_MS = `
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/**
 * KEYS[1] the members sorted set, KEYS[2] this member's hash. ARGV[1] replica, ARGV[2] config
 * hash, ARGV[3] state version, ARGV[4] the hash's TTL in ms, ARGV[5] "1" on this process's
 * first heartbeat (a new `joinedAt`), else "0" (kept, or set when the hash had expired),
 * ARGV[6] the first fleet second this replica pushes statistics for (kept like `joinedAt`).
 * Replies Redis's time in ms.
 */
export const HEARTBEAT_LUA = `${REDIS_NOW_MS}
local now = string.format('%.0f', nowMs)
redis.call('ZADD', KEYS[1], now, ARGV[1])
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[2], 'joinedAt', now, 'firstSecond', ARGV[6])
else
  redis.call('HSETNX', KEYS[2], 'joinedAt', now)
  redis.call('HSETNX', KEYS[2], 'firstSecond', ARGV[6])
end
redis.call('HSET', KEYS[2], 'configHash', ARGV[2], 'stateVersion', ARGV[3], 'seenAt', now)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return now
`;

/**
 * KEYS[1] the members sorted set. ARGV[1] how long a member stays without a heartbeat, in ms.
 * Removes those heard from longer ago and replies the others as `{replica, seenAtMs, ...}`.
 */
export const LIVE_MEMBERS_LUA = `${REDIS_NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('(%.0f', nowMs - tonumber(ARGV[1])))
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
`;

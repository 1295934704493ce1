/**
 * The leader lease's Lua scripts. Each runs atomically in Redis, so "is the lease still ours"
 * and "extend it" (or "take it and bump the epoch") can never be split by another replica.
 * Every script takes the same two keys: KEYS[1] the lease (`<replica>` with a PX TTL) and
 * KEYS[2] the lease epoch (an INCR counter, bumped on each new holder).
 */

/**
 * ARGV[1] replica, ARGV[2] TTL in ms. Free lease: take it and bump the epoch. Ours already (a
 * restart under the same id, or a leader that stepped down on its own clock while Redis kept
 * the lease): extend it, same epoch. Replies `{1, epoch, holder}` when ours, `{0, 0, holder}`
 * when another replica holds it.
 */
export const ACQUIRE_LUA = `
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  local epoch = redis.call('INCR', KEYS[2])
  return {1, epoch, ARGV[1]}
end
if holder == ARGV[1] then
  local epoch = tonumber(redis.call('GET', KEYS[2]) or '0')
  if epoch == nil or epoch == 0 then epoch = redis.call('INCR', KEYS[2]) end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, epoch, holder}
end
return {0, 0, holder}
`;

/**
 * ARGV[1] replica, ARGV[2] epoch (decimal), ARGV[3] TTL in ms. Extends the lease only when both
 * the holder and the epoch are still ours. Replies `{1, holder}` when extended, `{0, holder}`
 * when lost (`holder` is false when the lease expired and nobody took it yet).
 */
export const RENEW_LUA = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1, holder}
end
return {0, holder}
`;

/**
 * ARGV[1] replica. Deletes the lease only when this replica holds it, so that another takes
 * over at its next tick instead of after the TTL. Replies 1 when deleted, 0 otherwise.
 */
export const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/**
 * The script that appends events a replica forwards from its own log (health, breakers,
 * reloads: what is not a shared-state write) to the fleet's event log, with ids from the same
 * counter as the state writes', so ids stay increasing fleet-wide. The floor works as in the
 * state write script: a counter below it means Redis lost its data, and ids jump above it.
 * KEYS: 1 eventSeq, 2 events, 3 stateVersion
 * ARGV: 1 event id floor, 2 event cap, 3.. the events' JSON (no id or version)
 * Reply: the last id given.
 */
export const APPEND_EVENTS_LUA = `
local version = tonumber(redis.call("GET", KEYS[3]) or "0")
local id = tonumber(redis.call("GET", KEYS[1]) or "0")
local floor = tonumber(ARGV[1])
if id < floor then id = floor + 999 end
for i = 3, #ARGV do
  id = id + 1
  redis.call("RPUSH", KEYS[2],
    '{"id":' .. id .. ',"version":' .. version .. ',' .. string.sub(ARGV[i], 2))
end
redis.call("SET", KEYS[1], id)
redis.call("LTRIM", KEYS[2], -tonumber(ARGV[2]), -1)
return id
`;

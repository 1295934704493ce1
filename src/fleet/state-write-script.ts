/**
 * The one Lua script every shared-state write goes through (SPEC 10): the fence, the version
 * check, the write, the event and the hint happen in one step, so no two replicas interleave.
 * Run by EVALSHA, with EVAL when Redis does not know the script yet (NOSCRIPT: after a
 * restart or SCRIPT FLUSH); a NOSCRIPT answer ran nothing, so sending EVAL then is safe.
 *
 * KEYS: 1 state, 2 stateVersion, 3 eventSeq, 4 events, 5 lease, 6 leaseEpoch
 * ARGV: 1 expected version (0: no document yet), 2 document body JSON (no version),
 *       3 event JSON (no id or version), 4 version floor, 5 event id floor, 6 event cap,
 *       7 state channel, 8 fence replica ("" = unfenced), 9 fence epoch
 * Reply: {"ok", version, eventId} | {"conflict", currentVersion} | {"fenced"}
 *
 * The floors are the highest version and event id the writer has seen. A counter below its
 * floor means Redis lost its data: it restarts a gap above the floor, not just one, so that a
 * writer that lagged a little behind another cannot hand out a version or an event id the
 * other has already seen (with other content): versions and event ids never go down nor repeat.
 */
import { createHash } from "node:crypto";
import type { RedisCommandClient } from "./redis-link.ts";

export const WRITE_STATE_LUA = `
if ARGV[8] ~= "" then
  if redis.call("GET", KEYS[5]) ~= ARGV[8] or redis.call("GET", KEYS[6]) ~= ARGV[9] then
    return {"fenced"}
  end
end
local current = tonumber(redis.call("GET", KEYS[2]) or "0")
if current ~= tonumber(ARGV[1]) then
  return {"conflict", current}
end
local function next_after(value, floor)
  if value < floor then return floor + 1000 end
  return value + 1
end
local version = next_after(current, tonumber(ARGV[4]))
redis.call("SET", KEYS[2], version)
redis.call("SET", KEYS[1], '{"version":' .. version .. ',' .. string.sub(ARGV[2], 2))
local eventId = next_after(tonumber(redis.call("GET", KEYS[3]) or "0"), tonumber(ARGV[5]))
redis.call("SET", KEYS[3], eventId)
redis.call("RPUSH", KEYS[4],
  '{"id":' .. eventId .. ',"version":' .. version .. ',' .. string.sub(ARGV[3], 2))
redis.call("LTRIM", KEYS[4], -tonumber(ARGV[6]), -1)
redis.call("PUBLISH", ARGV[7], version)
return {"ok", version, eventId}
`;

/** What EVALSHA names the script by. */
const WRITE_STATE_SHA1 = createHash("sha1").update(WRITE_STATE_LUA).digest("hex");

export interface WriteScriptKeys {
  readonly state: string;
  readonly stateVersion: string;
  readonly eventSeq: string;
  readonly events: string;
  readonly lease: string;
  readonly leaseEpoch: string;
}

export interface WriteScriptArgs {
  readonly expectedVersion: number;
  readonly documentBody: string;
  readonly event: string;
  readonly versionFloor: number;
  readonly eventIdFloor: number;
  readonly eventCap: number;
  readonly channel: string;
  readonly fence?: { readonly replica: string; readonly epoch: number } | undefined;
}

export type WriteScriptReply =
  | { readonly kind: "ok"; readonly version: number; readonly eventId: number }
  | { readonly kind: "conflict"; readonly version: number }
  | { readonly kind: "fenced" };

/** Runs the script on `client`: EVALSHA, then EVAL on NOSCRIPT. Redis errors reject. */
export async function runWriteScript(
  client: RedisCommandClient,
  keys: WriteScriptKeys,
  args: WriteScriptArgs,
): Promise<WriteScriptReply> {
  const options = {
    keys: [keys.state, keys.stateVersion, keys.eventSeq, keys.events, keys.lease, keys.leaseEpoch],
    arguments: [
      String(args.expectedVersion),
      args.documentBody,
      args.event,
      String(args.versionFloor),
      String(args.eventIdFloor),
      String(args.eventCap),
      args.channel,
      args.fence?.replica ?? "",
      args.fence === undefined ? "" : String(args.fence.epoch),
    ],
  };
  let reply: unknown;
  try {
    reply = await client.evalSha(WRITE_STATE_SHA1, options);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    reply = await client.eval(WRITE_STATE_LUA, options);
  }
  return parseReply(reply);
}

function parseReply(reply: unknown): WriteScriptReply {
  if (Array.isArray(reply)) {
    const [kind, first, second] = reply as unknown[];
    if (kind === "ok" && typeof first === "number" && typeof second === "number") {
      return { kind: "ok", version: first, eventId: second };
    }
    if (kind === "conflict" && typeof first === "number") return { kind, version: first };
    if (kind === "fenced") return { kind };
  }
  throw new Error(`unexpected reply from the state write script: ${JSON.stringify(reply)}`);
}

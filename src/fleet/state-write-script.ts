/**
 * The one Lua script every shared-state write goes through (SPEC 10): the fence, the version
 * check, the write, the event and the hint happen in one step, so no two replicas interleave.
 * Run by EVALSHA, with EVAL when Redis does not know the script yet (NOSCRIPT: after a
 * restart or SCRIPT FLUSH); a NOSCRIPT answer ran nothing, so sending EVAL then is safe.
 *
 * The fence heads KEYS and ARGV as fencing.ts says (FENCE_CHECK_LUA), checked only when the
 * write carries a token (a leader's decision); an operator's write carries none.
 * KEYS: 1 lease, 2 leaseEpoch, 3 state, 4 stateVersion, 5 eventSeq, 6 events
 * ARGV: 1 fence replica ("" = unfenced), 2 fence epoch, 3 expected version (0: no document
 *       yet), 4 document body JSON (no version), 5 event JSON (no id or version),
 *       6 version floor, 7 event id floor, 8 event cap, 9 state channel
 * Reply: {"ok", version, eventId} | {"conflict", currentVersion} | "fenced" (FENCED_REPLY)
 *
 * The floors are the highest version and event id the writer has seen. A counter below its
 * floor means Redis lost its data: it restarts a gap above the floor, not just one, so that a
 * writer that lagged a little behind another cannot hand out a version or an event id the
 * other has already seen (with other content): versions and event ids never go down nor repeat.
 */
import { createHash } from "node:crypto";
import { FENCE_CHECK_LUA, fenceKeys, isFencedReply } from "./fencing.ts";
import type { RedisCommandClient } from "./redis-link.ts";

export const WRITE_STATE_LUA = `
if ARGV[1] ~= "" then
${FENCE_CHECK_LUA}
end
local current = tonumber(redis.call("GET", KEYS[4]) or "0")
if current ~= tonumber(ARGV[3]) then
  return {"conflict", current}
end
local function next_after(value, floor)
  if value < floor then return floor + 1000 end
  return value + 1
end
local version = next_after(current, tonumber(ARGV[6]))
redis.call("SET", KEYS[4], version)
redis.call("SET", KEYS[3], '{"version":' .. version .. ',' .. string.sub(ARGV[4], 2))
local eventId = next_after(tonumber(redis.call("GET", KEYS[5]) or "0"), tonumber(ARGV[7]))
redis.call("SET", KEYS[5], eventId)
redis.call("RPUSH", KEYS[6],
  '{"id":' .. eventId .. ',"version":' .. version .. ',' .. string.sub(ARGV[5], 2))
redis.call("LTRIM", KEYS[6], -tonumber(ARGV[8]), -1)
redis.call("PUBLISH", ARGV[9], version)
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
    keys: [...fenceKeys(keys), keys.state, keys.stateVersion, keys.eventSeq, keys.events],
    arguments: [
      // Unfenced writes send empty heads: the script skips the check.
      args.fence?.replica ?? "",
      args.fence === undefined ? "" : String(args.fence.epoch),
      String(args.expectedVersion),
      args.documentBody,
      args.event,
      String(args.versionFloor),
      String(args.eventIdFloor),
      String(args.eventCap),
      args.channel,
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
  if (isFencedReply(reply)) return { kind: "fenced" };
  if (Array.isArray(reply)) {
    const [kind, first, second] = reply as unknown[];
    if (kind === "ok" && typeof first === "number" && typeof second === "number") {
      return { kind: "ok", version: first, eventId: second };
    }
    if (kind === "conflict" && typeof first === "number") return { kind, version: first };
  }
  throw new Error(`unexpected reply from the state write script: ${JSON.stringify(reply)}`);
}

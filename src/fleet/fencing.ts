/**
 * The fencing contract of leader writes (SPEC 10, "One judge"). A leader's belief that it
 * holds the lease may be stale (its process paused, Redis froze, the lease expired and
 * another replica took over), so every write that only the leader may make carries a
 * FenceToken `(replica, epoch)`, and the Lua script of that write refuses it unless, inside
 * the same script, `GET lease == replica` AND `GET leaseEpoch == epoch`.
 *
 * How a write script uses it:
 *
 * - KEYS[1] is `fleetKeys(name).lease`, KEYS[2] is `fleetKeys(name).leaseEpoch`; the write's
 *   own keys start at KEYS[3].
 * - ARGV[1] is the token's replica, ARGV[2] its epoch in decimal (`String(epoch)`); the write's
 *   own arguments start at ARGV[3]. `fenceKeys` and `fenceArgs` build both heads.
 * - The script starts with FENCE_CHECK_LUA, which returns FENCED_REPLY (the bulk string
 *   `"fenced"`) before anything is written when the token is stale. No other reply of a fenced
 *   script may be that string; `isFencedReply` recognises it.
 * - A fenced reply means the write did not happen and never will: the caller counts it
 *   (`switchyard_fleet_fenced_writes_total`), steps down, and applies and announces nothing.
 *   A timeout means unknown (the write may still run), as for every command.
 */
import type { FleetKeys } from "./fleet-keys.ts";

/** What a leader write carries: who believes it leads, and since which takeover. */
export interface FenceToken {
  readonly replica: string;
  readonly epoch: number;
}

/** The reply of a fenced script whose token is stale. */
export const FENCED_REPLY = "fenced";

/** The first lines of every fenced write script (KEYS[1..2], ARGV[1..2] as above). */
export const FENCE_CHECK_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return '${FENCED_REPLY}'
end
`;

/** The outcome of a fenced write: done, or refused because the token is stale. */
export type FencedResult<T> =
  { readonly ok: true; readonly reply: T } | { readonly ok: false; readonly reason: "fenced" };

/** KEYS[1] and KEYS[2] of a fenced script; append the write's own keys. */
export function fenceKeys(keys: Pick<FleetKeys, "lease" | "leaseEpoch">): [string, string] {
  return [keys.lease, keys.leaseEpoch];
}

/** ARGV[1] and ARGV[2] of a fenced script; append the write's own arguments. */
export function fenceArgs(token: FenceToken): [string, string] {
  return [token.replica, String(token.epoch)];
}

export function isFencedReply(reply: unknown): boolean {
  return reply === FENCED_REPLY;
}

/** A script's reply as a FencedResult. */
export function fencedResult<T>(reply: T): FencedResult<T> {
  return isFencedReply(reply) ? { ok: false, reason: "fenced" } : { ok: true, reply };
}

/**
 * The smallest fenced write, to show the fencing contract at work: it appends a value to a
 * list only when the token still holds the lease (src/fleet/fencing.ts).
 */
import {
  FENCE_CHECK_LUA,
  fenceArgs,
  fenceKeys,
  fencedResult,
  type FenceToken,
  type FencedResult,
} from "../../src/fleet/fencing.ts";
import type { FleetKeys } from "../../src/fleet/fleet-keys.ts";
import type { RedisLink } from "../../src/fleet/redis-link.ts";

/** KEYS[3] the list, ARGV[3] the value; replies the list's new length. */
export const FENCED_ECHO_LUA = `${FENCE_CHECK_LUA}
return redis.call('RPUSH', KEYS[3], ARGV[3])
`;

export async function fencedEcho(
  link: RedisLink,
  keys: FleetKeys,
  token: FenceToken,
  list: string,
  value: string,
): Promise<FencedResult<unknown>> {
  const reply = await link.run("fenced echo", (client) =>
    client.eval(FENCED_ECHO_LUA, {
      keys: [...fenceKeys(keys), list],
      arguments: [...fenceArgs(token), value],
    }),
  );
  return fencedResult(reply);
}

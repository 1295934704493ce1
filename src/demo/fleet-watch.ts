/**
 * What the demo waits to see in its fleet, through each replica's own status: the replica
 * that leads (the one that judges rollouts), and a route's split once every replica shows it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { DemoSwitchyard } from "./switchyards.ts";

const POLL_MS = 100;
/** A lease is taken within a second or two; replicas follow a change within one. */
const LEADER_TIMEOUT_MS = 15_000;
const SAME_SPLIT_TIMEOUT_MS = 5000;

/** The leader's replica id once every replica names the same one; undefined if none in time. */
export async function waitForLeader(
  switchyards: readonly DemoSwitchyard[],
): Promise<string | undefined> {
  return await pollUntil(() => {
    const leaders = new Set(switchyards.map((s) => s.proxy.control.status().fleet?.leader));
    const [leader] = leaders;
    return leaders.size === 1 && typeof leader === "string" ? leader : undefined;
  }, LEADER_TIMEOUT_MS);
}

/** Each replica's split of `route` as JSON, once they agree (or as they are, after a while). */
export async function waitForSameSplit(
  switchyards: readonly DemoSwitchyard[],
  route: string,
): Promise<string[]> {
  const splits = (): string[] =>
    switchyards.map((switchyard) => {
      const status = switchyard.proxy.control.status();
      return JSON.stringify(status.routes.find((candidate) => candidate.name === route)?.split);
    });
  const agreed = await pollUntil(() => {
    const now = splits();
    return new Set(now).size === 1 ? now : undefined;
  }, SAME_SPLIT_TIMEOUT_MS);
  return agreed ?? splits();
}

async function pollUntil<T>(find: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined || performance.now() >= deadline) return found;
    await sleep(POLL_MS);
  }
}

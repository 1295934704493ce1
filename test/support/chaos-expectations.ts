/**
 * What every fault-under-load scenario must show, by counting (never by timing): SPEC 4 and 8
 * as a client, a backend and an operator would check them.
 */
import { expect } from "vitest";
import { CHAOS_POOL_SIZE } from "./chaos-rig.ts";
import type { ChaosReport } from "./chaos-run.ts";
import type { ChaosLedger } from "./chaos-ledger.ts";
import { isPostTag } from "./chaos-traffic.ts";

/**
 * No idempotent request whose response had not started failed (it was retried elsewhere), and
 * no client got a complete-looking body that was not the one sent.
 */
export function expectNoIdempotentFailure(ledger: ChaosLedger): void {
  expect(ledger.failedBeforeResponse, ledger.problems.join("; ")).toEqual([]);
  expect(ledger.badBodies, "clean bodies that were not what the backend sent").toEqual([]);
}

/**
 * The requests that failed anyway (responses cut mid-body, POSTs) are all among `inFlightTags`:
 * the ones the proxy had sent to the faulty endpoint.
 */
export function expectFailuresOnlyAmong(ledger: ChaosLedger, inFlightTags: Set<string>): void {
  const elsewhere = (tags: string[]): string[] => tags.filter((tag) => !inFlightTags.has(tag));
  expect(elsewhere(ledger.cutMidResponse), "responses cut elsewhere").toEqual([]);
  expect(
    elsewhere(ledger.failedPosts),
    `POSTs failed elsewhere: ${ledger.problems.join("; ")}`,
  ).toEqual([]);
}

/** No POST reached a backend twice, and each answered one reached exactly one backend once. */
export function expectEachPostDeliveredOnce(
  ledger: ChaosLedger,
  backends: Iterable<{ readonly receivedTags: readonly string[] }>,
): void {
  const deliveries = new Map<string, number>();
  for (const backend of backends) {
    for (const tag of backend.receivedTags) {
      if (isPostTag(tag)) deliveries.set(tag, (deliveries.get(tag) ?? 0) + 1);
    }
  }
  const duplicates = [...deliveries].filter(([, count]) => count > 1).map(([tag]) => tag);
  expect(duplicates, "POSTs delivered twice").toEqual([]);
  const unaccounted = ledger.answeredPosts.filter((tag) => deliveries.get(tag) !== 1);
  expect(unaccounted, "answered POSTs no backend reported").toEqual([]);
}

/** After the load, no backend holds more connections than the pool of its endpoint. */
export function expectNoLeakedConnections(report: ChaosReport): void {
  const over = Object.entries(report.connectionsAfter).filter(([, open]) => open > CHAOS_POOL_SIZE);
  expect(over, "backends holding more connections than the pool's size").toEqual([]);
}

/**
 * Faults under load: the split flipped through the admin API and the config file rewritten and
 * reloaded, in turn, every few tens of milliseconds, each reload replacing every endpoint's
 * connection pool while requests are in flight on the old ones (SPEC 6: in-flight requests
 * finish on the config they started with). No request may fail or come back short, no POST
 * may be delivered twice, and the retired pools must leave no connection behind.
 */
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../support/cleanups.ts";
import {
  expectEachPostDeliveredOnce,
  expectNoIdempotentFailure,
  expectNoLeakedConnections,
} from "../support/chaos-expectations.ts";
import { counterTotal, threeEndpointStage, type ChaosStage } from "../support/chaos-rig.ts";
import { startChaosRun } from "../support/chaos-run.ts";
import { waitFor } from "../support/ports.ts";
import { startSplitChurn } from "../support/split-churn.ts";

const cleanups = cleanupAfterEach();

const STAGE: ChaosStage = threeEndpointStage({
  timeouts: { connect: "1s", response: "5s", idle: "5s" },
});
const SPLITS = [
  { stable: 100, canary: 0 },
  { stable: 0, canary: 100 },
  { stable: 50, canary: 50 },
  { stable: 90, canary: 10 },
];
const TRAFFIC = { answerDelayMs: 5, midBodyPauseMs: 30 };
const CHANGES_WANTED = 40;

describe("weight flips and reloads every few tens of milliseconds under load", () => {
  it("fails no request, cuts no body, and leaves no connection of a retired pool behind", async () => {
    const run = await startChaosRun(STAGE, TRAFFIC);
    cleanups.defer(() => run.close());
    const churn = startSplitChurn(run.rig, STAGE, SPLITS);
    cleanups.defer(async () => {
      await churn.stop();
    });

    await waitFor(() => churn.counts.weightChanges + churn.counts.reloads >= CHANGES_WANTED, {
      timeoutMs: 30_000,
      description: `${String(CHANGES_WANTED)} split changes`,
    });
    const counts = await churn.stop();
    const report = await run.finish();
    const adminUrl = run.rig.proxy.adminUrl;
    const reloadsCounted = await counterTotal(adminUrl, "switchyard_config_reloads_total");
    console.info(`split churn: ${JSON.stringify({ ...report, ...counts, reloadsCounted })}`);

    expect(counts.refusals).toEqual([]);
    expectNoIdempotentFailure(run.ledger);
    expect(run.ledger.cutMidResponse).toEqual([]);
    expect(run.ledger.failedPosts).toEqual([]);
    expectEachPostDeliveredOnce(run.ledger, run.rig.backends.values());
    expectNoLeakedConnections(report);
    // Every rewrite was applied (the watcher may have applied some first), and both
    // upstreams served.
    expect(reloadsCounted).toBeGreaterThanOrEqual(counts.reloads);
    expect(Object.keys(run.load.tally.byName).sort()).toEqual(["canary-a", "stable-a", "stable-b"]);
  });
});

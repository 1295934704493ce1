/**
 * Faults under load, together: weight flips and reloads that replace every connection pool
 * every few tens of milliseconds while an endpoint is killed and restarted. The retries of the
 * requests it held must find a live pool even when the one their snapshot knew was retired,
 * and the requests it never got (refused connections) must go elsewhere, POSTs included.
 */
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../support/cleanups.ts";
import {
  expectEachPostDeliveredOnce,
  expectFailuresOnlyAmong,
  expectNoIdempotentFailure,
  expectNoLeakedConnections,
} from "../support/chaos-expectations.ts";
import { killAndRestart } from "../support/chaos-faults.ts";
import { threeEndpointStage, type ChaosStage } from "../support/chaos-rig.ts";
import { startChaosRun } from "../support/chaos-run.ts";
import { startSplitChurn } from "../support/split-churn.ts";

const cleanups = cleanupAfterEach();

const STAGE: ChaosStage = threeEndpointStage({
  timeouts: { connect: "1s", response: "5s", idle: "5s" },
  outlierDetection: { consecutiveFailures: 3, baseEjectionTime: "500ms" },
});
/** Stable keeps most of the traffic, so the victim holds requests when it dies. */
const SPLITS = [
  { stable: 80, canary: 20 },
  { stable: 60, canary: 40 },
  { stable: 90, canary: 10 },
];
const TRAFFIC = { answerDelayMs: 200, midBodyPauseMs: 300 };

describe("an endpoint killed and restarted while the split and the config churn", () => {
  it("fails no GET before its response and only POSTs in flight on the dead endpoint", async () => {
    const run = await startChaosRun(STAGE, TRAFFIC);
    cleanups.defer(() => run.close());
    const churn = startSplitChurn(run.rig, STAGE, SPLITS);
    cleanups.defer(async () => {
      await churn.stop();
    });
    const victim = run.backend("stable-a");

    const { sentToFaulty, retriesBefore } = await killAndRestart(run, "stable-a");
    const counts = await churn.stop();
    const report = await run.finish();
    console.info(`storm: ${JSON.stringify({ ...report, ...counts })}`);

    expect(counts.refusals).toEqual([]);
    expect(counts.reloads).toBeGreaterThan(0);
    expectNoIdempotentFailure(run.ledger);
    expectFailuresOnlyAmong(run.ledger, sentToFaulty);
    expectEachPostDeliveredOnce(run.ledger, [...run.rig.backends.values(), victim]);
    expectNoLeakedConnections(report);
    expect(report.retries).toBeGreaterThan(retriesBefore);
  });
});

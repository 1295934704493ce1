/**
 * Faults under load: an endpoint killed (SIGKILL) under steady GET and POST load, then
 * restarted on the same port. No GET that had not started its response fails (SPEC 4:
 * retried on another endpoint), a response cut by the kill reaches its client as a dropped
 * connection and never as a clean, short body, the only POSTs that fail are those that were
 * in flight on the killed endpoint, no POST is delivered twice, and once the load stops no
 * backend holds more connections than the pool's size.
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

const cleanups = cleanupAfterEach();

const STAGE: ChaosStage = threeEndpointStage({
  timeouts: { connect: "1s", response: "5s", idle: "5s" },
  outlierDetection: { consecutiveFailures: 3, baseEjectionTime: "500ms" },
});
/** Answers and paused bodies stay a while at the backend: the kill catches some. */
const TRAFFIC = { answerDelayMs: 200, midBodyPauseMs: 300 };

describe("an endpoint killed and restarted under load", () => {
  it("fails no GET before its response, cuts mid-response ones as dropped connections, and fails only POSTs in flight on it", async () => {
    const run = await startChaosRun(STAGE, TRAFFIC);
    cleanups.defer(() => run.close());
    const victim = run.backend("stable-a");

    const { sentToFaulty, retriesBefore } = await killAndRestart(run, "stable-a");
    const report = await run.finish();
    console.info(`endpoint kill: ${JSON.stringify(report)}`);

    expectNoIdempotentFailure(run.ledger);
    expectFailuresOnlyAmong(run.ledger, sentToFaulty);
    expectEachPostDeliveredOnce(run.ledger, [...run.rig.backends.values(), victim]);
    expectNoLeakedConnections(report);
    // The kill was felt: retries went elsewhere, and what it held died with it.
    expect(report.retries).toBeGreaterThan(retriesBefore);
    expect(report.cutMidResponse + report.failedPosts).toBeGreaterThan(0);
  });
});

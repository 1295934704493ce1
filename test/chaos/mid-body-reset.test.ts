/**
 * Faults under load: an endpoint that resets some connections (TCP RST) in the middle of a
 * response body. SPEC 8: the proxy drops the client's connection, so the client sees an error
 * and never a clean, short body (checked against every body's length and hash, with and
 * without Content-Length); nothing that had not started its response fails; no POST is lost;
 * and the resets leave no connection behind.
 */
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../support/cleanups.ts";
import {
  expectEachPostDeliveredOnce,
  expectFailuresOnlyAmong,
  expectNoIdempotentFailure,
  expectNoLeakedConnections,
} from "../support/chaos-expectations.ts";
import { threeEndpointStage, type ChaosStage } from "../support/chaos-rig.ts";
import { startChaosRun } from "../support/chaos-run.ts";
import { waitFor } from "../support/ports.ts";

const cleanups = cleanupAfterEach();

// Every third answer of stable-a with a middle dies there.
const STAGE: ChaosStage = threeEndpointStage(
  { timeouts: { connect: "1s", response: "5s", idle: "5s" } },
  { name: "stable-a", resetBodyEvery: 3 },
);
const TRAFFIC = { answerDelayMs: 5, midBodyPauseMs: 20 };
const CUTS_WANTED = 20;

describe("an upstream that resets mid-body under load", () => {
  it("drops each client connection it cut, never ends a short body cleanly, and fails nothing else", async () => {
    const run = await startChaosRun(STAGE, TRAFFIC);
    cleanups.defer(() => run.close());
    const resetter = run.backend("stable-a");

    await waitFor(() => run.ledger.cutMidResponse.length >= CUTS_WANTED, {
      timeoutMs: 30_000,
      description: `${String(CUTS_WANTED)} responses cut mid-body`,
    });
    const report = await run.finish();
    const { bodiesReset } = await resetter.stats();
    console.info(`mid-body reset: ${JSON.stringify({ ...report, bodiesReset })}`);

    expectNoIdempotentFailure(run.ledger);
    expectFailuresOnlyAmong(run.ledger, run.sends.tagsSentTo(resetter.port));
    expect(run.ledger.failedPosts).toEqual([]);
    expectEachPostDeliveredOnce(run.ledger, run.rig.backends.values());
    expectNoLeakedConnections(report);
    // Each cut is one of the resets (a reset that beat the head was retried instead).
    expect(report.cutMidResponse).toBeLessThanOrEqual(bodiesReset);
  });
});

/**
 * Faults under load: an endpoint frozen (SIGSTOP) past the upstream response timeout, then
 * thawed (SIGCONT). Its connections stay open and silent and the kernel still accepts new
 * ones, so only timeouts tell the proxy. GETs that had not started their response are retried
 * elsewhere (SPEC 4), bodies it froze halfway reach their clients as dropped connections once
 * the idle timeout passes, the only POSTs that fail are those sent to it, and once the load
 * stops no backend holds more connections than the pool's size, the thawed one included.
 */
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../support/cleanups.ts";
import {
  expectEachPostDeliveredOnce,
  expectFailuresOnlyAmong,
  expectNoIdempotentFailure,
  expectNoLeakedConnections,
} from "../support/chaos-expectations.ts";
import { freezeUntilEjected } from "../support/chaos-faults.ts";
import { threeEndpointStage, type ChaosStage } from "../support/chaos-rig.ts";
import { startChaosRun } from "../support/chaos-run.ts";

const cleanups = cleanupAfterEach();

/** Failures it takes outlier detection to eject the frozen endpoint. */
const EJECTING_FAILURES = 3;

const STAGE: ChaosStage = threeEndpointStage({
  // Far above any answer time on a busy machine, so only the frozen endpoint times out.
  timeouts: { connect: "1s", response: "2s", idle: "2s" },
  outlierDetection: { consecutiveFailures: EJECTING_FAILURES, baseEjectionTime: "500ms" },
});
/** Paused bodies stay a while at the backend (under the idle timeout): the freeze catches some. */
const TRAFFIC = { answerDelayMs: 20, midBodyPauseMs: 400 };

describe("an endpoint frozen past the response timeout under load", () => {
  it("fails no GET before its response, cuts the bodies it froze as dropped connections, and fails only POSTs sent to it", async () => {
    const run = await startChaosRun(STAGE, TRAFFIC);
    cleanups.defer(() => run.close());

    const { sentToFaulty, retriesBefore } = await freezeUntilEjected(run, "stable-a");
    const report = await run.finish();
    console.info(`endpoint freeze: ${JSON.stringify(report)}`);

    expectNoIdempotentFailure(run.ledger);
    expectFailuresOnlyAmong(run.ledger, sentToFaulty);
    expectEachPostDeliveredOnce(run.ledger, run.rig.backends.values());
    expectNoLeakedConnections(report);
    // The freeze was felt: the failures that ejected it were retried GETs, cut bodies (the
    // paused one among them) and POSTs.
    const retried = report.retries - retriesBefore;
    expect(retried + report.cutMidResponse + report.failedPosts).toBeGreaterThanOrEqual(
      EJECTING_FAILURES,
    );
    expect(report.cutMidResponse).toBeGreaterThan(0);
  });
});

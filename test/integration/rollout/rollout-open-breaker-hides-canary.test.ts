/**
 * A failing canary must be rolled back even when its own breaker opens first.
 * With the default breaker (50% errors over 20 requests) a canary failing 60% of requests is
 * cut off within half a second; every request meant for it then falls back to stable, so the
 * canary records no attempts, each later decision is inconclusive ("0 requests to canary"),
 * and the rollout holds its step (for as long as the breaker keeps failing its trials) instead
 * of rolling back. So window statistics count each fallback away from the target as its failure.
 */
import { expect, it } from "vitest";
import { getStatus } from "../../support/admin-calls.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { demoPairForFile } from "../../support/demo-pair.ts";
import { startPacedLoad } from "../../support/paced-load.ts";
import { waitFor } from "../../support/ports.ts";
import { canaryRolloutConfig, startRolloutSwitchyard } from "../../support/rollout-switchyard.ts";

const demo = demoPairForFile({ canary: { errorRate: 0.6 } });
const { defer, track } = cleanupAfterEach();

it("rolls back a canary whose breaker opened on its failures", async () => {
  const sy = await startRolloutSwitchyard(
    canaryRolloutConfig({ stableUrl: demo.stable.url, canaryUrl: demo.canary.url }),
  );
  defer(() => sy.dispose());
  track(startPacedLoad(`${sy.url}/`, { ratePerSecond: 600 }));
  // Waited for, not slept on: a busy machine may take longer, never the other way round.
  const status = await waitFor(
    async () => {
      const now = await getStatus(sy.adminUrl);
      return now.routes[0]?.rollout?.phase === "rolledBack" ? now : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, description: "the rollout rolled back" },
  );
  // With the canary at 0% nothing tries it again: the breaker that hid it is still open.
  expect(status.upstreams.find((u) => u.name === "canary")?.breaker).toBe("open");
});

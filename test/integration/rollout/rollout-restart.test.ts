/**
 * SPEC 5 and 6: a rollout's phase, step, failure count and recent decisions are kept in the
 * state file and survive a restart. A rollout reaches its approval gate under load in this
 * process; real `switchyard serve` processes then take over the same config directory, one
 * after another, and carry on where it was, through approve and pause from the CLI.
 */
import { afterEach, expect, it } from "vitest";
import type { RolloutStatus } from "../../../src/control/control-api.ts";
import { getStatus } from "../../support/admin-calls.ts";
import { startPacedLoad } from "../../support/paced-load.ts";
import { waitFor } from "../../support/ports.ts";
import {
  CANARY_ALWAYS_TRIED,
  canaryRolloutConfig,
  startRolloutSwitchyard,
} from "../../support/rollout-switchyard.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { demoPairForFile } from "../../support/demo-pair.ts";
import {
  killAllSwitchyardProcesses,
  startSwitchyardProcess,
} from "../../support/switchyard-process.ts";
import { killAllChildren, runCli } from "../cli/child-process.ts";

const demo = demoPairForFile();
// Registered first, so it runs last: the directory goes once the processes using it are gone.
const { defer } = cleanupAfterEach();

afterEach(async () => {
  await killAllChildren();
  await killAllSwitchyardProcesses();
});

async function webOf(adminUrl: string) {
  const status = await getStatus(adminUrl);
  const web = status.routes.find((r) => r.name === "web");
  if (web === undefined) throw new Error("no route web");
  return web;
}

it("resumes at the same step and phase after each restart", async () => {
  const first = await startRolloutSwitchyard(
    canaryRolloutConfig({
      stableUrl: demo.stable.url,
      canaryUrl: demo.canary.url,
      canaryUpstream: CANARY_ALWAYS_TRIED,
      rollout: { approvalBefore: [50] },
      top: {
        state: { file: "./state.json" },
        server: { drainDelay: "100ms", drainTimeout: "2s" },
      },
    }),
  );
  defer(() => first.dispose());
  const load = startPacedLoad(`${first.url}/`, { ratePerSecond: 600 });
  const parked = await waitFor(
    async () => {
      const rollout = (await webOf(first.adminUrl)).rollout;
      return rollout?.phase === "waitingApproval" ? rollout : undefined;
    },
    { timeoutMs: 6000, intervalMs: 20, description: "the rollout waiting for approval" },
  );
  await load.stop();
  expect(parked).toMatchObject({ stepIndex: 0, stepPercent: 10, failures: 0 });
  const decided = parked.lastDecision as { verdict: string; at: string };
  expect(decided.verdict).toBe("waitForApproval");
  const { configFile } = first.configDir;
  await first.close();

  // First restart: still waiting at 10%, with the same last decision; approve moves it on.
  const second = await startSwitchyardProcess(configFile);
  const resumed = await webOf(second.adminUrl);
  expect(resumed).toMatchObject({
    split: { stable: 90, canary: 10 },
    splitSource: "rollout",
    rollout: { phase: "waitingApproval", stepIndex: 0, stepPercent: 10, failures: 0 },
  });
  expect((resumed.rollout as RolloutStatus).lastDecision).toEqual(parked.lastDecision);
  const approved = await runCli(["rollout", "web", "approve", "--admin", second.adminUrl]);
  expect(approved.code).toBe(0);
  expect(approved.stdout).toBe("route web: progressing, step 2 at 50% (canary over stable)\n");
  expect((await webOf(second.adminUrl)).split).toEqual({ stable: 50, canary: 50 });
  await second.stop();

  // Second restart: progressing at 50%; pause it from the CLI.
  const third = await startSwitchyardProcess(configFile);
  expect(await webOf(third.adminUrl)).toMatchObject({
    split: { stable: 50, canary: 50 },
    rollout: { phase: "progressing", stepIndex: 1, stepPercent: 50 },
  });
  expect((await runCli(["rollout", "web", "pause", "--admin", third.adminUrl])).code).toBe(0);
  await third.stop();

  // Third restart: still paused at 50%, and an operator may set weights.
  const fourth = await startSwitchyardProcess(configFile);
  expect(await webOf(fourth.adminUrl)).toMatchObject({
    split: { stable: 50, canary: 50 },
    rollout: { phase: "paused", stepIndex: 1, stepPercent: 50 },
  });
  const weights = await runCli([
    "weights",
    "web",
    "stable=80",
    "canary=20",
    "--admin",
    fourth.adminUrl,
  ]);
  expect(weights.code).toBe(0);
  expect((await webOf(fourth.adminUrl)).split).toEqual({ stable: 80, canary: 20 });
  await fourth.stop();
}, 15_000);

/**
 * Weights an operator sets once a rollout no longer runs stay in force. SPEC 5:
 * a manual change is refused only while the rollout is progressing or waiting for approval
 * ("pause it first"), and a finished rollout's split stays "until a config edit changes the
 * route's split or an operator sets weights". The controller writes its step's weights over
 * them again: on every reload of an unchanged rollout block while paused
 * (rollout-controller.ts, configApplied: `!isFinished` -> applyWeights), and at startup for
 * any saved rollout, paused or finished (initialize -> applyWeights).
 */
import { expect, it } from "vitest";
import { adminCall, routeSplit, setWeights } from "../../support/admin-calls.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { demoPairForFile } from "../../support/demo-pair.ts";
import { configText, writeConfigInPlace, type ConfigDir } from "../../support/file-switchyard.ts";
import {
  canaryRolloutConfig,
  startRolloutSwitchyard,
  type RolloutSwitchyard,
} from "../../support/rollout-switchyard.ts";

const demo = demoPairForFile();
const { defer } = cleanupAfterEach();

function config(requestTimeout = "30s"): Record<string, unknown> {
  return canaryRolloutConfig({
    stableUrl: demo.stable.url,
    canaryUrl: demo.canary.url,
    top: { state: { file: "./state.json" }, server: { requestTimeout } },
  });
}

async function act(sy: RolloutSwitchyard, action: string): Promise<void> {
  const answer = await adminCall(sy.adminUrl, "POST", `/api/v1/routes/web/rollout/${action}`);
  expect(answer.status).toBe(200);
}

/** Started from `configDir` (a new directory by default), disposed of after the test. */
async function start(configDir?: ConfigDir): Promise<RolloutSwitchyard> {
  const sy = await startRolloutSwitchyard(config(), configDir);
  defer(() => sy.dispose());
  return sy;
}

async function restart(sy: RolloutSwitchyard): Promise<RolloutSwitchyard> {
  await sy.close();
  return start(sy.configDir);
}

it("a reload while paused keeps the operator's weights", async () => {
  const sy = await start();
  await act(sy, "pause");
  await setWeights(sy.adminUrl, "web", { stable: 70, canary: 30 });
  // An edit elsewhere in the file; the rollout block is unchanged.
  await writeConfigInPlace(sy.configDir.configFile, configText(config("20s")));
  // The edit is in force: the weights below were kept by a reload, not left by a skipped one.
  const reload = await adminCall(sy.adminUrl, "POST", "/api/v1/reload");
  expect(reload.status).toBe(200);
  expect(reload.json).toMatchObject({ applied: true, changed: true });
  expect(await routeSplit(sy.adminUrl, "web")).toEqual({
    split: { stable: 70, canary: 30 },
    splitSource: "admin",
  });
});

it("a restart while paused keeps the operator's weights", async () => {
  const sy = await start();
  await act(sy, "pause");
  await setWeights(sy.adminUrl, "web", { stable: 70, canary: 30 });
  const after = await restart(sy);
  expect(await routeSplit(after.adminUrl, "web")).toEqual({
    split: { stable: 70, canary: 30 },
    splitSource: "admin",
  });
});

it("a restart after a promotion keeps the operator's weights", async () => {
  const sy = await start();
  await act(sy, "promote");
  await setWeights(sy.adminUrl, "web", { stable: 30, canary: 70 });
  const after = await restart(sy);
  expect(await routeSplit(after.adminUrl, "web")).toEqual({
    split: { stable: 30, canary: 70 },
    splitSource: "admin",
  });
});

/**
 * SPEC 5 and 7, an operator against a running rollout: manual weights are refused with 409
 * while it progresses and allowed once it is paused; `switchyard rollout web pause|promote`
 * act at once through the admin API and exit 0; a refused action exits 1 with the server's
 * sentence, an unknown one exits 2 without calling.
 */
import { afterEach, describe, expect, it } from "vitest";
import { adminCall, errorOf, getStatus, routeSplit } from "../../support/admin-calls.ts";
import {
  canaryRolloutConfig,
  startRolloutSwitchyard,
  type RolloutSwitchyard,
} from "../../support/rollout-switchyard.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { demoPairForFile } from "../../support/demo-pair.ts";
import { killAllChildren, runCli } from "../cli/child-process.ts";

const demo = demoPairForFile();
const { defer } = cleanupAfterEach();

afterEach(async () => {
  await killAllChildren();
});

async function start(): Promise<RolloutSwitchyard> {
  const sy = await startRolloutSwitchyard(
    canaryRolloutConfig({ stableUrl: demo.stable.url, canaryUrl: demo.canary.url }),
  );
  defer(() => sy.dispose());
  return sy;
}

function putWeights(sy: RolloutSwitchyard, weights: Record<string, number>) {
  return adminCall(sy.adminUrl, "PUT", "/api/v1/routes/web/weights", { json: { weights } });
}

function rolloutCli(sy: RolloutSwitchyard, action: string) {
  return runCli(["rollout", "web", action, "--admin", sy.adminUrl]);
}

describe("manual weights during a rollout", () => {
  it("are refused with 409 while it progresses, and allowed once it is paused", async () => {
    const sy = await start();
    const refused = await putWeights(sy, { stable: 50, canary: 50 });
    expect(refused.status).toBe(409);
    expect(errorOf(refused)).toMatchObject({
      code: "SWITCHYARD_ROLLOUT_RUNNING",
      message: expect.stringContaining("pause it first") as unknown,
    });
    const cleared = await adminCall(sy.adminUrl, "DELETE", "/api/v1/routes/web/weights");
    expect(cleared.status).toBe(409);
    expect(await routeSplit(sy.adminUrl, "web")).toEqual({
      split: { stable: 90, canary: 10 },
      splitSource: "rollout",
    });

    const paused = await rolloutCli(sy, "pause");
    expect(paused.stderr).toBe("");
    expect(paused.code).toBe(0);
    expect(paused.stdout).toBe("route web: paused, step 1 at 10% (canary over stable)\n");

    const allowed = await putWeights(sy, { stable: 70, canary: 30 });
    expect(allowed.status).toBe(200);
    expect(await routeSplit(sy.adminUrl, "web")).toEqual({
      split: { stable: 70, canary: 30 },
      splitSource: "admin",
    });
  });
});

describe("switchyard rollout", () => {
  it("promote puts the canary at 100% at once and exits 0", async () => {
    const sy = await start();
    const promoted = await rolloutCli(sy, "promote");
    expect(promoted.stderr).toBe("");
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toMatch(
      /^route web: promoted, step \d at \d+% \(canary over stable\)\n$/,
    );
    const status = await getStatus(sy.adminUrl);
    expect(status.routes[0]).toMatchObject({
      name: "web",
      split: { stable: 0, canary: 100 },
      splitSource: "rollout",
      rollout: { phase: "promoted" },
    });
    // A finished rollout no longer blocks an operator.
    expect((await putWeights(sy, { stable: 100, canary: 0 })).status).toBe(200);
  });

  it("an action the phase does not allow exits 1 with the reason", async () => {
    const sy = await start();
    const refused = await rolloutCli(sy, "resume");
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(
      'cannot resume the rollout on route "web" while it is progressing',
    );
    const answer = await adminCall(sy.adminUrl, "POST", "/api/v1/routes/web/rollout/approve");
    expect(answer.status).toBe(409);
    expect(errorOf(answer).code).toBe("SWITCHYARD_ROLLOUT_PHASE");
  });

  it("an unknown action exits 2 without calling, and the API answers 404", async () => {
    const sy = await start();
    const exit = await rolloutCli(sy, "restart");
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe("");
    expect(exit.stderr).toContain('"restart" is not a rollout action');
    const answer = await adminCall(sy.adminUrl, "POST", "/api/v1/routes/web/rollout/restart");
    expect(answer.status).toBe(404);
    expect(errorOf(answer).code).toBe("SWITCHYARD_UNKNOWN_ACTION");
    const unknownRoute = await adminCall(sy.adminUrl, "POST", "/api/v1/routes/nope/rollout/pause");
    expect(unknownRoute.status).toBe(404);
    expect((await getStatus(sy.adminUrl)).routes[0]?.rollout?.phase).toBe("progressing");
  });
});

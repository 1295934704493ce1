/**
 * The control contract against the real control plane, as `serve` builds it (startSwitchyard
 * from a config file). The rollout's phase for the scenario comes from a state file written
 * next to the config, as a restart would find it: that is how a rollout can be waiting for
 * approval without traffic to judge.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadConfigFile } from "../../../src/config/load.ts";
import { identityOf } from "../../../src/rollout/rollout-state.ts";
import { STATE_FORMAT_VERSION } from "../../../src/state/state-schema.ts";
import { FAKE_ROLLOUT_STEPS } from "../admin/fake-control.ts";
import { configText, startFileSwitchyard } from "../../support/file-switchyard.ts";
import { runControlContract, type ScenarioPhase } from "./control-contract.ts";

/** Never connected to: no traffic flows, and no upstream has health checks. */
const NOWHERE = "http://127.0.0.1:9";
const STATE_FILE = "switchyard-state.json";

const SCENARIO = {
  upstreams: { stable: { endpoints: [NOWHERE] }, canary: { endpoints: [NOWHERE] } },
  routes: [
    {
      name: "api",
      match: { pathPrefix: "/api" },
      split: { stable: 90, canary: 10 },
      rollout: {
        target: "canary",
        baseline: "stable",
        steps: FAKE_ROLLOUT_STEPS,
        // Nothing is judged while a test runs: only the test's calls move the rollout.
        interval: "1h",
        minRequests: 1_000_000,
        approvalBefore: [50],
      },
    },
    { name: "web", split: { stable: 95, canary: 5 } },
  ],
  state: { file: STATE_FILE },
};

/** Writes the config, and a state file holding the `api` rollout at step 10% in `phase`. */
async function writeScenario(dir: string, text: string, phase: ScenarioPhase): Promise<string> {
  const configFile = join(dir, "switchyard.yaml");
  await writeFile(configFile, text);
  const loaded = await loadConfigFile(configFile);
  const policy = loaded.ok ? loaded.config.routes[0]?.rollout : undefined;
  if (policy === undefined) throw new Error("the scenario's config has no api rollout");
  const rollout = {
    policyHash: identityOf(policy),
    phase,
    stepIndex: 1,
    failures: 0,
    decisions: [],
  };
  const state = { version: STATE_FORMAT_VERSION, routes: { api: { override: null, rollout } } };
  await writeFile(join(dir, STATE_FILE), JSON.stringify(state));
  return configFile;
}

runControlContract("the control plane", async (phase) => {
  const switchyard = await startFileSwitchyard(configText(SCENARIO), {
    isWatchingConfig: false,
    writeInitial: (dir, text) => writeScenario(dir, text, phase),
  });
  return { control: switchyard.control, close: () => switchyard.close() };
});

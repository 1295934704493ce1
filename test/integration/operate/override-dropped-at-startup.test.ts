/**
 * An override dropped at startup (the file's split changed while the process was down) is
 * dropped from the state file too, so it does not come back when the file's old split does.
 *
 * SPEC 6: weights set through the admin API are kept in the state file and survive a restart;
 * a config edit of the route's split replaces the override (the newest deliberate change
 * wins), and that too survives a restart. A corrupt state file never stops the proxy and is
 * set aside, not written over. Real `switchyard serve` processes over one config directory.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getEvents, routeSplit, setWeights } from "../../support/admin-calls.ts";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import {
  configText,
  makeConfigDir,
  writeConfigInPlace,
  type ConfigDir,
} from "../../support/file-switchyard.ts";
import { closeDefaultAgent, hammer } from "../../support/http-client.ts";
import {
  killAllSwitchyardProcesses,
  startSwitchyardProcess,
  type ServingSwitchyard,
} from "../../support/switchyard-process.ts";

const PROBES = 20;

let stable: EchoBackend;
let canary: EchoBackend;
let configDir: ConfigDir | undefined;

beforeAll(async () => {
  stable = await startEchoBackend({ name: "stable" });
  canary = await startEchoBackend({ name: "canary" });
});

afterEach(async () => {
  await killAllSwitchyardProcesses();
  await closeDefaultAgent();
  await configDir?.remove();
  configDir = undefined;
});

afterAll(async () => {
  await stable.close();
  await canary.close();
});

function configWithState(split: Record<string, number>): string {
  return configText({
    state: { file: "./state.json" },
    upstreams: { stable: { endpoints: [stable.url] }, canary: { endpoints: [canary.url] } },
    routes: [{ name: "web", split }],
    server: { drainDelay: "200ms", drainTimeout: "3s" },
  });
}

async function trafficOf(serve: ServingSwitchyard): Promise<Record<string, number>> {
  const result = await hammer(`${serve.proxyUrl}/`, { total: PROBES, concurrency: 2 });
  expect(result.byStatus).toEqual({ 200: PROBES });
  return result.byName;
}

/** SIGTERM; the process must drain and exit 0. */
async function stopCleanly(serve: ServingSwitchyard): Promise<void> {
  const exit = await serve.stop();
  expect(exit.code, exit.stderr).toBe(0);
}

describe("state across restarts ", () => {
  it("does not revive an override dropped at startup when the file's old split comes back", async () => {
    configDir = await makeConfigDir(configWithState({ stable: 100 }));
    const { configFile } = configDir;
    const first = await startSwitchyardProcess(configFile);
    await setWeights(first.adminUrl, "web", { stable: 50, canary: 50 });
    await stopCleanly(first);

    await writeConfigInPlace(configFile, configWithState({ canary: 100 }));
    const second = await startSwitchyardProcess(configFile);
    expect(await routeSplit(second.adminUrl, "web")).toEqual({
      split: { canary: 100 },
      splitSource: "file",
    });
    expect(await trafficOf(second)).toEqual({ canary: PROBES });
    expect((await getEvents(second.adminUrl)).map((e) => [e.type, e.actor])).toContainEqual([
      "weights.overrideDropped",
      "startup",
    ]);
    await stopCleanly(second);

    // The drop is final: putting the old split back in the file does not revive the override.
    await writeConfigInPlace(configFile, configWithState({ stable: 100 }));
    const third = await startSwitchyardProcess(configFile);
    expect(await routeSplit(third.adminUrl, "web")).toEqual({
      split: { stable: 100 },
      splitSource: "file",
    });
    await stopCleanly(third);
  });
});

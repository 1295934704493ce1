/**
 * SPEC 6: weights set through the admin API are kept in the state file and survive a restart;
 * a config edit of the route's split replaces the override (the newest deliberate change
 * wins), and that too survives a restart. A corrupt state file never stops the proxy and is
 * set aside, not written over. Real `switchyard serve` processes over one config directory.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
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
import { waitFor } from "../../support/ports.ts";
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

async function readState(dir: string): Promise<unknown> {
  return JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as unknown;
}

describe("state across restarts", () => {
  it("keeps an admin override across a restart until a file edit of the split replaces it, and the replacement survives too", async () => {
    configDir = await makeConfigDir(configWithState({ stable: 100 }));
    const { dir, configFile } = configDir;

    const first = await startSwitchyardProcess(configFile);
    expect(await trafficOf(first)).toEqual({ stable: PROBES });
    await setWeights(first.adminUrl, "web", { canary: 100 });
    // Stopped at once: the drain writes what is pending before exiting.
    await stopCleanly(first);
    expect(await readState(dir)).toMatchObject({
      version: 1,
      routes: {
        web: {
          override: { weights: { canary: 100 }, source: "admin", fileSplit: { stable: 100 } },
        },
      },
    });

    const second = await startSwitchyardProcess(configFile);
    expect(await routeSplit(second.adminUrl, "web")).toEqual({
      split: { canary: 100 },
      splitSource: "admin",
    });
    expect(await trafficOf(second)).toEqual({ canary: PROBES });

    // The operator edits the route's split in the file: the newest deliberate change wins.
    await writeConfigInPlace(configFile, configWithState({ stable: 100, canary: 0 }));
    await waitFor(async () => (await routeSplit(second.adminUrl, "web")).splitSource === "file", {
      timeoutMs: 2000,
      description: "the override dropped by the reload",
    });
    expect(await routeSplit(second.adminUrl, "web")).toEqual({
      split: { stable: 100, canary: 0 },
      splitSource: "file",
    });
    expect(await trafficOf(second)).toEqual({ stable: PROBES });
    const dropped = (await getEvents(second.adminUrl)).filter(
      (e) => e.type === "weights.overrideDropped",
    );
    expect(dropped).toEqual([expect.objectContaining({ route: "web", actor: "watch" })]);
    await stopCleanly(second);
    const saved = (await readState(dir)) as { routes: Record<string, { override: unknown }> };
    expect(saved.routes.web?.override ?? null).toBeNull();

    const third = await startSwitchyardProcess(configFile);
    expect(await routeSplit(third.adminUrl, "web")).toEqual({
      split: { stable: 100, canary: 0 },
      splitSource: "file",
    });
    expect(await trafficOf(third)).toEqual({ stable: PROBES });
    await stopCleanly(third);
  });

  it("drops a saved override at startup when the file's split changed while it was down, for good", async () => {
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

  it("starts with the file's split next to a corrupt state file, warns, and sets the file aside on the next save", async () => {
    configDir = await makeConfigDir(configWithState({ stable: 100 }));
    const { dir, configFile } = configDir;
    const stateFile = join(dir, "state.json");
    await writeFile(stateFile, '{"version": 1, "routes": {"web": ');

    const serve = await startSwitchyardProcess(configFile);
    expect(await routeSplit(serve.adminUrl, "web")).toEqual({
      split: { stable: 100 },
      splitSource: "file",
    });
    expect(await trafficOf(serve)).toEqual({ stable: PROBES });
    const warning = serve.logs().find((l) => l.level === "warn" && l.msg.includes(stateFile));
    expect(warning?.msg).toMatch(/not valid JSON.*starting without saved weights/);
    // Nothing is written over it until there is state to save.
    expect(await readdir(dir)).toEqual(expect.arrayContaining(["state.json"]));
    expect(await readFile(stateFile, "utf8")).toBe('{"version": 1, "routes": {"web": ');

    await setWeights(serve.adminUrl, "web", { canary: 100 });
    const aside = await waitFor(
      async () => (await readdir(dir)).find((name) => name.startsWith("state.json.corrupt-")),
      { timeoutMs: 2000, description: "the corrupt file set aside" },
    );
    expect(await readFile(join(dir, aside), "utf8")).toBe('{"version": 1, "routes": {"web": ');
    await waitFor(async () => {
      const state = (await readState(dir)) as { routes?: { web?: unknown } };
      return state.routes?.web !== undefined;
    });
    expect(await readState(dir)).toMatchObject({
      routes: { web: { override: { weights: { canary: 100 } } } },
    });
    await serve.waitForLog((l) => l.level === "warn" && l.msg.includes(`moved it to`));
    await stopCleanly(serve);

    const restarted = await startSwitchyardProcess(configFile);
    expect(await routeSplit(restarted.adminUrl, "web")).toEqual({
      split: { canary: 100 },
      splitSource: "admin",
    });
    await stopCleanly(restarted);
  });
});

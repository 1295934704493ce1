/**
 * SPEC 6: a reload that changes a key read only at startup (listen.*, state.file,
 * server.maxHeaderSize, ...) applies everything else and lists those keys in status
 * `config.restartRequired`, in the reload's answer and event, and in the log, until the file
 * has the startup values again. Each edit goes through the watcher, and the test waits for the
 * new hash in status before it looks.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { adminCall, getEvents, getStatus, setWeights } from "../../support/admin-calls.ts";
import { captureLogs, LOG_LEVEL } from "../../support/captured-logs.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import {
  startFileSwitchyard,
  writeConfigByRename,
  type FileSwitchyard,
} from "../../support/file-switchyard.ts";
import { closeDefaultAgent, get, hammer } from "../../support/http-client.ts";
import { refusingOrigin, waitFor } from "../../support/ports.ts";

const { track } = cleanupAfterEach();

afterEach(async () => {
  await closeDefaultAgent();
});

const APPLY_TIMEOUT_MS = 10_000;
const PROBES = 8;
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** The config file's text: JSON, which is YAML. */
function text(config: Record<string, unknown>): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Saves `next` and waits until status shows it in force. */
async function edit(switchyard: FileSwitchyard, next: string): Promise<void> {
  await writeConfigByRename(switchyard.configFile, next);
  await waitFor(async () => (await getStatus(switchyard.adminUrl)).config.hash === sha256(next), {
    timeoutMs: APPLY_TIMEOUT_MS,
    description: "the edit in force",
  });
}

async function answeredBy(url: string): Promise<Record<string, number>> {
  const result = await hammer(`${url}/`, { total: PROBES, concurrency: 2 });
  expect(result.failures).toBe(0);
  return result.byName;
}

describe("a reload that changes keys read only at startup", () => {
  it("applies the rest, keeps the old port serving, and lists the keys until they are reverted", async () => {
    const stable = track(await startEchoBackend({ name: "stable" }));
    const canary = track(await startEchoBackend({ name: "canary" }));
    const logs = captureLogs("info");
    const config = (split: Record<string, number>, port: number, maxHeaderSize: number) => ({
      listen: { proxy: `127.0.0.1:${String(port)}`, admin: "127.0.0.1:0" },
      upstreams: { stable: { endpoints: [stable.url] }, canary: { endpoints: [canary.url] } },
      routes: [{ name: "web", split }],
      server: { maxHeaderSize },
    });
    const first = text(config({ stable: 100 }, 0, 16_384));
    const switchyard = track(await startFileSwitchyard(first, { logger: logs.logger }));
    expect((await getStatus(switchyard.adminUrl)).config.restartRequired).toEqual([]);

    const otherPort = Number(new URL(await refusingOrigin()).port);
    const moved = text(config({ canary: 100 }, otherPort, 65_536));
    await edit(switchyard, moved);

    // The split applied, on the port the process started with.
    expect(await answeredBy(switchyard.url)).toEqual({ canary: PROBES });
    const status = await getStatus(switchyard.adminUrl);
    expect(status.routes[0]?.split).toEqual({ canary: 100 });
    expect(status.config.lastError).toBeNull();
    const keys = ["listen.proxy.port", "server.maxHeaderSize"];
    expect(status.config.restartRequired).toEqual(keys);
    // The header limit of the running listener is still the one it was created with.
    const bigHeader = await get(`${switchyard.url}/`, { headers: { "x-big": "a".repeat(32_768) } });
    expect(bigHeader.status).toBe(431);

    const warned = logs
      .atLevel(LOG_LEVEL.warn)
      .filter((entry) => JSON.stringify(entry.restartRequired) === JSON.stringify(keys));
    expect(warned).toHaveLength(1);
    expect(warned[0]?.msg).toContain("listen.proxy.port, server.maxHeaderSize");
    const reloaded = (await getEvents(switchyard.adminUrl)).filter(
      (event) => event.type === "config.reloaded",
    );
    expect(reloaded).toEqual([
      expect.objectContaining({ hash: sha256(moved), restartRequired: keys }),
    ]);

    // Compared with the startup config, not the previous one: a later edit keeps them listed...
    const manual = await adminCall(switchyard.adminUrl, "POST", "/api/v1/reload");
    expect(manual.json).toMatchObject({ applied: true, changed: false, restartRequired: keys });
    const split = text(config({ stable: 50, canary: 50 }, otherPort, 65_536));
    await edit(switchyard, split);
    expect((await getStatus(switchyard.adminUrl)).config.restartRequired).toEqual(keys);

    // ...and the startup values again take them off the list.
    const back = text(config({ stable: 50, canary: 50 }, 0, 16_384));
    await edit(switchyard, back);
    expect((await getStatus(switchyard.adminUrl)).config.restartRequired).toEqual([]);
  });

  it("lists state.file, and the state store keeps the file it opened", async () => {
    const stable = track(await startEchoBackend({ name: "stable" }));
    const config = (stateFile: string, split: Record<string, number>) => ({
      listen: { proxy: "127.0.0.1:0", admin: "127.0.0.1:0" },
      upstreams: { stable: { endpoints: [stable.url] }, spare: { endpoints: [stable.url] } },
      routes: [{ name: "web", split }],
      state: { file: stateFile },
    });
    const switchyard = track(
      await startFileSwitchyard(text(config("first-state.json", { stable: 100 }))),
    );

    const next = text(config("second-state.json", { stable: 90, spare: 10 }));
    await edit(switchyard, next);
    const status = await getStatus(switchyard.adminUrl);
    expect(status.routes[0]?.split).toEqual({ stable: 90, spare: 10 });
    expect(status.config.restartRequired).toEqual(["state.file"]);

    // Saved where the process started saving, as the listed key says.
    await setWeights(switchyard.adminUrl, "web", { stable: 80, spare: 20 });
    await waitFor(
      async () => (await savedWeights(join(switchyard.dir, "first-state.json")))?.stable === 80,
      { timeoutMs: APPLY_TIMEOUT_MS, description: "the override saved in the startup state file" },
    );
    expect(await savedWeights(join(switchyard.dir, "second-state.json"))).toBeUndefined();
  });
});

/** The web route's saved override weights, or undefined when the file or override is absent. */
async function savedWeights(file: string): Promise<Record<string, number> | undefined> {
  let saved: string;
  try {
    saved = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  const state = JSON.parse(saved) as {
    routes: Record<string, { override: { weights: Record<string, number> } | null }>;
  };
  return state.routes.web?.override?.weights;
}

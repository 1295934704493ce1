/**
 * SPEC 6, "a content hash skips no-op saves": the watcher hands over the content it read, the
 * control plane loads that content (the file is read once per change) and is the one place
 * that knows which content it handled last, whether the watcher, SIGHUP or the admin API
 * brought it. Each "nothing happened" below first waits for the control plane to say it
 * skipped the content (a debug log line), then counts.
 */
import { createHash } from "node:crypto";
import { utimes } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { configContentOf } from "../../../src/config/load.ts";
import { adminCall, getEvents, getStatus } from "../../support/admin-calls.ts";
import { captureLogs, type CapturedLogs } from "../../support/captured-logs.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import {
  configText,
  startFileSwitchyard,
  writeConfigByRename,
  writeConfigInPlace,
} from "../../support/file-switchyard.ts";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";
import { parsePrometheusText, sampleValue } from "../../support/prometheus-text.ts";

const { track } = cleanupAfterEach();

afterEach(async () => {
  await closeDefaultAgent();
});

const APPLY_TIMEOUT_MS = 10_000;
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

async function startWith(
  split: Record<string, number>,
  options: { logs?: CapturedLogs; isWatchingConfig?: boolean } = {},
) {
  const stable = track(await startEchoBackend({ name: "stable" }));
  const canary = track(await startEchoBackend({ name: "canary" }));
  const config = (next: Record<string, number>) =>
    configText({
      upstreams: { stable: { endpoints: [stable.url] }, canary: { endpoints: [canary.url] } },
      routes: [{ name: "web", split: next }],
    });
  const switchyard = track(
    await startFileSwitchyard(config(split), {
      ...(options.logs === undefined ? {} : { logger: options.logs.logger }),
      isWatchingConfig: options.isWatchingConfig ?? true,
    }),
  );
  return { switchyard, config };
}

/** Waits for the control plane to say it skipped `text`, as content it had handled. */
async function waitForSkipped(logs: CapturedLogs, text: string, readsBefore = 0): Promise<void> {
  await waitFor(
    () =>
      logs.withMessage("config file unchanged").filter((entry) => entry.hash === sha256(text))
        .length > readsBefore,
    { timeoutMs: APPLY_TIMEOUT_MS, description: "the watcher's read skipped as handled" },
  );
}

async function successfulReloads(adminUrl: string): Promise<number | undefined> {
  const scrape = parsePrometheusText((await get(`${adminUrl}/metrics`)).body);
  return sampleValue(scrape, "switchyard_config_reloads_total", { result: "success" });
}

describe("the content a reload loads", () => {
  it("is the content the watcher read, not the file read again", async () => {
    // Not watched: nothing but the call below loads anything.
    const { switchyard, config } = await startWith({ stable: 100 }, { isWatchingConfig: false });
    // The file says one thing, the content handed over another: the content wins.
    await writeConfigInPlace(switchyard.configFile, config({ canary: 100 }));
    const handed = config({ stable: 50, canary: 50 });
    const outcome = await switchyard.control.reload("watch", configContentOf(Buffer.from(handed)));
    expect(outcome).toMatchObject({ applied: true, changed: true, hash: sha256(handed) });
    const status = await getStatus(switchyard.adminUrl);
    expect(status.config.hash).toBe(sha256(handed));
    expect(status.routes[0]?.split).toEqual({ stable: 50, canary: 50 });
  });

  it("is loaded once when a manual reload and the watcher both see a save", async () => {
    const logs = captureLogs("debug");
    const { switchyard, config } = await startWith({ stable: 100 }, { logs });
    const next = config({ canary: 100 });
    await writeConfigByRename(switchyard.configFile, next);
    // At once, well inside the watcher's debounce: the manual reload loads it first.
    const manual = await adminCall(switchyard.adminUrl, "POST", "/api/v1/reload");
    expect(manual.json).toMatchObject({ applied: true, changed: true, hash: sha256(next) });
    await waitForSkipped(logs, next);

    expect(await successfulReloads(switchyard.adminUrl)).toBe(1);
    const reloaded = (await getEvents(switchyard.adminUrl)).filter(
      (event) => event.type === "config.reloaded",
    );
    expect(reloaded.map((event) => event.actor)).toEqual(["anonymous"]);
    expect(logs.withMessage("config reloaded")).toHaveLength(1);
  });

  it("is skipped on a touch and on a save of the same bytes", async () => {
    const logs = captureLogs("debug");
    const { switchyard, config } = await startWith({ stable: 100 }, { logs });
    const first = config({ stable: 100 });
    // The watcher's first read, at start, is skipped already.
    await waitForSkipped(logs, first);
    const skippedBefore = logs.withMessage("config file unchanged").length;
    const later = new Date(Date.now() + 5000);
    await utimes(switchyard.configFile, later, later);
    await writeConfigByRename(switchyard.configFile, first);
    await waitForSkipped(logs, first, skippedBefore);
    expect(await successfulReloads(switchyard.adminUrl)).toBe(0);
    expect(logs.withMessage("config file content changed")).toEqual([]);

    // Still watching: a real change is loaded.
    const next = config({ canary: 100 });
    await writeConfigByRename(switchyard.configFile, next);
    await waitFor(async () => (await getStatus(switchyard.adminUrl)).config.hash === sha256(next), {
      timeoutMs: APPLY_TIMEOUT_MS,
      description: "the real change in force",
    });
    expect(await successfulReloads(switchyard.adminUrl)).toBe(1);
  });
});

/**
 * A bad edit that an operator reloads by hand (POST /api/v1/reload or SIGHUP) is refused once:
 * when the watcher then reads the same content it is not counted, logged or recorded again.
 */
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { adminCall, getEvents, getStatus } from "../../support/admin-calls.ts";
import { captureLogs } from "../../support/captured-logs.ts";
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

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

describe("one bad edit, reloaded by hand", () => {
  it("is refused and counted once, not again by the watcher", async () => {
    const backend = track(await startEchoBackend());
    // Debug: the control plane says at debug that it skipped content it had handled.
    const logs = captureLogs("debug");
    const config = {
      upstreams: { stable: { endpoints: [backend.url] } },
      routes: [{ name: "web", split: { stable: 100 } }],
    };
    const switchyard = track(await startFileSwitchyard(config, { logger: logs.logger }));

    const bad = "upstreams: {\n";
    await writeConfigInPlace(switchyard.configFile, bad);
    const refused = await adminCall(switchyard.adminUrl, "POST", "/api/v1/reload");
    expect(refused.status).toBe(400);
    // The watcher has read the same bad content and handed it over, to be skipped...
    await waitFor(
      () => logs.withMessage("config file unchanged").some((entry) => entry.hash === sha256(bad)),
      { timeoutMs: 10_000, description: "the watcher's read of the bad content skipped" },
    );
    // ...which has finished once the next edit is in force: reloads run one after another.
    // (Saved whole, by rename, so no read can catch it half written.)
    const next = `${configText(config)}# fixed\n`;
    await writeConfigByRename(switchyard.configFile, next);
    await waitFor(async () => (await getStatus(switchyard.adminUrl)).config.hash === sha256(next), {
      timeoutMs: 10_000,
      description: "the fixed config in force",
    });

    const scrape = parsePrometheusText((await get(`${switchyard.adminUrl}/metrics`)).body);
    expect(sampleValue(scrape, "switchyard_config_reloads_total", { result: "failure" })).toBe(1);
    const failed = (await getEvents(switchyard.adminUrl)).filter(
      (e) => e.type === "config.reloadFailed",
    );
    expect(failed.map((e) => e.actor)).toEqual(["anonymous"]);
    expect(
      logs.withMessage("config reload refused: the running config stays in force"),
    ).toHaveLength(1);
  });
});

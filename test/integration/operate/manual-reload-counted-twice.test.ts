/**
 * A bad edit that an operator reloads by hand (POST /api/v1/reload or SIGHUP) is refused once:
 * when the watcher then reads the same content it is not counted, logged or recorded again.
 */
import { afterEach, describe, expect, it } from "vitest";
import { adminCall, getEvents } from "../../support/admin-calls.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import {
  startFileSwitchyard,
  writeConfigInPlace,
  type FileSwitchyard,
} from "../../support/file-switchyard.ts";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import { sleep } from "../../support/ports.ts";
import { parsePrometheusText, sampleValue } from "../../support/prometheus-text.ts";

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await closeDefaultAgent();
});

describe("one bad edit, reloaded by hand", () => {
  it("is refused and counted once, not again by the watcher", async () => {
    const backend = await startEchoBackend();
    cleanups.push(() => backend.close());
    const switchyard: FileSwitchyard = await startFileSwitchyard({
      upstreams: { stable: { endpoints: [backend.url] } },
      routes: [{ name: "web", split: { stable: 100 } }],
    });
    cleanups.push(() => switchyard.close());

    await writeConfigInPlace(switchyard.configFile, "upstreams: {\n");
    const refused = await adminCall(switchyard.adminUrl, "POST", "/api/v1/reload");
    expect(refused.status).toBe(400);
    // Past the watcher's debounce: it has read the same bad content by now.
    await sleep(800);

    const scrape = parsePrometheusText((await get(`${switchyard.adminUrl}/metrics`)).body);
    expect(sampleValue(scrape, "switchyard_config_reloads_total", { result: "failure" })).toBe(1);
    const failed = (await getEvents(switchyard.adminUrl)).filter(
      (e) => e.type === "config.reloadFailed",
    );
    expect(failed.map((e) => e.actor)).toEqual(["anonymous"]);
  });
});

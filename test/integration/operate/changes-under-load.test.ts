/**
 * SPEC 6 and 7 under traffic: while clients send requests without pause, 40 weight changes
 * through the admin API and 10 edits of the config file (some of which replace the upstreams'
 * connection pools) cost no request, and after each change the traffic follows the new split.
 */
import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getStatus, setWeights } from "../../support/admin-calls.ts";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import {
  configText,
  startFileSwitchyard,
  writeConfigInPlace,
  type FileSwitchyard,
} from "../../support/file-switchyard.ts";
import { closeDefaultAgent, hammer } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";
import { startSteadyLoad } from "../../support/steady-load.ts";

const CONCURRENCY = 8;
const WEIGHT_CHANGES = 40;
const FILE_RELOADS = 10;
/** Requests sent after a change to see where traffic goes now. */
const PROBES = 20;

let stable: EchoBackend;
let canary: EchoBackend;
let switchyard: FileSwitchyard | undefined;

beforeAll(async () => {
  stable = await startEchoBackend({ name: "stable" });
  canary = await startEchoBackend({ name: "canary" });
});

afterEach(async () => {
  await switchyard?.close();
  switchyard = undefined;
  await closeDefaultAgent();
});

afterAll(async () => {
  await stable.close();
  await canary.close();
});

function fileConfig(split: Record<string, number>, responseTimeout: string) {
  const upstream = (url: string) => ({
    endpoints: [url],
    timeouts: { response: responseTimeout },
  });
  return {
    upstreams: { stable: upstream(stable.url), canary: upstream(canary.url) },
    routes: [{ name: "web", split }],
    server: { drainDelay: "200ms", drainTimeout: "3s" },
  };
}

/** Where PROBES requests go now, checked against `split`: all, none or some of them. */
async function expectTrafficToFollow(url: string, split: Record<string, number>): Promise<void> {
  const probe = await hammer(url, { total: PROBES, concurrency: 2 });
  expect(probe.byStatus).toEqual({ 200: PROBES });
  for (const name of ["stable", "canary"]) {
    const seen = probe.byName[name] ?? 0;
    const percent = split[name] ?? 0;
    if (percent === 100) expect(seen, `${name} at 100%`).toBe(PROBES);
    else if (percent === 0) expect(seen, `${name} at 0%`).toBe(0);
    // 50%: missing one upstream in all 20 probes has a chance of 2 in a million.
    else expect(seen, `${name} at ${String(percent)}%`).toBeGreaterThan(0);
  }
}

describe("operating under constant load", () => {
  it("drops no request across 40 weight changes and 10 file reloads, and traffic follows each", async () => {
    let fileSplit: Record<string, number> = { stable: 100 };
    let responseTimeout = "5s";
    switchyard = await startFileSwitchyard(fileConfig(fileSplit, responseTimeout));
    const { url, adminUrl, configFile } = switchyard;
    const load = startSteadyLoad(`${url}/load`, { concurrency: CONCURRENCY });
    const flips: Record<string, number>[] = [
      { stable: 100 },
      { canary: 100 },
      { stable: 50, canary: 50 },
      { canary: 100 },
    ];
    let weightChanges = 0;
    let fileReloads = 0;
    for (let step = 0; step < WEIGHT_CHANGES + FILE_RELOADS; step++) {
      if (step % 5 === 4) {
        // Alternate the file's split, so each edit replaces the admin override; changing the
        // response timeout every other time also replaces the pools of both upstreams.
        fileSplit = fileSplit.stable === 100 ? { canary: 100 } : { stable: 100 };
        if (fileReloads % 2 === 0) responseTimeout = responseTimeout === "5s" ? "6s" : "5s";
        const text = configText(fileConfig(fileSplit, responseTimeout));
        const hash = createHash("sha256").update(text).digest("hex");
        await writeConfigInPlace(configFile, text);
        await waitFor(async () => (await getStatus(adminUrl)).config.hash === hash, {
          timeoutMs: 10_000,
          intervalMs: 20,
          description: `reload ${String(fileReloads + 1)} applied`,
        });
        const route = (await getStatus(adminUrl)).routes[0];
        expect(route).toMatchObject({ split: fileSplit, splitSource: "file" });
        await expectTrafficToFollow(`${url}/probe`, fileSplit);
        fileReloads++;
      } else {
        const weights = flips[weightChanges % flips.length] ?? {};
        const change = await setWeights(adminUrl, "web", weights);
        expect(change).toMatchObject({ after: weights, splitSource: "admin" });
        await expectTrafficToFollow(`${url}/probe`, weights);
        weightChanges++;
      }
    }
    const tally = await load.stop();

    expect(weightChanges).toBe(WEIGHT_CHANGES);
    expect(fileReloads).toBe(FILE_RELOADS);
    expect(tally.problems).toEqual([]);
    expect(tally.byStatus[200]).toBe(tally.total);
    // The load really ran throughout: many requests per change.
    expect(tally.total).toBeGreaterThan((WEIGHT_CHANGES + FILE_RELOADS) * 10);
  }, 30_000);
});

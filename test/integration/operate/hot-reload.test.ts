/**
 * SPEC 6: a running switchyard picks up its config file however it is replaced (in place, an
 * editor's temp-and-rename, a Kubernetes ConfigMap `..data` swap), refuses an invalid edit
 * whole while showing and counting the error, and reloads on `POST /api/v1/reload` and on
 * SIGHUP. Each change is observed through the proxy and in `GET /api/v1/status`; how long a
 * change takes to apply is not a test's business (deadlines here are generous bounds).
 */
import { createHash } from "node:crypto";
import { mkdir, rename, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { adminCall, errorOf, getEvents, getStatus } from "../../support/admin-calls.ts";
import { yamlLines } from "../../support/config-fixtures.ts";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import {
  makeConfigDir,
  startFileSwitchyard,
  writeConfigByRename,
  writeConfigInPlace,
  type FileSwitchyard,
} from "../../support/file-switchyard.ts";
import { closeDefaultAgent, get, hammer } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";
import { parsePrometheusText, sampleValue } from "../../support/prometheus-text.ts";
import {
  killAllSwitchyardProcesses,
  startSwitchyardProcess,
} from "../../support/switchyard-process.ts";

/** A bound on waiting for a change to apply, generous for a busy machine. */
const APPLY_TIMEOUT_MS = 10_000;
const PROBES = 8;

let stable: EchoBackend;
let canary: EchoBackend;
const { defer, track } = cleanupAfterEach();

beforeAll(async () => {
  stable = await startEchoBackend({ name: "stable" });
  canary = await startEchoBackend({ name: "canary" });
});

afterEach(async () => {
  await killAllSwitchyardProcesses();
  await closeDefaultAgent();
});

afterAll(async () => {
  await stable.close();
  await canary.close();
});

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/**
 * The config as an operator writes it. Line 10 is `  - name: web`; `extraRoute` lines go
 * before it (first match wins), `extraLine` right after it.
 */
function configYaml(
  split: string,
  options: { extraRoute?: string[]; extraLine?: string } = {},
): string {
  return yamlLines(
    "listen:",
    "  proxy: 127.0.0.1:0",
    "  admin: 127.0.0.1:0",
    "upstreams:",
    "  stable:",
    `    endpoints: [${stable.url}]`,
    "  canary:",
    `    endpoints: [${canary.url}]`,
    "routes:",
    ...(options.extraRoute ?? []),
    "  - name: web",
    ...(options.extraLine === undefined ? [] : [options.extraLine]),
    `    split: ${split}`,
    "server: { drainDelay: 200ms, drainTimeout: 3s }",
  );
}

async function start(text: string, options: Parameters<typeof startFileSwitchyard>[1] = {}) {
  return track(await startFileSwitchyard(text, options));
}

/** Which backends answered `PROBES` requests to `path`. */
async function answeredBy(switchyard: FileSwitchyard, path = "/"): Promise<Record<string, number>> {
  const result = await hammer(`${switchyard.url}${path}`, { total: PROBES, concurrency: 2 });
  expect(result.failures).toBe(0);
  return result.byName;
}

/** Waits until status shows `hash` and the proxy sends every probe of `path` to `backend`. */
async function waitUntilApplied(
  switchyard: FileSwitchyard,
  hash: string,
  backend: string,
  path = "/",
): Promise<void> {
  await waitFor(
    async () => {
      const status = await getStatus(switchyard.adminUrl);
      if (status.config.hash !== hash) return false;
      return (await answeredBy(switchyard, path))[backend] === PROBES;
    },
    { timeoutMs: APPLY_TIMEOUT_MS, intervalMs: 20, description: `${backend} answering ${path}` },
  );
}

async function scrapeReloads(adminUrl: string, result: "success" | "failure"): Promise<number> {
  const scrape = await get(`${adminUrl}/metrics`);
  const value = sampleValue(parsePrometheusText(scrape.body), "switchyard_config_reloads_total", {
    result,
  });
  if (value === undefined) throw new Error(`no reloads_total{result="${result}"} sample`);
  return value;
}

describe("hot reload of a watched config file", () => {
  it("applies an in-place edit", async () => {
    const switchyard = await start(configYaml("{ stable: 100 }"));
    expect(await answeredBy(switchyard)).toEqual({ stable: PROBES });

    const next = configYaml("{ canary: 100 }");
    await writeConfigInPlace(switchyard.configFile, next);
    await waitUntilApplied(switchyard, sha256(next), "canary");
    const status = await getStatus(switchyard.adminUrl);
    expect(status.routes).toEqual([
      expect.objectContaining({ name: "web", split: { canary: 100 }, splitSource: "file" }),
    ]);
    expect(status.config.lastError).toBeNull();
  });

  it("applies editor-style saves (temp file renamed over), each time", async () => {
    const switchyard = await start(configYaml("{ stable: 100 }"));
    const api = ["  - name: api", "    match: { pathPrefix: /api }", "    split: { canary: 100 }"];
    const withRoute = configYaml("{ stable: 100 }", { extraRoute: api });
    await writeConfigByRename(switchyard.configFile, withRoute);
    await waitUntilApplied(switchyard, sha256(withRoute), "canary", "/api/x");
    expect(await answeredBy(switchyard, "/other")).toEqual({ stable: PROBES });

    // The file is a new inode now: the next save must be seen too.
    const withoutRoute = configYaml("{ stable: 100 }");
    await writeConfigByRename(switchyard.configFile, withoutRoute);
    await waitUntilApplied(switchyard, sha256(withoutRoute), "stable", "/api/x");
    expect((await getStatus(switchyard.adminUrl)).routes.map((r) => r.name)).toEqual(["web"]);
  });

  it("applies a Kubernetes ConfigMap update (a swap of the ..data symlink)", async () => {
    // The kubelet's layout: switchyard.yaml -> ..data/switchyard.yaml, ..data -> ..<version>/
    const publish = async (dir: string, version: string, text: string): Promise<void> => {
      await mkdir(join(dir, version));
      await writeFile(join(dir, version, "switchyard.yaml"), text);
      await symlink(version, join(dir, "..data_tmp"));
      await rename(join(dir, "..data_tmp"), join(dir, "..data"));
    };
    const switchyard = await start(configYaml("{ stable: 100 }"), {
      writeInitial: async (dir, text) => {
        await publish(dir, "..2026_01_01_00_00_00.1", text);
        await symlink("..data/switchyard.yaml", join(dir, "switchyard.yaml"));
        return join(dir, "switchyard.yaml");
      },
    });
    expect(await answeredBy(switchyard)).toEqual({ stable: PROBES });

    const next = configYaml("{ stable: 50, canary: 50 }", {
      extraRoute: [
        "  - name: beta",
        "    match: { pathPrefix: /beta }",
        "    split: { canary: 100 }",
      ],
    });
    await publish(switchyard.dir, "..2026_01_01_00_05_00.2", next);
    await waitUntilApplied(switchyard, sha256(next), "canary", "/beta/");
    const status = await getStatus(switchyard.adminUrl);
    expect(status.routes.map((r) => [r.name, r.split])).toEqual([
      ["beta", { canary: 100 }],
      ["web", { stable: 50, canary: 50 }],
    ]);
  });

  it("refuses an invalid edit whole: the old config serves, status shows line and column, the failure is counted, a valid edit clears it", async () => {
    const first = configYaml("{ canary: 100 }");
    const switchyard = await start(first);
    const failuresBefore = await scrapeReloads(switchyard.adminUrl, "failure");
    const successesBefore = await scrapeReloads(switchyard.adminUrl, "success");

    // Line 11 repeats the key of line 10 (`- name: web`): a YAML error at 11:5.
    const invalid = configYaml("{ stable: 100 }", { extraLine: "    name: again" });
    expect(invalid.split("\n")[10]).toBe("    name: again");
    await writeConfigInPlace(switchyard.configFile, invalid);
    const refused = await waitFor(
      async () => {
        const status = await getStatus(switchyard.adminUrl);
        return status.config.lastError === null ? undefined : status;
      },
      { timeoutMs: APPLY_TIMEOUT_MS, intervalMs: 20, description: "lastError in status" },
    );
    expect(refused.config.hash).toBe(sha256(first));
    expect(refused.config.lastError).toMatchObject({ line: 11, column: 5 });
    expect(refused.config.lastError?.message).toMatch(/unique/);
    expect(refused.config.lastError?.problems).toEqual([
      expect.stringContaining(`${switchyard.configFile}:11:5:`),
    ]);
    expect(refused.routes[0]?.split).toEqual({ canary: 100 });
    // The old config keeps serving.
    expect(await answeredBy(switchyard)).toEqual({ canary: PROBES });

    // Saved whole (by rename): a read cannot catch it half written and count another failure.
    const fixed = configYaml("{ stable: 100 }");
    await writeConfigByRename(switchyard.configFile, fixed);
    await waitUntilApplied(switchyard, sha256(fixed), "stable");
    expect((await getStatus(switchyard.adminUrl)).config.lastError).toBeNull();
    // Reloads run one after another: whatever the watcher did with the bad content is done by
    // now, and it was counted once, with no repeated attempts.
    expect(await scrapeReloads(switchyard.adminUrl, "failure")).toBe(failuresBefore + 1);
    expect(await scrapeReloads(switchyard.adminUrl, "success")).toBe(successesBefore + 1);
    const failed = (await getEvents(switchyard.adminUrl)).filter(
      (e) => e.type === "config.reloadFailed",
    );
    expect(failed).toEqual([expect.objectContaining({ actor: "watch" })]);
  });
});

describe("requests across a reload", () => {
  it("lets a request in flight finish on its upstream when a reload removes that upstream", async () => {
    const slow = track(await startEchoBackend({ name: "slow", delayMs: 800 }));
    const withSlow = (split: string, hasSlow: boolean): string =>
      yamlLines(
        "listen: { proxy: 127.0.0.1:0, admin: 127.0.0.1:0 }",
        "upstreams:",
        `  stable: { endpoints: [${stable.url}] }`,
        ...(hasSlow ? [`  slow: { endpoints: [${slow.url}] }`] : []),
        "routes:",
        `  - { name: web, split: ${split} }`,
      );
    const switchyard = await start(withSlow("{ slow: 100 }", true));
    const inFlight = get(`${switchyard.url}/in-flight`);
    await waitFor(() => slow.received.length === 1, { description: "the request upstream" });

    const next = withSlow("{ stable: 100 }", false);
    await writeConfigInPlace(switchyard.configFile, next);
    await waitFor(async () => (await getStatus(switchyard.adminUrl)).config.hash === sha256(next), {
      timeoutMs: APPLY_TIMEOUT_MS,
      intervalMs: 20,
    });
    expect(await answeredBy(switchyard)).toEqual({ stable: PROBES });
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ name: "slow", url: "/in-flight" });
    expect((await getStatus(switchyard.adminUrl)).upstreams.map((u) => u.name)).toEqual(["stable"]);
  });
});

describe("reload on request", () => {
  it("POST /api/v1/reload reloads the file now, and answers 400 with the error for a bad one", async () => {
    // Not watched: only the call can apply the change (its answer says it changed the config).
    const switchyard = await start(configYaml("{ stable: 100 }"), { isWatchingConfig: false });
    const next = configYaml("{ canary: 100 }");
    await writeConfigInPlace(switchyard.configFile, next);

    const reloaded = await adminCall(switchyard.adminUrl, "POST", "/api/v1/reload");
    expect(reloaded.status).toBe(200);
    expect(reloaded.json).toEqual({
      applied: true,
      changed: true,
      hash: sha256(next),
      error: null,
      restartRequired: [],
    });
    expect(await answeredBy(switchyard)).toEqual({ canary: PROBES });
    expect((await getStatus(switchyard.adminUrl)).config.hash).toBe(sha256(next));

    const again = await adminCall(switchyard.adminUrl, "POST", "/api/v1/reload");
    expect(again.json).toMatchObject({ applied: true, changed: false, hash: sha256(next) });

    await writeConfigInPlace(
      switchyard.configFile,
      configYaml("{ stable: 100 }", { extraLine: "    name: again" }),
    );
    const refused = await adminCall(switchyard.adminUrl, "POST", "/api/v1/reload");
    expect(refused.status).toBe(400);
    expect(errorOf(refused)).toMatchObject({
      code: "SWITCHYARD_CONFIG_INVALID",
      line: 11,
      column: 5,
      runningHash: sha256(next),
    });
    expect(await answeredBy(switchyard)).toEqual({ canary: PROBES });
    expect((await getStatus(switchyard.adminUrl)).config.lastError).toMatchObject({
      line: 11,
      column: 5,
    });
  });

  it("SIGHUP makes a serve process reload its config file", async () => {
    const { configFile, remove } = await makeConfigDir(configYaml("{ stable: 100 }"));
    defer(remove);
    const serve = await startSwitchyardProcess(configFile);
    expect(await hammer(`${serve.proxyUrl}/`, { total: PROBES, concurrency: 2 })).toMatchObject({
      byName: { stable: PROBES },
    });

    const next = configYaml("{ canary: 100 }");
    await writeConfigInPlace(configFile, next);
    // At once, well inside the watcher's 200 ms debounce: the signal reloads first.
    serve.signal("SIGHUP");
    const reloaded = await serve.waitForLog((line) => line.msg === "config reloaded", 3000);
    expect(reloaded).toMatchObject({ actor: "signal", hash: sha256(next) });
    expect(serve.logs().some((l) => l.msg === "SIGHUP received: reloading the config file")).toBe(
      true,
    );
    expect(await hammer(`${serve.proxyUrl}/`, { total: PROBES, concurrency: 2 })).toMatchObject({
      byName: { canary: PROBES },
    });
    expect((await getStatus(serve.adminUrl)).config.hash).toBe(sha256(next));

    const exit = await serve.stop();
    expect(exit.code).toBe(0);
  });
});

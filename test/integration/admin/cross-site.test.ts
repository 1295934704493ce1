/**
 * SPEC 8, the admin API refuses cross-site calls, against a real switchyard rolling a canary
 * out (no tokens, on loopback): a web page's form POST, a foreign Origin, a DNS-rebinding Host
 * and a write not declared JSON change nothing; the listener's own names, the names of
 * admin.allowedHosts and the CLI still get through.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { errorOf, getStatus, type AdminAnswer } from "../../support/admin-calls.ts";
import { configText, writeConfigInPlace } from "../../support/file-switchyard.ts";
import { closeDefaultAgent, httpRequest, type RequestHeaders } from "../../support/http-client.ts";
import { sendRaw } from "../../support/raw-client.ts";
import {
  canaryRolloutConfig,
  startRolloutSwitchyard,
  type RolloutSwitchyard,
} from "../../support/rollout-switchyard.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { demoPairForFile } from "../../support/demo-pair.ts";
import { killAllChildren, runCli } from "../cli/child-process.ts";

const PROMOTE = "/api/v1/routes/web/rollout/promote";
const WEIGHTS = "/api/v1/routes/web/weights";
const JSON_TYPE = { "content-type": "application/json" };
/** The split while the rollout is at its first step, as the file's rollout block sets it. */
const FIRST_STEP = { split: { stable: 90, canary: 10 }, splitSource: "rollout" };

const demo = demoPairForFile();
const { defer } = cleanupAfterEach();

afterEach(async () => {
  await killAllChildren();
});

afterAll(async () => {
  await closeDefaultAgent();
});

function rawConfig(allowedHosts: string[] = []): Record<string, unknown> {
  return canaryRolloutConfig({
    stableUrl: demo.stable.url,
    canaryUrl: demo.canary.url,
    // No decision during a test: only the calls below may move the rollout.
    rollout: { interval: "1h" },
    top: { admin: { allowedHosts } },
  });
}

async function start(allowedHosts: string[] = []): Promise<RolloutSwitchyard> {
  const sy = await startRolloutSwitchyard(rawConfig(allowedHosts));
  defer(() => sy.dispose());
  return sy;
}

async function call(
  sy: RolloutSwitchyard,
  method: "GET" | "PUT" | "POST" | "DELETE",
  path: string,
  headers: RequestHeaders,
  body: string | null = null,
): Promise<AdminAnswer> {
  const result = await httpRequest(`${sy.adminUrl}${path}`, { method, headers, body });
  let json: unknown;
  try {
    json = JSON.parse(result.body) as unknown;
  } catch {
    json = undefined;
  }
  return { ...result, json };
}

async function webRoute(sy: RolloutSwitchyard): Promise<unknown> {
  const route = (await getStatus(sy.adminUrl)).routes.find((r) => r.name === "web");
  return { split: route?.split, splitSource: route?.splitSource, phase: route?.rollout?.phase };
}

const UNCHANGED = { ...FIRST_STEP, phase: "progressing" };

describe("a web page's form POST", () => {
  it("is refused for its Origin (403) and for its form type (415); the canary is not promoted", async () => {
    const sy = await start();
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const attack = await call(sy, "POST", PROMOTE, { ...form, origin: "http://evil.example" }, "");
    expect(attack.status).toBe(403);
    expect(errorOf(attack)).toMatchObject({
      code: "SWITCHYARD_ADMIN_ORIGIN_REFUSED",
      message: expect.stringContaining('Origin "http://evil.example"') as unknown,
    });
    // Without an Origin (an older browser, a page that strips it): the form type is refused.
    const withoutOrigin = await call(sy, "POST", PROMOTE, form, "");
    expect(withoutOrigin.status).toBe(415);
    expect(errorOf(withoutOrigin)).toMatchObject({
      code: "SWITCHYARD_UNSUPPORTED_MEDIA_TYPE",
      message: expect.stringContaining("not application/x-www-form-urlencoded") as unknown,
    });
    for (const type of ["text/plain", "multipart/form-data; boundary=x"]) {
      const refused = await call(sy, "POST", PROMOTE, { "content-type": type }, "");
      expect(refused.status, type).toBe(415);
    }
    expect(await webRoute(sy)).toEqual(UNCHANGED);
  });

  it("is refused with a JSON type too when the Origin is foreign or null, or Sec-Fetch-Site says cross-site", async () => {
    const sy = await start();
    for (const headers of [
      { origin: "http://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ]) {
      const refused = await call(sy, "POST", PROMOTE, { ...JSON_TYPE, ...headers });
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(errorOf(refused).code).toBe("SWITCHYARD_ADMIN_ORIGIN_REFUSED");
    }
    expect(await webRoute(sy)).toEqual(UNCHANGED);
  });

  it("refuses reads from a foreign Origin as well", async () => {
    const sy = await start();
    for (const headers of [
      { origin: "null" },
      { origin: "http://evil.example" },
      { "sec-fetch-site": "cross-site" },
    ]) {
      const status = await call(sy, "GET", "/api/v1/status", headers);
      expect(status.status, JSON.stringify(headers)).toBe(403);
      expect(status.body).not.toContain("canary");
    }
  });
});

describe("writes not declared JSON", () => {
  it("are 415 without a Content-Type, with or without a body, and change nothing", async () => {
    const sy = await start();
    const paused = await call(sy, "POST", "/api/v1/routes/web/rollout/pause", {});
    expect(paused.status).toBe(415);
    expect(errorOf(paused).message).toBe(
      "A write call must be sent with Content-Type: application/json, even with an empty body; none was sent.",
    );
    expect((await call(sy, "POST", PROMOTE, {})).status).toBe(415);
    expect((await call(sy, "DELETE", WEIGHTS, {})).status).toBe(415);
    expect((await call(sy, "POST", "/api/v1/reload", {})).status).toBe(415);
    expect(await webRoute(sy)).toEqual(UNCHANGED);

    // The same calls declared JSON go through: the refusals above were for the type alone.
    expect((await call(sy, "POST", "/api/v1/routes/web/rollout/pause", JSON_TYPE)).status).toBe(
      200,
    );
    const weights = JSON.stringify({ weights: { stable: 70, canary: 30 } });
    expect((await call(sy, "PUT", WEIGHTS, {}, weights)).status).toBe(415);
    expect((await call(sy, "PUT", WEIGHTS, { "content-type": "text/plain" }, weights)).status).toBe(
      415,
    );
    expect(await webRoute(sy)).toEqual({ ...FIRST_STEP, phase: "paused" });
    const typed = { "content-type": "application/json; charset=UTF-8" };
    expect((await call(sy, "PUT", WEIGHTS, typed, weights)).status).toBe(200);
    expect(await webRoute(sy)).toEqual({
      split: { stable: 70, canary: 30 },
      splitSource: "admin",
      phase: "paused",
    });
  });
});

describe("the Host header", () => {
  it("refuses a rebinding name on reads, writes and probes (403), changing nothing", async () => {
    const sy = await start();
    const host = `evil.example:${String(sy.adminPort)}`;
    const read = await call(sy, "GET", "/api/v1/status", { host });
    expect(read.status).toBe(403);
    expect(errorOf(read)).toMatchObject({
      code: "SWITCHYARD_ADMIN_HOST_REFUSED",
      message: expect.stringContaining(`Host "${host}" does not name this admin API`) as unknown,
    });
    expect(errorOf(read).message).toContain('list "evil.example" in admin.allowedHosts');
    expect(read.body).not.toContain("canary");
    // A rebinding page is same-origin to the browser: its Origin matches its Host.
    const write = await call(sy, "POST", PROMOTE, {
      ...JSON_TYPE,
      host,
      origin: `http://${host}`,
      "sec-fetch-site": "same-origin",
    });
    expect(write.status).toBe(403);
    expect(errorOf(write).code).toBe("SWITCHYARD_ADMIN_HOST_REFUSED");
    for (const path of ["/healthz", "/readyz", "/metrics", "/no/such/path"]) {
      expect((await call(sy, "GET", path, { host })).status, path).toBe(403);
    }
    expect(await webRoute(sy)).toEqual(UNCHANGED);
  });

  it("accepts localhost, IPv4 and IPv6 literals, and a same-origin Origin", async () => {
    const sy = await start();
    const port = String(sy.adminPort);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "localhost"]) {
      const status = await call(sy, "GET", "/api/v1/status", { host });
      expect(status.status, host).toBe(200);
      const sameOrigin = { host, origin: `http://${host}`, "sec-fetch-site": "same-origin" };
      expect((await call(sy, "GET", "/healthz", sameOrigin)).status, host).toBe(200);
    }
    const browserTab = {
      ...JSON_TYPE,
      host: `localhost:${port}`,
      origin: `http://localhost:${port}`,
      "sec-fetch-site": "same-origin",
    };
    const promoted = await call(sy, "POST", PROMOTE, browserTab);
    expect(promoted.status).toBe(200);
    expect(await webRoute(sy)).toMatchObject({ phase: "promoted" });
  });

  it("accepts the names of admin.allowedHosts, exact or below a *. wildcard, and reloads them", async () => {
    const sy = await start(["switchyard-admin.shop.svc", "*.admin.example"]);
    const port = String(sy.adminPort);
    const statusWith = async (host: string): Promise<number> =>
      (await call(sy, "GET", "/api/v1/status", { host })).status;
    expect(await statusWith(`switchyard-admin.shop.svc:${port}`)).toBe(200);
    expect(await statusWith("eu.admin.example")).toBe(200);
    expect(await statusWith(`admin.example:${port}`)).toBe(403);
    expect(await statusWith(`other.shop.svc:${port}`)).toBe(403);

    await writeConfigInPlace(sy.configDir.configFile, configText(rawConfig(["other.shop.svc"])));
    expect((await call(sy, "POST", "/api/v1/reload", JSON_TYPE)).status).toBe(200);
    expect(await statusWith(`other.shop.svc:${port}`)).toBe(200);
    expect(await statusWith(`switchyard-admin.shop.svc:${port}`)).toBe(403);
  });

  it("is required on HTTP/1.1 (400, connection closed), not on HTTP/1.0", async () => {
    const sy = await start();
    const missing = await sendRaw(sy.adminPort, "GET /healthz HTTP/1.1\r\n\r\n");
    expect(missing.statusCode).toBe(400);
    expect(missing.raw).toContain('"SWITCHYARD_ADMIN_HOST_INVALID"');
    expect(missing.closed).toBe(true);
    const twice = await sendRaw(
      sy.adminPort,
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n",
    );
    expect(twice.statusCode).toBe(400);
    expect(twice.raw).toContain("send exactly one");
    const old = await sendRaw(sy.adminPort, "GET /healthz HTTP/1.0\r\n\r\n");
    expect(old.statusCode).toBe(200);
  });
});

describe("the CLI", () => {
  it("still drives rollouts and weights (writes declared JSON, no Origin)", async () => {
    const sy = await start();
    const admin = ["--admin", `http://localhost:${String(sy.adminPort)}`];
    const paused = await runCli(["rollout", "web", "pause", ...admin]);
    expect(paused.stderr).toBe("");
    expect(paused.code).toBe(0);
    const set = await runCli(["weights", "web", "stable=60", "canary=40", ...admin]);
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(await webRoute(sy)).toEqual({
      split: { stable: 60, canary: 40 },
      splitSource: "admin",
      phase: "paused",
    });
    const cleared = await runCli(["weights", "web", "--clear", ...admin]);
    expect(cleared.stderr).toBe("");
    expect(cleared.code).toBe(0);
    expect(await webRoute(sy)).toEqual({
      split: { stable: 100, canary: 0 },
      splitSource: "file",
      phase: "paused",
    });
  });
});

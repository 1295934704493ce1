/**
 * The image's default config (config/container.yaml) and its entrypoint
 * (deploy/container/entrypoint.sh): the config passes the schema and `switchyard check`, its
 * environment variables point it at the upstreams, the entrypoint keeps the admin API on
 * loopback behind an unknowable token unless a token is set, and the two together serve.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { formatProblem, loadConfigText } from "../../../src/config/load.ts";
import type { Config } from "../../../src/config/schema.ts";
import { adminCall } from "../../support/admin-calls.ts";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import { killAllNodeChildren, spawnCommand } from "../../support/node-process.ts";
import { originOf } from "../../support/ports.ts";
import { portOf, waitForListening } from "../../support/switchyard-process.ts";
import { childEnv, CLI_MAIN, NODE, REPO_ROOT, runCli } from "../cli/child-process.ts";

const CONFIG_FILE = join(REPO_ROOT, "config/container.yaml");
const ENTRYPOINT = join(REPO_ROOT, "deploy/container/entrypoint.sh");
const CONFIG_TEXT = readFileSync(CONFIG_FILE, "utf8");
const TOKEN = "a-token-set-by-the-operator";
const SERVE_TIMEOUT_MS = 15_000;
/** Longest the served process may live: the test then fails rather than leaves it running. */
const SERVE_LIFETIME_MS = 30_000;

function load(env: Record<string, string>): Config {
  const loaded = loadConfigText(CONFIG_TEXT, "config/container.yaml", env);
  if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join("\n"));
  return loaded.config;
}

/** The SWITCHYARD_* environment the entrypoint hands to its command. */
function entrypointEnv(env: Record<string, string>): Record<string, string> {
  const printEnv = "console.log(JSON.stringify(process.env))";
  const result = spawnSync("sh", [ENTRYPOINT, NODE, "-e", printEnv], {
    env: childEnv(env),
    encoding: "utf8",
    timeout: 10_000,
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const all = JSON.parse(result.stdout) as Record<string, string>;
  return Object.fromEntries(Object.entries(all).filter(([name]) => name.startsWith("SWITCHYARD_")));
}

describe("config/container.yaml", () => {
  it("validates, with the defaults a bare container runs", () => {
    const config = load({ SWITCHYARD_ADMIN_TOKEN: TOKEN });
    expect(config.listen.proxy).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(config.listen.admin).toEqual({ host: "127.0.0.1", port: 9901 });
    expect(config.upstreams["stable"]?.endpoints).toEqual(["http://127.0.0.1:3000"]);
    expect(config.routes[0]?.split).toEqual({ stable: 10_000, canary: 0 });
    expect(config.admin.tokens).toEqual([{ name: "ops", scope: "write", token: TOKEN }]);
    expect(config.server.drainDelay).toBe(5000);
    expect(config.server.drainTimeout).toBe(30_000);
  });

  it("takes its addresses and upstreams from the environment", () => {
    const config = load({
      SWITCHYARD_ADMIN_TOKEN: TOKEN,
      SWITCHYARD_PROXY_LISTEN: "127.0.0.1:18080",
      SWITCHYARD_ADMIN_LISTEN: "0.0.0.0:19901",
      SWITCHYARD_STABLE_URL: "http://app-v1:8080",
      SWITCHYARD_CANARY_URL: "https://app-v2",
    });
    expect(config.listen.proxy).toEqual({ host: "127.0.0.1", port: 18080 });
    expect(config.listen.admin).toEqual({ host: "0.0.0.0", port: 19901 });
    expect(config.upstreams["stable"]?.endpoints).toEqual(["http://app-v1:8080"]);
    expect(config.upstreams["canary"]?.endpoints).toEqual(["https://app-v2"]);
  });

  it("passes `switchyard check`", async () => {
    const exit = await runCli(["check", CONFIG_FILE], {
      env: { SWITCHYARD_ADMIN_TOKEN: TOKEN },
    });
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
  });
});

describe("the image's entrypoint", () => {
  it("keeps the admin API on loopback behind a fresh random token when none is set", () => {
    const first = entrypointEnv({});
    const second = entrypointEnv({});
    expect(first["SWITCHYARD_ADMIN_LISTEN"]).toBe("127.0.0.1:9901");
    expect(first["SWITCHYARD_ADMIN_TOKEN"]).toMatch(/^[0-9a-f]{48}$/);
    expect(second["SWITCHYARD_ADMIN_TOKEN"]).not.toBe(first["SWITCHYARD_ADMIN_TOKEN"]);
    expect(() => load(first)).not.toThrow();
  });

  it("opens the admin API on every interface when a token is set", () => {
    const env = entrypointEnv({ SWITCHYARD_ADMIN_TOKEN: TOKEN });
    expect(env).toMatchObject({
      SWITCHYARD_ADMIN_LISTEN: "0.0.0.0:9901",
      SWITCHYARD_ADMIN_TOKEN: TOKEN,
    });
    expect(load(env).listen.admin).toEqual({ host: "0.0.0.0", port: 9901 });
  });

  it("keeps an explicit address, and makes no token for one off loopback", () => {
    expect(entrypointEnv({ SWITCHYARD_ADMIN_LISTEN: "[::1]:9999" })).toMatchObject({
      SWITCHYARD_ADMIN_LISTEN: "[::1]:9999",
      SWITCHYARD_ADMIN_TOKEN: expect.stringMatching(/^[0-9a-f]{48}$/) as unknown,
    });
    const exposed = entrypointEnv({ SWITCHYARD_ADMIN_LISTEN: "0.0.0.0:9901" });
    expect(exposed["SWITCHYARD_ADMIN_TOKEN"]).toBeUndefined();
    // So the config is refused instead of exposing an admin API nobody chose a token for.
    expect(() => load(exposed)).toThrow(/SWITCHYARD_ADMIN_TOKEN is not set/);
  });
});

describe("the default config served through the entrypoint", () => {
  let stable: EchoBackend;
  let canary: EchoBackend;

  beforeAll(async () => {
    stable = await startEchoBackend({ name: "stable" });
    canary = await startEchoBackend({ name: "canary" });
  });

  afterEach(async () => {
    await killAllNodeChildren();
  });

  afterAll(async () => {
    await closeDefaultAgent();
    await Promise.all([stable.close(), canary.close()]);
  });

  /** Starts it and resolves with the proxy's and admin's origins from the "proxy listening" line. */
  async function serve(): Promise<{ proxyUrl: string; adminUrl: string }> {
    const serving = spawnCommand(
      "sh",
      [ENTRYPOINT, NODE, CLI_MAIN, "serve", "--config", CONFIG_FILE],
      {
        env: {
          SWITCHYARD_PROXY_LISTEN: "127.0.0.1:0",
          SWITCHYARD_ADMIN_LISTEN: "127.0.0.1:0",
          SWITCHYARD_STABLE_URL: stable.url,
          SWITCHYARD_CANARY_URL: canary.url,
        },
        timeoutMs: SERVE_LIFETIME_MS,
      },
    );
    const listening = await waitForListening(serving, SERVE_TIMEOUT_MS);
    return {
      proxyUrl: originOf(portOf(listening["address"])),
      adminUrl: originOf(portOf(listening["admin"])),
    };
  }

  it("proxies to stable, and to canary on x-canary: always; the admin API takes no guess", async () => {
    const { proxyUrl, adminUrl } = await serve();
    const plain = await get(`${proxyUrl}/hello`);
    expect(plain.status).toBe(200);
    expect(plain.headers["x-backend-name"]).toBe("stable");
    const pinned = await get(`${proxyUrl}/hello`, { headers: { "x-canary": "always" } });
    expect(pinned.headers["x-backend-name"]).toBe("canary");
    expect((await get(`${adminUrl}/readyz`)).status).toBe(200);
    const guessed = await adminCall(adminUrl, "GET", "/api/v1/status", { token: TOKEN });
    expect(guessed.status).toBe(401);
  });
});

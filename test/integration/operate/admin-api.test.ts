/**
 * SPEC 7 on a real switchyard (its control plane, not a fake): every error status once, what
 * a read token may do, tokens never shown, weight changes in the event log with who did it and
 * the values before and after, the file's split back on DELETE, tokens rotated by a reload,
 * and the refusal to start an admin listener open to the network without a write token.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { StartError, startSwitchyard } from "../../../src/app.ts";
import { configSchema } from "../../../src/config/schema.ts";
import { createSilentLogger } from "../../../src/log/logger.ts";
import {
  adminCall,
  errorOf,
  getEvents,
  routeSplit,
  setWeights,
  type AdminAnswer,
} from "../../support/admin-calls.ts";
import { startEchoBackend, type EchoBackend } from "../../support/echo-backend.ts";
import {
  configText,
  makeConfigDir,
  startFileSwitchyard,
  writeConfigInPlace,
  type FileSwitchyard,
} from "../../support/file-switchyard.ts";
import { closeDefaultAgent, hammer } from "../../support/http-client.ts";
import { spawnSwitchyard, killAllSwitchyardProcesses } from "../../support/switchyard-process.ts";

const WRITE_TOKEN = "ops-write-token-4f1c9a";
const READ_TOKEN = "dashboards-read-token-77b2e0";
const TOKENS = [
  { name: "ops", scope: "write", token: WRITE_TOKEN },
  { name: "dashboards", scope: "read", token: READ_TOKEN },
];
const WEIGHTS_PATH = "/api/v1/routes/web/weights";
const PROBES = 20;

let stable: EchoBackend;
let canary: EchoBackend;
let switchyard: FileSwitchyard | undefined;
const { defer } = cleanupAfterEach();

beforeAll(async () => {
  stable = await startEchoBackend({ name: "stable" });
  canary = await startEchoBackend({ name: "canary" });
});

afterEach(async () => {
  await switchyard?.close();
  switchyard = undefined;
  await killAllSwitchyardProcesses();
  await closeDefaultAgent();
});

afterAll(async () => {
  await stable.close();
  await canary.close();
});

function adminConfig(tokens: readonly object[] = TOKENS): Record<string, unknown> {
  return {
    admin: { tokens },
    upstreams: { stable: { endpoints: [stable.url] }, canary: { endpoints: [canary.url] } },
    routes: [{ name: "web", split: { stable: 100, canary: 0 } }],
    server: { drainDelay: "200ms", drainTimeout: "3s" },
  };
}

/** Starts with TOKENS; its log lines (debug and up) are collected in `logLines`. */
async function startWithTokens(logLines: string[] = []): Promise<FileSwitchyard> {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(chunk.toString());
      callback();
    },
  });
  switchyard = await startFileSwitchyard(adminConfig(), {
    isWatchingConfig: false,
    logger: pino({ level: "debug" }, sink),
  });
  return switchyard;
}

function expectError(answer: AdminAnswer, status: number, code: string) {
  expect(answer.status, answer.body).toBe(status);
  expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");
  const error = errorOf(answer);
  expect(error.code).toBe(code);
  expect(error.message).not.toBe("");
  return error;
}

async function trafficOf(url: string): Promise<Record<string, number>> {
  const result = await hammer(`${url}/`, { total: PROBES, concurrency: 2 });
  expect(result.byStatus).toEqual({ 200: PROBES });
  return result.byName;
}

describe("the admin API on a running switchyard", () => {
  it("answers each error status with its code, and none of them changes the split", async () => {
    const logLines: string[] = [];
    const { adminUrl, url } = await startWithTokens(logLines);
    const write = { token: WRITE_TOKEN };

    const notSumming = await adminCall(adminUrl, "PUT", WEIGHTS_PATH, {
      ...write,
      json: { weights: { stable: 60, canary: 30 } },
    });
    expect(expectError(notSumming, 400, "SWITCHYARD_INVALID_WEIGHTS").fields).toEqual({
      weights: "must sum to 100, not 90",
    });

    const unknownUpstream = await adminCall(adminUrl, "PUT", WEIGHTS_PATH, {
      ...write,
      json: { weights: { stable: 90, blue: 10 } },
    });
    const unknownFields = expectError(unknownUpstream, 400, "SWITCHYARD_INVALID_WEIGHTS").fields;
    expect(Object.keys(unknownFields ?? {})).toEqual(["weights.blue"]);
    expect(unknownFields?.["weights.blue"]).toMatch(/unknown upstream "blue"/);

    const anonymous = await adminCall(adminUrl, "GET", "/api/v1/status");
    expectError(anonymous, 401, "SWITCHYARD_UNAUTHORIZED");
    expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="switchyard"');

    const wrongToken = await adminCall(adminUrl, "PUT", WEIGHTS_PATH, {
      token: `${WRITE_TOKEN}-not`,
      json: { weights: { canary: 100 } },
    });
    expectError(wrongToken, 401, "SWITCHYARD_UNAUTHORIZED");
    expect(wrongToken.headers["www-authenticate"]).toBe(
      'Bearer realm="switchyard", error="invalid_token"',
    );

    const readOnWrite = await adminCall(adminUrl, "PUT", WEIGHTS_PATH, {
      token: READ_TOKEN,
      json: { weights: { canary: 100 } },
    });
    expectError(readOnWrite, 403, "SWITCHYARD_FORBIDDEN");

    const unknownRoute = await adminCall(adminUrl, "PUT", "/api/v1/routes/shop/weights", {
      ...write,
      json: { weights: { canary: 100 } },
    });
    expect(expectError(unknownRoute, 404, "SWITCHYARD_UNKNOWN_ROUTE").message).toContain("shop");

    const tooLarge = await adminCall(adminUrl, "PUT", WEIGHTS_PATH, {
      ...write,
      headers: { "content-type": "application/json" },
      rawBody: JSON.stringify({ weights: { canary: 100 }, padding: "x".repeat(70 * 1024) }),
    });
    expectError(tooLarge, 413, "SWITCHYARD_BODY_TOO_LARGE");

    const notJson = await adminCall(adminUrl, "PUT", WEIGHTS_PATH, {
      ...write,
      headers: { "content-type": "text/plain" },
      rawBody: "canary=100",
    });
    expectError(notJson, 415, "SWITCHYARD_UNSUPPORTED_MEDIA_TYPE");

    expect(await routeSplit(adminUrl, "web", READ_TOKEN)).toEqual({
      split: { stable: 100, canary: 0 },
      splitSource: "file",
    });
    const changes = (await getEvents(adminUrl, undefined, READ_TOKEN)).filter((e) =>
      e.type.startsWith("weights."),
    );
    expect(changes).toEqual([]);
    expect(await trafficOf(url)).toEqual({ stable: PROBES });
    // Refusals are logged, tokens never.
    expect(logLines.some((line) => line.includes('"actor":"dashboards"'))).toBe(true);
    for (const line of logLines) {
      expect(line).not.toContain(WRITE_TOKEN);
      expect(line).not.toContain(READ_TOKEN);
    }
  });

  it("lets a read token read status, config and events but change nothing", async () => {
    const { adminUrl } = await startWithTokens();
    const read = { token: READ_TOKEN };
    const status = await adminCall(adminUrl, "GET", "/api/v1/status", read);
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ routes: [{ name: "web" }], ready: true });
    expect((await adminCall(adminUrl, "GET", "/api/v1/config", read)).status).toBe(200);
    expect((await adminCall(adminUrl, "GET", "/api/v1/events", read)).status).toBe(200);

    const attempts = [
      adminCall(adminUrl, "PUT", WEIGHTS_PATH, { ...read, json: { weights: { canary: 100 } } }),
      adminCall(adminUrl, "DELETE", WEIGHTS_PATH, read),
      adminCall(adminUrl, "POST", "/api/v1/reload", read),
    ];
    for (const answer of await Promise.all(attempts)) {
      expectError(answer, 403, "SWITCHYARD_FORBIDDEN");
    }
    expect((await routeSplit(adminUrl, "web", READ_TOKEN)).splitSource).toBe("file");
  });

  it("never shows a token in GET /api/v1/config", async () => {
    const { adminUrl } = await startWithTokens();
    const answer = await adminCall(adminUrl, "GET", "/api/v1/config", { token: WRITE_TOKEN });
    expect(answer.status).toBe(200);
    expect(answer.body).not.toContain(WRITE_TOKEN);
    expect(answer.body).not.toContain(READ_TOKEN);
    const config = answer.json as { admin: { tokens: { name: string; token: string }[] } };
    expect(config.admin.tokens.map((t) => t.name)).toEqual(["ops", "dashboards"]);
    for (const token of config.admin.tokens) expect(token.token).toBe("[redacted]");
  });

  it("records a weight change in the event log and the log with actor, before and after, and DELETE restores the file's split", async () => {
    const logLines: string[] = [];
    const { adminUrl, url } = await startWithTokens(logLines);
    const seen = await getEvents(adminUrl, undefined, READ_TOKEN);
    const lastId = seen.at(-1)?.id ?? 0;

    const change = await setWeights(adminUrl, "web", { stable: 0, canary: 100 }, WRITE_TOKEN);
    expect(change).toEqual({
      route: "web",
      before: { stable: 100, canary: 0 },
      after: { stable: 0, canary: 100 },
      splitSource: "admin",
    });
    expect(await trafficOf(url)).toEqual({ canary: PROBES });

    const events = await getEvents(adminUrl, lastId, READ_TOKEN);
    expect(events).toEqual([
      expect.objectContaining({
        type: "weights.changed",
        route: "web",
        actor: "ops",
        before: { stable: 100, canary: 0 },
        after: { stable: 0, canary: 100 },
      }),
    ]);
    const changeId = events[0]?.id ?? 0;
    expect(changeId).toBeGreaterThan(lastId);
    expect(await getEvents(adminUrl, changeId, READ_TOKEN)).toEqual([]);

    const cleared = await adminCall(adminUrl, "DELETE", WEIGHTS_PATH, { token: WRITE_TOKEN });
    expect(cleared.status).toBe(200);
    expect(cleared.json).toEqual({
      route: "web",
      before: { stable: 0, canary: 100 },
      after: { stable: 100, canary: 0 },
      splitSource: "file",
    });
    expect(await routeSplit(adminUrl, "web", READ_TOKEN)).toEqual({
      split: { stable: 100, canary: 0 },
      splitSource: "file",
    });
    expect(await trafficOf(url)).toEqual({ stable: PROBES });
    expect(await getEvents(adminUrl, changeId, READ_TOKEN)).toEqual([
      expect.objectContaining({ type: "weights.changed", actor: "ops", splitSource: "file" }),
    ]);

    const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: "split set through the admin API",
        actor: "ops",
        route: "web",
        before: { stable: 100, canary: 0 },
        after: { stable: 0, canary: 100 },
      }),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: "admin split override cleared",
        actor: "ops",
        before: { stable: 0, canary: 100 },
        after: { stable: 100, canary: 0 },
      }),
    );
  });

  it("takes new tokens from a reloaded config without a restart", async () => {
    const { adminUrl, configFile } = await startWithTokens();
    const rotated = "ops-write-token-rotated-9d3e";
    await writeConfigInPlace(
      configFile,
      configText(adminConfig([{ name: "ops", scope: "write", token: rotated }])),
    );
    const reload = await adminCall(adminUrl, "POST", "/api/v1/reload", { token: WRITE_TOKEN });
    expect(reload.json).toMatchObject({ applied: true, changed: true });
    expectError(
      await adminCall(adminUrl, "GET", "/api/v1/status", { token: WRITE_TOKEN }),
      401,
      "SWITCHYARD_UNAUTHORIZED",
    );
    expect((await adminCall(adminUrl, "GET", "/api/v1/status", { token: rotated })).status).toBe(
      200,
    );
  });
});

describe("refusing to start an exposed admin listener", () => {
  // Rejected before any listener opens: nothing ever listens on 0.0.0.0 here.
  const exposed = (tokens: object[]) => ({
    ...adminConfig(tokens),
    listen: { proxy: "127.0.0.1:0", admin: "0.0.0.0:0" },
  });

  it("rejects startSwitchyard with one sentence when listen.admin is not loopback and no token can write", async () => {
    for (const tokens of [[], [{ name: "dashboards", scope: "read", token: READ_TOKEN }]]) {
      const config = configSchema.parse(exposed(tokens));
      const starting = startSwitchyard({
        config,
        configHash: "test",
        logger: createSilentLogger(),
      });
      await expect(starting).rejects.toBeInstanceOf(StartError);
      const error = (await starting.catch((e: unknown) => e)) as StartError;
      expect(error.code).toBe("EADMINEXPOSED");
      expect(error.message).toMatch(/^listen\.admin is 0\.0\.0\.0:0, which is not a loopback/);
      expect(error.message).toMatch(/no write token/);
      expect(error.message).toMatch(/or listen on 127\.0\.0\.1$/);
      expect(error.message).not.toContain("\n");
    }
  });

  it("makes `switchyard serve` exit 1 with that sentence", async () => {
    const dir = await makeConfigDir(configText(exposed([])));
    defer(dir.remove);
    const serve = spawnSwitchyard(dir.configFile);
    const exit = await serve.exited;
    expect(exit.code).toBe(1);
    const lines = exit.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^switchyard: listen\.admin is 0\.0\.0\.0:0, .*write token.*\.$/);
    expect(exit.stdout).not.toContain("proxy listening");
  });
});

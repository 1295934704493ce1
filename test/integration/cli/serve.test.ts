/**
 * `switchyard serve`, `check` and usage errors, run as real processes (SPEC section 1): logs,
 * proxying, signals, exit codes, config file resolution and the messages users read.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEchoBackend, type EchoBackend, type EchoBody } from "../../support/echo-backend.ts";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import { closeServer, listenOnFreePort } from "../../support/ports.ts";
import type { StatusView } from "../../../src/control/control-api.ts";
import {
  CLI_MAIN,
  killAllChildren,
  linesOf,
  REPO_ROOT,
  runCli,
  spawnNode,
  type RunningChild,
} from "./child-process.ts";

interface LogLine {
  level: string;
  time: string;
  msg: string;
  [field: string]: unknown;
}

/** A config whose proxy listens on 127.0.0.1:PORT (0: any free port). */
function configYaml(endpoint: string, port = 0): string {
  return [
    "listen:",
    `  proxy: 127.0.0.1:${port}`,
    "  admin: 127.0.0.1:0",
    "server: { drainDelay: 100ms, drainTimeout: 2s }",
    "upstreams:",
    "  stable:",
    `    endpoints: [${endpoint}]`,
    "routes:",
    "  - name: web",
    "    split: { stable: 100 }",
    "",
  ].join("\n");
}

function parseLog(line: string): LogLine {
  const parsed = JSON.parse(line) as Partial<LogLine>;
  expect(parsed).toMatchObject({
    level: expect.any(String) as unknown,
    time: expect.any(String) as unknown,
    msg: expect.any(String) as unknown,
  });
  return parsed as LogLine;
}

function hasMsg(msg: string): (line: string) => boolean {
  return (line) => line.includes(`"msg":"${msg}"`);
}

/** Starts `serve`, waits until it says it started, and returns it with its proxy and admin URLs. */
async function startServe(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ serve: RunningChild; proxyUrl: string; adminUrl: string; started: LogLine }> {
  const serve = spawnNode(CLI_MAIN, ["serve", ...args], options);
  const listening = parseLog(await serve.waitForLine(hasMsg("proxy listening")));
  const started = parseLog(await serve.waitForLine(hasMsg("switchyard started")));
  const address = String(listening.address);
  expect(address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
  return {
    serve,
    proxyUrl: `http://${address}`,
    adminUrl: `http://${String(listening.admin)}`,
    started,
  };
}

let tmp: string;
let backend: EchoBackend;
let validConfig: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "switchyard-cli-"));
  backend = await startEchoBackend({ name: "stable" });
  validConfig = join(tmp, "valid.yaml");
  await writeFile(validConfig, configYaml(backend.url));
});

afterEach(async () => {
  await killAllChildren();
  await closeDefaultAgent();
});

afterAll(async () => {
  await backend.close();
  await rm(tmp, { recursive: true, force: true });
});

describe("switchyard serve", () => {
  it("logs JSON lines, proxies to the upstream and exits 0 on SIGTERM", async () => {
    const { serve, proxyUrl, started } = await startServe(["--config", validConfig]);
    expect(started.configFile).toBe(validConfig);

    const response = await get(`${proxyUrl}/through/the/proxy?x=1`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body) as EchoBody).toMatchObject({
      name: "stable",
      url: "/through/the/proxy?x=1",
    });

    serve.signal("SIGTERM");
    const exit = await serve.exited;
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe("");
    const logs = linesOf(exit.stdout).map(parseLog);
    for (const log of logs) {
      expect(["trace", "debug", "info", "warn", "error", "fatal"]).toContain(log.level);
      expect(Number.isNaN(Date.parse(log.time))).toBe(false);
    }
    expect(logs.map((log) => log.msg)).toEqual(
      expect.arrayContaining(["proxy listening", "switchyard started", "draining", "drained"]),
    );
    expect(logs.find((log) => log.msg === "draining")?.signal).toBe("SIGTERM");
  });

  it("exits 0 on SIGINT too", async () => {
    const { serve } = await startServe(["--config", validConfig]);
    serve.signal("SIGINT");
    const exit = await serve.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
  });

  it("survives SIGHUP (a reload of an unchanged file) and keeps proxying", async () => {
    const { serve, proxyUrl } = await startServe(["--config", validConfig]);
    serve.signal("SIGHUP");
    const notice = parseLog(await serve.waitForLine((line) => line.includes("SIGHUP")));
    expect(notice.level).toBe("info");
    expect(notice.msg).toContain("reloading");

    expect(serve.child.exitCode).toBeNull();
    expect((await get(`${proxyUrl}/after-hup`)).status).toBe(200);

    serve.signal("SIGTERM");
    expect((await serve.exited).code).toBe(0);
  });

  describe("when the proxy port is already in use", () => {
    let occupier: Server;
    let port: number;

    beforeAll(async () => {
      occupier = createServer();
      port = await listenOnFreePort(occupier);
    });

    afterAll(async () => {
      await closeServer(occupier);
    });

    it("exits 1 with one sentence naming the address and the fix", async () => {
      const file = join(tmp, "busy.yaml");
      await writeFile(file, configYaml(backend.url, port));
      const exit = await runCli(["serve", "--config", file]);
      expect(exit.code).toBe(1);
      const lines = linesOf(exit.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`127.0.0.1:${port}`);
      expect(lines[0]).toContain("already in use");
      expect(lines[0]).toMatch(/stop the other process or change listen\.proxy\.$/);
    });
  });

  it("exits 1 with FILE:LINE:COL: PATH: MESSAGE lines for an invalid config", async () => {
    const file = join(tmp, "invalid.yaml");
    await writeFile(
      file,
      [
        "listen:",
        "  proxy: 127.0.0.1:0",
        "upstreams:",
        "  stable:",
        `    endpoints: [${backend.url}]`,
        "    tmeouts: { connect: 1s }",
        "routes:",
        "  - name: web",
        "    split: { stable: 95 }",
        "",
      ].join("\n"),
    );
    const exit = await runCli(["serve", "--config", file]);
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe("");
    const lines = linesOf(exit.stderr);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      new RegExp(`^${escapeRegExp(file)}:6:5: upstreams\\.stable\\.tmeouts: .*tmeouts`),
    );
    expect(lines[1]).toMatch(new RegExp(`^${escapeRegExp(file)}:9:5: routes\\[0\\]\\.split: .*95`));
    expect(lines[2]).toContain(`switchyard check ${file}`);
  });
});

describe("serve and workers", () => {
  const ISO_8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

  async function configWithWorkers(name: string, workers: string): Promise<string> {
    const file = join(tmp, name);
    await writeFile(file, `${configYaml(backend.url)}workers: ${workers}\n`);
    return file;
  }

  it("serves workers: 1 as one process, listed as worker 1 in status and by switchyard status", async () => {
    const file = await configWithWorkers("one-worker.yaml", "1");
    const { serve, proxyUrl, adminUrl } = await startServe(["--config", file]);
    expect((await get(`${proxyUrl}/one`)).status).toBe(200);

    const status = JSON.parse((await get(`${adminUrl}/api/v1/status`)).body) as StatusView;
    expect(status.workers).toEqual([
      {
        id: 1,
        pid: serve.pid,
        startedAt: expect.stringMatching(ISO_8601) as unknown,
        restarts: 0,
        state: "serving",
      },
    ]);
    const printed = await runCli(["status", "--admin", adminUrl]);
    expect(printed.code).toBe(0);
    expect(linesOf(printed.stdout)).toContain(
      `workers     1 (pid ${serve.pid}, started ${status.workers[0]?.startedAt ?? ""})`,
    );

    serve.signal("SIGTERM");
    expect((await serve.exited).code).toBe(0);
  });
});

describe("serve's config file: --config, then $SWITCHYARD_CONFIG, then config/switchyard.yaml", () => {
  let emptyDir: string;
  let defaultDir: string;

  beforeAll(async () => {
    emptyDir = join(tmp, "empty");
    await mkdir(emptyDir);
    defaultDir = join(tmp, "with-default");
    await mkdir(join(defaultDir, "config"), { recursive: true });
    await writeFile(join(defaultDir, "config/switchyard.yaml"), configYaml(backend.url));
  });

  it("reads $SWITCHYARD_CONFIG when there is no --config", async () => {
    const { serve, started } = await startServe([], {
      cwd: emptyDir,
      env: { SWITCHYARD_CONFIG: validConfig },
    });
    expect(started.configFile).toBe(validConfig);
    serve.signal("SIGTERM");
    expect((await serve.exited).code).toBe(0);
  });

  it("prefers --config over $SWITCHYARD_CONFIG", async () => {
    const { serve, started } = await startServe(["--config", validConfig], {
      cwd: emptyDir,
      env: { SWITCHYARD_CONFIG: join(tmp, "does-not-exist.yaml") },
    });
    expect(started.configFile).toBe(validConfig);
    serve.signal("SIGTERM");
    expect((await serve.exited).code).toBe(0);
  });

  it("names a missing --config file, and does not fall back to $SWITCHYARD_CONFIG", async () => {
    const missing = join(tmp, "missing.yaml");
    const exit = await runCli(["serve", "--config", missing], {
      cwd: emptyDir,
      env: { SWITCHYARD_CONFIG: validConfig },
    });
    expect(exit.code).toBe(1);
    expect(linesOf(exit.stderr)).toEqual([
      `switchyard: cannot read the config file ${missing} (from --config): no such file (check the path); pass --config FILE or set SWITCHYARD_CONFIG to use another file.`,
    ]);
  });

  it("names a missing $SWITCHYARD_CONFIG file", async () => {
    const missing = join(tmp, "missing-env.yaml");
    const exit = await runCli(["serve"], { cwd: emptyDir, env: { SWITCHYARD_CONFIG: missing } });
    expect(exit.code).toBe(1);
    const lines = linesOf(exit.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${missing} (from $SWITCHYARD_CONFIG)`);
  });

  it("falls back to config/switchyard.yaml in the working directory", async () => {
    const { serve, started } = await startServe([], { cwd: defaultDir });
    expect(started.configFile).toBe(join(defaultDir, "config/switchyard.yaml"));
    serve.signal("SIGTERM");
    expect((await serve.exited).code).toBe(0);
  });

  it("says the default is missing and how to choose a file, also for an empty variable", async () => {
    for (const env of [{}, { SWITCHYARD_CONFIG: "" }]) {
      const exit = await runCli(["serve"], { cwd: emptyDir, env });
      expect(exit.code).toBe(1);
      const lines = linesOf(exit.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("cannot read the config file config/switchyard.yaml");
      expect(lines[0]).toContain("no such file");
      expect(lines[0]).toContain("pass --config FILE or set SWITCHYARD_CONFIG");
    }
  });
});

describe("switchyard check", () => {
  it.each(["config/switchyard.yaml", "config/demo.yaml", "config/demo-fleet.yaml"])(
    "exits 0 for %s",
    async (file) => {
      const exit = await runCli(["check", file]);
      expect(exit.stderr).toBe("");
      expect(exit.code).toBe(0);
      expect(exit.stdout).toMatch(new RegExp(`^${escapeRegExp(file)}: ok \\(`));
    },
  );

  it("exits 1 and prints every problem with its position", async () => {
    const file = join(tmp, "broken.yaml");
    await writeFile(
      file,
      [
        "upstreams:",
        "  stable:",
        "    endpoints: [not-a-url]",
        "routes:",
        "  - name: web",
        "    split: { stable: 100, canary: 5 }",
        "",
      ].join("\n"),
    );
    const exit = await runCli(["check", file]);
    expect(exit.code).toBe(1);
    const lines = linesOf(exit.stderr);
    const problems = lines.slice(0, -1);
    expect(problems.length).toBeGreaterThanOrEqual(2);
    for (const line of problems) {
      expect(line).toMatch(new RegExp(`^${escapeRegExp(file)}:[1-9]\\d*:[1-9]\\d*: \\S+: .+`));
    }
    expect(problems.some((line) => line.startsWith(`${file}:3:`))).toBe(true);
    expect(problems.some((line) => line.startsWith(`${file}:6:`))).toBe(true);
    expect(lines.at(-1)).toMatch(/invalid \(\d+ problems\)$/);
  });

  it("exits 1 for a file that does not exist", async () => {
    const exit = await runCli(["check", join(tmp, "nope.yaml")]);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain("no such file");
  });
});

describe("usage", () => {
  it.each([
    { args: [], why: "no command" },
    { args: ["bogus"], why: "an unknown command" },
    { args: ["serve", "--bogus"], why: "an unknown flag" },
    { args: ["serve", "--config"], why: "a flag without its value" },
    { args: ["check"], why: "check without a file" },
    { args: ["check", "a.yaml", "b.yaml"], why: "check with two files" },
  ])("exits 2 for $why", async ({ args }) => {
    const exit = await runCli(args);
    expect(exit.code).toBe(2);
    expect(exit.stderr).not.toBe("");
    expect(exit.stderr).toContain("--help");
  });

  it.each([{ args: ["--help"] }, { args: ["serve", "--help"] }, { args: ["check", "--help"] }])(
    "exits 0 for $args",
    async ({ args }) => {
      const exit = await runCli(args);
      expect(exit.code).toBe(0);
      expect(exit.stdout).toMatch(/^Usage: switchyard/);
    },
  );

  it("prints the package version for --version", async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    const exit = await runCli(["--version"]);
    expect(exit.code).toBe(0);
    expect(exit.stdout.trim()).toBe(version);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

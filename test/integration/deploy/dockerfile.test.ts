/**
 * The Dockerfile and .dockerignore, read as text (building the image is
 * scripts/container-smoke.sh's job): two stages on node:24-bookworm-slim, a runtime stage that
 * runs as `node` with the ports and config path of config/container.yaml, a build context
 * that lets in exactly what is copied, and a HEALTHCHECK command that really tells a healthy
 * admin API from one that is not.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../../../src/config/load.ts";
import { closeServer, listenOnFreePort } from "../../support/ports.ts";
import { singleUpstreamConfig, startTestSwitchyard } from "../../support/switchyard.ts";
import { NODE, REPO_ROOT, spawnCommand } from "../../support/node-process.ts";

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

const TOKEN = "a-token-of-sixteen-chars-or-more";

let instructions: Instruction[];
let ignoreLines: string[];

/** Instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => {
      const space = line.indexOf(" ");
      return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

function all(keyword: string): string[] {
  return instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The instructions of the last stage. */
function runtimeStage(): Instruction[] {
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf("FROM");
  return instructions.slice(lastFrom);
}

function jsonArgs(keyword: string): string[] {
  const found = runtimeStage().find((i) => i.keyword === keyword);
  return JSON.parse(found?.args ?? "[]") as string[];
}

/** [source, destination] of the runtime stage's COPY instructions from the build context. */
function contextCopies(): [string, string][] {
  return runtimeStage()
    .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
    .map((i) => {
      const words = i.args.split(/\s+/);
      return [words.slice(0, -1).join(" "), words.at(-1) ?? ""];
    });
}

beforeAll(async () => {
  instructions = parseDockerfile(await readFile(join(REPO_ROOT, "Dockerfile"), "utf8"));
  ignoreLines = (await readFile(join(REPO_ROOT, ".dockerignore"), "utf8"))
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
});

describe("Dockerfile", () => {
  it("builds in one stage and runs in another, both on node:24-bookworm-slim", () => {
    expect(all("FROM")).toEqual(["node:24-bookworm-slim AS build", "node:24-bookworm-slim"]);
    const runtime = runtimeStage().map((i) => i.args);
    expect(runtime.some((args) => args.includes("--omit=dev"))).toBe(true);
    expect(runtime).toContain("--from=build /src/dist ./dist");
  });

  it("runs as node, exposes the default config's ports and serves the config it copies", async () => {
    const users = runtimeStage().filter((i) => i.keyword === "USER");
    expect(users.map((i) => i.args)).toEqual(["node"]);
    const copies = new Map(contextCopies());
    const configPath = copies.get("config/container.yaml");
    expect(jsonArgs("CMD")).toEqual(["switchyard", "serve", "--config", configPath]);
    expect(all("ENV").join(" ")).toContain(`SWITCHYARD_CONFIG=${configPath ?? ""}`);
    expect(jsonArgs("ENTRYPOINT")).toEqual(["switchyard-entrypoint"]);
    expect(copies.get("deploy/container/entrypoint.sh")).toBe(
      "/usr/local/bin/switchyard-entrypoint",
    );
    const text = await readFile(join(REPO_ROOT, "config/container.yaml"), "utf8");
    const loaded = loadConfigText(text, "container.yaml", { SWITCHYARD_ADMIN_TOKEN: TOKEN });
    if (!loaded.ok) throw new Error("config/container.yaml does not load");
    const { proxy, admin } = loaded.config.listen;
    expect(all("EXPOSE")).toEqual([`${String(proxy.port)} ${String(admin.port)}`]);
  });

  it("has a build context of exactly what it copies", () => {
    expect(ignoreLines[0]).toBe("*");
    expect(ignoreLines.slice(1).every((line) => line.startsWith("!"))).toBe(true);
    const allowed = ignoreLines.slice(1).map((line) => withoutSlash(line.slice(1)));
    const sources = instructions
      .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
      .map(withoutSlash);
    expect([...allowed].sort()).toEqual([...new Set(sources)].sort());
  });
});

function withoutSlash(path: string): string {
  return path.replace(/\/$/, "");
}

describe("the HEALTHCHECK command", () => {
  let server: Server | undefined;

  afterEach(async () => {
    if (server !== undefined) await closeServer(server);
    server = undefined;
  });

  function healthcheck(): string[] {
    const found = runtimeStage().find((i) => i.keyword === "HEALTHCHECK");
    const command = /CMD (\[.*\])$/.exec(found?.args ?? "");
    const words = JSON.parse(command?.[1] ?? "[]") as string[];
    expect(words[0]).toBe("node");
    return words.slice(1);
  }

  async function runHealthcheckOn(port: number): Promise<number | null> {
    const child = spawnCommand(NODE, healthcheck(), {
      env: { SWITCHYARD_ADMIN_LISTEN: `127.0.0.1:${String(port)}` },
      timeoutMs: 10_000,
    });
    return (await child.exited).code;
  }

  async function runHealthcheck(status: number): Promise<number | null> {
    server = createServer((request, response) => {
      response.statusCode = request.url === "/healthz" ? status : 404;
      response.end();
    });
    return runHealthcheckOn(await listenOnFreePort(server));
  }

  it("passes when /healthz answers 200", async () => {
    expect(await runHealthcheck(200)).toBe(0);
  });

  it("passes against a real admin API, whose Host and Origin checks it satisfies", async () => {
    const switchyard = await startTestSwitchyard(singleUpstreamConfig(["http://127.0.0.1:9"]));
    try {
      expect(await runHealthcheckOn(switchyard.adminPort)).toBe(0);
    } finally {
      await switchyard.close();
    }
  });

  it("fails when /healthz answers 503, or nothing listens", async () => {
    expect(await runHealthcheck(503)).toBe(1);
    await closeServer(server!);
    server = undefined;
    expect(await runHealthcheckOn(await freePortNobodyListensOn())).toBe(1);
  });
});

async function freePortNobodyListensOn(): Promise<number> {
  const probe = createServer();
  const port = await listenOnFreePort(probe);
  await closeServer(probe);
  return port;
}

/**
 * `npm run demo` (node src/demo/main.ts) run as a real process: it starts two backends and the
 * proxy on config/demo.yaml, sends each kind of traffic and prints who served what.
 */
import { createServer, type Server } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { closeDefaultAgent, get } from "../../support/http-client.ts";
import { closeServer, listenOnFreePort } from "../../support/ports.ts";
import { DEMO_MAIN, killAllChildren, linesOf, runNode, spawnNode } from "../cli/child-process.ts";

/** Any free ports: the demo's defaults (8080, 9901) may be taken on a test machine. */
const FREE_PORTS = { DEMO_PROXY_LISTEN: "127.0.0.1:0", DEMO_ADMIN_LISTEN: "127.0.0.1:0" };

const SPLIT_ROW = "split (no rule matches)";
const HEADER_RULE_ROW = "rule: header x-canary=always";
const COOKIE_RULE_ROW = "rule: cookie canary=never";
const QUERY_RULE_ROW = "rule: query preview=1";

interface ServedTable {
  columns: string[];
  /** row label -> column -> count */
  rows: Map<string, Map<string, number>>;
}

/**
 * Reads the table after its `traffic ...` header: cells are separated by two or more spaces,
 * and the rule of dashes under the header says where each column starts.
 */
function parseTable(stdout: string): ServedTable {
  const lines = stdout.split("\n");
  const start = lines.findIndex((line) => line.startsWith("traffic "));
  expect(start, `no table in ${stdout}`).toBeGreaterThanOrEqual(0);
  const header = lines[start] ?? "";
  const rule = lines[start + 1] ?? "";
  expect(rule).toMatch(/^-+( {2}-+)+$/);
  const columnStarts = [...rule.matchAll(/-+/g)].map((match) => match.index);
  const rest = lines.slice(start + 2);
  const end = rest.indexOf("");
  const body = end === -1 ? rest : rest.slice(0, end);
  const cellsOf = (line: string): string[] => {
    const cells = line.split(/ {2,}/);
    // Aligned: every cell begins where its column's dashes begin.
    let from = 0;
    const starts = cells.map((cell) => {
      const at = line.indexOf(cell, from);
      from = at + cell.length;
      return at;
    });
    expect(starts, `misaligned table line: ${JSON.stringify(line)}`).toEqual(columnStarts);
    return cells;
  };
  const columns = cellsOf(header);
  expect(columns[0]).toBe("traffic");
  expect(columns.at(-1)).toBe("total");
  const rows = new Map<string, Map<string, number>>();
  for (const line of body) {
    const cells = cellsOf(line);
    const counts = new Map<string, number>();
    cells.slice(1).forEach((cell, i) => {
      const found = /^(\d+)(?: \((\d+\.\d)%\))?$/.exec(cell);
      expect(found, `cell ${JSON.stringify(cell)} in ${JSON.stringify(line)}`).not.toBeNull();
      counts.set(columns[i + 1] ?? "", Number(found?.[1]));
    });
    rows.set(cells[0] ?? "", counts);
  }
  return { columns, rows };
}

function count(table: ServedTable, row: string, column: string): number {
  const counts = table.rows.get(row);
  expect(counts, `no row "${row}"`).toBeDefined();
  return counts?.get(column) ?? 0;
}

/** Some machines and containers have no IPv6 loopback. */
async function canListenOn(host: string): Promise<boolean> {
  const probe = createServer();
  try {
    await listenOnFreePort(probe, host);
    return true;
  } catch {
    return false;
  } finally {
    await closeServer(probe);
  }
}

const hasIpv6Loopback = await canListenOn("::1");

afterEach(async () => {
  await killAllChildren();
  await closeDefaultAgent();
});

describe("npm run demo", () => {
  it("config/demo.yaml takes the proxy and admin addresses from DEMO_*_LISTEN", async () => {
    const yaml = await readFile(new URL("../../../config/demo.yaml", import.meta.url), "utf8");
    expect(yaml).toMatch(/^\s+proxy: \$\{DEMO_PROXY_LISTEN(:-[^}]*)?\}$/m);
    expect(yaml).toMatch(/^\s+admin: \$\{DEMO_ADMIN_LISTEN(:-[^}]*)?\}$/m);
  });

  it("--once --requests 200 prints which version served each kind of traffic", async () => {
    const exit = await runNode(DEMO_MAIN, ["--once", "--no-rollout", "--requests", "200"], {
      env: FREE_PORTS,
    });
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/proxy at http:\/\/127\.0\.0\.1:[1-9]\d*\n/);
    expect(exit.stdout).toContain('route "web": split stable (v1) 90% / canary (v2) 10%');

    const table = parseTable(exit.stdout);
    expect(table.columns).toEqual(["traffic", "v1", "v2", "total"]);
    expect([...table.rows.keys()]).toEqual([
      SPLIT_ROW,
      HEADER_RULE_ROW,
      COOKIE_RULE_ROW,
      QUERY_RULE_ROW,
    ]);
    for (const row of table.rows.values()) expect(row.get("total")).toBe(200);
    expect(count(table, HEADER_RULE_ROW, "v2")).toBe(200);
    expect(count(table, QUERY_RULE_ROW, "v2")).toBe(200);
    expect(count(table, COOKIE_RULE_ROW, "v1")).toBe(200);
    // 10% of 200 is 20 with a standard deviation near 4: these bounds are over 3 of them away.
    const splitV2 = count(table, SPLIT_ROW, "v2");
    expect(splitV2).toBeGreaterThanOrEqual(6);
    expect(splitV2).toBeLessThanOrEqual(36);
    expect(count(table, SPLIT_ROW, "v1")).toBe(200 - splitV2);
  });

  it("--v2-error-rate 0.2: v2's 500s on GETs are retried on v1, so clients see no error", async () => {
    const exit = await runNode(
      DEMO_MAIN,
      ["--once", "--no-rollout", "--requests", "200", "--v2-error-rate", "0.2"],
      {
        env: FREE_PORTS,
      },
    );
    expect(exit.code).toBe(0);
    const table = parseTable(exit.stdout);
    expect(table.columns).not.toContain("error 500");
    for (const row of [HEADER_RULE_ROW, QUERY_RULE_ROW]) {
      // 20% of 200 is 40: those failed on v2 and were answered by v1 on retry. None at all, or
      // most, would mean the error rate or the retry is not applied.
      const retried = count(table, row, "v1");
      expect(retried).toBeGreaterThan(10);
      expect(retried).toBeLessThan(80);
      expect(count(table, row, "v2") + retried).toBe(200);
    }
    expect(count(table, COOKIE_RULE_ROW, "v1")).toBe(200);
  });

  it("rolls v2 out step by step, printing each decision, until it is promoted", async () => {
    const exit = await runNode(DEMO_MAIN, ["--once", "--requests", "50"], {
      env: FREE_PORTS,
      timeoutMs: 60_000,
    });
    expect(exit.code).toBe(0);
    const decisions = exit.stdout.split("\n").filter((line) => /^\s+\+\d+\.\ds {2}/.test(line));
    const verdicts = decisions.map((line) => line.trim().split(/\s+/)[1]);
    expect(verdicts.filter((verdict) => verdict === "advance")).toHaveLength(3);
    expect(verdicts.at(-1)).toBe("promote");
    expect(verdicts).not.toContain("rollback");
    expect(exit.stdout).toContain("v2 is promoted");
    expect(exit.stdout).toContain('split now {"stable":0,"canary":100}');
  }, 70_000);

  it("--bad: v2 fails 20% of requests and the fast path rolls it back", async () => {
    const exit = await runNode(DEMO_MAIN, ["--once", "--bad", "--requests", "50"], {
      env: FREE_PORTS,
      timeoutMs: 60_000,
    });
    expect(exit.code).toBe(0);
    const rollback = exit.stdout.split("\n").find((line) => line.includes(" rollback "));
    expect(rollback).toContain("(fast path)");
    expect(rollback).toContain("canary at   0%");
    expect(exit.stdout).toContain("v2 is rolled back");
    expect(exit.stdout).toContain('split now {"stable":100,"canary":0}');
    // The canary's failures were retried on v1: clients saw none.
    expect(exit.stdout).toMatch(/requests sent, 0 failed as clients saw them/);
  }, 70_000);

  it("prints a proxy URL that works while it keeps serving, and exits 0 on SIGTERM", async () => {
    const demo = spawnNode(DEMO_MAIN, ["--no-rollout", "--requests", "20"], { env: FREE_PORTS });
    const line = await demo.waitForLine((text) => text.startsWith("switchyard keeps serving on "));
    const proxyUrl = /on (http:\/\/127\.0\.0\.1:\d+)\./.exec(line)?.[1];
    expect(proxyUrl).toBeDefined();
    expect(demo.stdout()).toContain(`proxy at ${proxyUrl ?? ""}\n`);

    const canary = await get(`${proxyUrl ?? ""}/hello`, { headers: { "x-canary": "always" } });
    expect(canary.status).toBe(200);
    expect(JSON.parse(canary.body)).toMatchObject({ version: "v2", path: "/hello" });
    const stable = await get(`${proxyUrl ?? ""}/hello`, { headers: { cookie: "canary=never" } });
    expect(JSON.parse(stable.body)).toMatchObject({ version: "v1" });
    await closeDefaultAgent();

    demo.signal("SIGTERM");
    const exit = await demo.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
  });

  it.skipIf(!hasIpv6Loopback)("prints a bracketed proxy URL when it listens on [::1]", async () => {
    const exit = await runNode(DEMO_MAIN, ["--once", "--no-rollout", "--requests", "10"], {
      env: { ...FREE_PORTS, DEMO_PROXY_LISTEN: "[::1]:0" },
    });
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/proxy at http:\/\/\[::1\]:[1-9]\d*\n/);
    expect(count(parseTable(exit.stdout), HEADER_RULE_ROW, "v2")).toBe(10);
  });

  it("runs from another working directory", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "switchyard-demo-"));
    try {
      const exit = await runNode(DEMO_MAIN, ["--once", "--no-rollout", "--requests", "10"], {
        cwd,
        env: FREE_PORTS,
      });
      expect(exit.stderr).toBe("");
      expect(exit.code).toBe(0);
      expect(count(parseTable(exit.stdout), HEADER_RULE_ROW, "v2")).toBe(10);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("says which variable moves the proxy when its port is taken, and exits 1", async () => {
    const occupier: Server = createServer();
    const port = await listenOnFreePort(occupier);
    try {
      const exit = await runNode(DEMO_MAIN, ["--once", "--no-rollout", "--requests", "10"], {
        env: { ...FREE_PORTS, DEMO_PROXY_LISTEN: `127.0.0.1:${port}` },
      });
      expect(exit.code).toBe(1);
      const lines = linesOf(exit.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`127.0.0.1:${port}`);
      expect(lines[0]).toContain("already in use");
      expect(lines[0]).toContain("DEMO_PROXY_LISTEN");
    } finally {
      await closeServer(occupier);
    }
  });

  it("--fleet without redis-server says how to install it, and exits 1", async () => {
    // No directory on PATH: redis-server cannot be found (the demo needs nothing else from it).
    const emptyDir = await mkdtemp(join(tmpdir(), "switchyard-no-redis-"));
    try {
      const exit = await runNode(DEMO_MAIN, ["--fleet", "--once"], {
        env: { ...FREE_PORTS, PATH: emptyDir },
        timeoutMs: 5000,
      });
      expect(exit.code).toBe(1);
      expect(exit.stdout).toBe("");
      const lines = linesOf(exit.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^demo: .*redis-server is not installed: run apt-get install -y redis-server$/,
      );
    } finally {
      await rm(emptyDir, { recursive: true, force: true });
    }
  });

  it.each([
    { args: ["--bogus"], why: "an unknown flag" },
    { args: ["extra"], why: "a positional argument" },
    { args: ["--requests", "0"], why: "zero requests" },
    { args: ["--requests", "many"], why: "a request count that is not a number" },
    { args: ["--v2-error-rate", "1.5"], why: "an error rate above 1" },
    { args: ["--v2-latency", "50"], why: "a latency without a unit" },
    { args: ["--log-level", "loud"], why: "an unknown log level" },
  ])("exits 2 with the usage for $why", async ({ args }) => {
    const exit = await runNode(DEMO_MAIN, ["--once", ...args], {
      env: FREE_PORTS,
      timeoutMs: 5000,
    });
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe("");
    const lines = linesOf(exit.stderr);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^demo: .+\.$/);
    expect(lines[1]).toMatch(/^usage: npm run demo -- /);
  });
});

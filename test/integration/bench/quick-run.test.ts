/**
 * SLOW (about 45 s, short load runs): `npm run bench` in its quickest mode against direct,
 * switchyard and switchyard-fleet (skipped where redis-server is not installed), with a
 * high-concurrency round of a few connections (skipped where wrk is not installed), so the
 * bench keeps working as the code and the config schema change. Checks what was written and
 * its shape, never a timing: benchmarks are run, not asserted.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, runNode, type ChildExit } from "../../support/node-process.ts";

const RUN_TIMEOUT_MS = 120_000;

/** Interrupted (SIGINT, so it stops what it started) a little before the test's own limit. */
function runBench(args: string[]): Promise<ChildExit> {
  return runNode(join(REPO_ROOT, "bench/run.ts"), args, {
    timeoutMs: RUN_TIMEOUT_MS - 5000,
    timeoutSignal: "SIGINT",
  });
}

describe("npm run bench, quickest mode", () => {
  let outDir: string;
  let outcome: ChildExit;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), "switchyard-bench-test-"));
    outcome = await runBench([
      "--only",
      "direct,switchyard,switchyard-fleet",
      "--rounds",
      "1",
      "--duration",
      "1",
      "--rate",
      "100",
      "--memory-connections",
      "20",
      "--high-concurrency-connections",
      "20",
      "--out",
      outDir,
    ]);
  }, RUN_TIMEOUT_MS);

  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it("exits 0, prints the table and writes latest.md and latest.json", async () => {
    expect(outcome.stderr).not.toMatch(/bench: failed/);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/^\| switchyard \| [\d,]+ \|/m);
    const markdown = await readFile(join(outDir, "latest.md"), "utf8");
    expect(markdown).toBe(outcome.stdout.replace(/^\n/, ""));
  });

  it("writes every section with the documented fields", async () => {
    const results = JSON.parse(await readFile(join(outDir, "latest.json"), "utf8")) as {
      schemaVersion: number;
      kind: string;
      machine: Record<string, unknown>;
      settings: { rounds: number; targets: string[] };
      saturation: {
        targets: Record<string, unknown>[];
        skipped: Array<{ name: string; reason: string }>;
        fleetCheck: Record<string, unknown> | null;
      };
      fixedRate: { ratePerSecond: number; targets: Record<string, unknown>[] };
      memory: { connections: number; targets: Record<string, unknown>[] };
      highConcurrency:
        | { skipped: string }
        | { connections: number; rounds: number; targets: Record<string, unknown>[] };
    };
    expect(results).toMatchObject({ schemaVersion: 2, kind: "suite" });
    expect(Object.keys(results.machine)).toEqual(
      expect.arrayContaining(["cpuModel", "logicalCores", "node", "cpuLayout", "startedAt", "wrk"]),
    );
    expect(results.settings).toMatchObject({
      rounds: 1,
      targets: ["direct", "switchyard", "switchyard-fleet"],
    });

    const [direct, switchyard, fleet] = results.saturation.targets;
    expect(direct).toMatchObject({ name: "direct", errors: 0, ratioToDirect: 1 });
    expect(switchyard).toMatchObject({ name: "switchyard", errors: 0, ratioToSwitchyard: 1 });
    // switchyard-fleet runs where redis-server is installed, and is skipped with a reason where not.
    if (fleet === undefined) {
      expect(results.saturation.skipped).toEqual([
        { name: "switchyard-fleet", reason: "redis-server is not installed" },
      ]);
      expect(results.saturation.fleetCheck).toBeNull();
    } else {
      expect(fleet).toMatchObject({ name: "switchyard-fleet", errors: 0 });
      expect(typeof fleet.cpuMicrosPerRequest).toBe("number");
      expect(results.saturation.fleetCheck).toMatchObject({
        connected: true,
        isLeader: true,
        members: 1,
      });
      expect(results.saturation.fleetCheck?.statsSecondsWithTraffic).toBeGreaterThan(0);
    }
    for (const target of results.saturation.targets) {
      expect(target.requestsPerSecond).toBeGreaterThan(0);
      expect(target.rounds).toHaveLength(1);
      expect(typeof target.p99Ms).toBe("number");
      expect(typeof target.isPinned).toBe("boolean");
      expect(target.isProcessTree).toBe(false);
    }

    expect(results.fixedRate.ratePerSecond).toBe(100);
    expect(results.fixedRate.targets.map((t) => t.name)).toEqual(["direct", "switchyard"]);
    for (const target of results.fixedRate.targets) {
      expect(target).toMatchObject({ errors: 0 });
      expect(typeof target.p50Ms).toBe("number");
    }
    expect(results.fixedRate).toHaveProperty("addedP99Ms");

    expect(results.memory.connections).toBe(20);
    expect(results.memory.targets.map((t) => t.name)).toEqual(
      results.saturation.targets.filter((t) => t.name !== "direct").map((t) => t.name),
    );
    for (const target of results.memory.targets) {
      expect(target).toMatchObject({ heldConnections: 20 });
      expect(target.heldHeapUsedMb).toBeGreaterThan(0);
    }

    // The high-concurrency round runs where wrk is installed, and is skipped with a reason where not.
    const highConcurrency = results.highConcurrency;
    if ("skipped" in highConcurrency) {
      expect(results.machine.wrk).toBeNull();
      expect(highConcurrency.skipped).toBe("wrk is not installed");
    } else {
      expect(highConcurrency).toMatchObject({ connections: 20, rounds: 1 });
      expect(highConcurrency.targets.map((t) => t.name)).toEqual(
        results.saturation.targets.map((t) => t.name),
      );
      for (const target of highConcurrency.targets) {
        expect(target.requestsPerSecond).toBeGreaterThan(0);
        expect(target).toMatchObject({ timeouts: 0, otherSocketErrors: 0, non2xxOr3xx: 0 });
        expect(typeof target.p99Ms).toBe("number");
        expect(typeof target.cpuMicrosPerRequest).toBe("number");
        expect(target.rssMbAtEnd).toBeGreaterThan(0);
        expect(target.rounds).toHaveLength(1);
      }
      expect(highConcurrency.targets[1]).toMatchObject({
        ratioToSwitchyard: 1,
        ratioToHaproxy: null,
      });
    }
  });
});

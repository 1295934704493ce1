/** What `workers` means on a machine: a number as written, `auto` from the cgroup's quota. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CgroupFiles } from "../../../src/workers/cpu-quota.ts";
import { resolveWorkerCount, workersForQuota } from "../../../src/workers/worker-count.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";

const { defer } = cleanupAfterEach();

/** A cgroup v2 mount whose top holds `cpuMax` (absent: no cpu.max at all). */
async function cgroupWith(cpuMax?: string): Promise<CgroupFiles> {
  const mount = await mkdtemp(join(tmpdir(), "switchyard-cgroup-"));
  defer(() => rm(mount, { recursive: true, force: true }));
  if (cpuMax !== undefined) await writeFile(join(mount, "cpu.max"), cpuMax);
  return { mount, selfCgroup: join(mount, "no-such-file") };
}

describe("workersForQuota", () => {
  it.each<[string, number | undefined, number, number]>([
    ["every core without a quota", undefined, 6, 6],
    ["the quota's CPUs", 2, 8, 2],
    ["a fractional quota rounded up", 1.5, 8, 2],
    ["at least 1 for a quota under one CPU", 0.25, 8, 1],
    ["no more than the cores for a larger quota", 16, 4, 4],
    ["at least 1 when no core is reported", undefined, 0, 1],
  ])("gives %s", (_case, quota, available, expected) => {
    expect(workersForQuota(quota, available)).toBe(expected);
  });
});

describe("resolveWorkerCount", () => {
  it("takes a number as written, even above the cores and whatever the quota", async () => {
    const cgroup = await cgroupWith("100000 100000\n");
    expect(await resolveWorkerCount(1, { cgroup, availableParallelism: 2 })).toBe(1);
    expect(await resolveWorkerCount(8, { cgroup, availableParallelism: 2 })).toBe(8);
  });

  it("counts auto from the cgroup's quota", async () => {
    const cgroup = await cgroupWith("250000 100000\n");
    expect(await resolveWorkerCount("auto", { cgroup, availableParallelism: 8 })).toBe(3);
  });

  it("counts auto as every core without a quota", async () => {
    for (const cpuMax of ["max 100000\n", undefined, "nonsense"]) {
      const cgroup = await cgroupWith(cpuMax);
      expect(await resolveWorkerCount("auto", { cgroup, availableParallelism: 6 })).toBe(6);
    }
  });

  it("counts auto on this machine as at least 1", async () => {
    expect(await resolveWorkerCount("auto")).toBeGreaterThanOrEqual(1);
  });
});

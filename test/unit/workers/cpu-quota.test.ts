/**
 * The CPU quota `workers: auto` counts: cgroup v2's cpu.max and cgroup v1's CFS files, parsed
 * on their own, then read from fixture directories laid out like /sys/fs/cgroup and
 * /proc/self/cgroup in a container, under systemd and on a machine without a quota.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  cgroupPathsOf,
  cpusFromCfs,
  cpusFromCpuMax,
  readCpuQuota,
  selfAndAncestors,
  type CgroupFiles,
} from "../../../src/workers/cpu-quota.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";

const { defer } = cleanupAfterEach();

/** A file's text, or DIRECTORY for a directory in its place (a path that cannot be read). */
const DIRECTORY = Symbol("directory");
type Entry = string | typeof DIRECTORY;

/**
 * A cgroup mount and a /proc/self/cgroup file in a temporary directory: `mount` maps paths
 * below the mount to their content; `self` is /proc/self/cgroup's text (absent: no file).
 */
async function cgroupFixture(mount: Record<string, Entry>, self?: string): Promise<CgroupFiles> {
  const root = await mkdtemp(join(tmpdir(), "switchyard-cgroup-"));
  defer(() => rm(root, { recursive: true, force: true }));
  const files = { mount: join(root, "sys-fs-cgroup"), selfCgroup: join(root, "proc-self-cgroup") };
  await mkdir(files.mount);
  for (const [path, entry] of Object.entries(mount)) {
    const file = join(files.mount, path);
    await mkdir(entry === DIRECTORY ? file : dirname(file), { recursive: true });
    if (entry !== DIRECTORY) await writeFile(file, entry);
  }
  if (self !== undefined) await writeFile(files.selfCgroup, self);
  return files;
}

describe("cpusFromCpuMax (cgroup v2)", () => {
  it.each<[string, number | undefined]>([
    ["max 100000\n", undefined],
    ["200000 100000\n", 2],
    ["150000 100000\n", 1.5],
    ["50000 100000\n", 0.5],
    ["400000 200000", 2],
  ])("reads %j as %s CPUs", (text, cpus) => {
    expect(cpusFromCpuMax(text)).toBe(cpus);
  });

  it.each(["", "max", "200000", "two 100000", "-1 100000", "0 100000", "200000 0", "1 2 3"])(
    "finds no quota in %j",
    (text) => {
      expect(cpusFromCpuMax(text)).toBeUndefined();
    },
  );
});

describe("cpusFromCfs (cgroup v1)", () => {
  it("divides the quota by the period", () => {
    expect(cpusFromCfs("300000\n", "100000\n")).toBe(3);
    expect(cpusFromCfs("25000", "100000")).toBe(0.25);
  });

  it.each<[string, string]>([
    ["-1\n", "100000\n"],
    ["", "100000"],
    ["200000", ""],
    ["lots", "100000"],
    ["200000", "0"],
    ["0", "100000"],
  ])("finds no quota in %j over %j", (quota, period) => {
    expect(cpusFromCfs(quota, period)).toBeUndefined();
  });
});

describe("cgroupPathsOf (/proc/self/cgroup)", () => {
  it("reads the v2 path and the v1 cpu controller's path", () => {
    expect(cgroupPathsOf("0::/system.slice/switchyard.service\n")).toEqual({
      v2: "/system.slice/switchyard.service",
      v1Cpu: undefined,
    });
    const v1 = "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n";
    expect(cgroupPathsOf(v1)).toEqual({ v2: undefined, v1Cpu: "/docker/abc" });
  });

  it("tells the cpu controller from cpuacct and cpuset", () => {
    expect(cgroupPathsOf("3:cpuset:/a\n2:cpuacct:/b\n1:cpu:/c\n0::/d\n")).toEqual({
      v2: "/d",
      v1Cpu: "/c",
    });
  });

  it("skips lines it cannot read", () => {
    expect(cgroupPathsOf("garbage\n0:/no-colon\n\n")).toEqual({ v2: undefined, v1Cpu: undefined });
  });
});

describe("selfAndAncestors", () => {
  it("lists a cgroup and every one above it, nearest first", () => {
    expect(selfAndAncestors("/")).toEqual(["/"]);
    expect(selfAndAncestors("/a/b.service")).toEqual(["/a/b.service", "/a", "/"]);
  });

  it("keeps only the mount's top for a path that climbs out of it", () => {
    expect(selfAndAncestors("/../../user.slice")).toEqual(["/"]);
  });
});

describe("readCpuQuota", () => {
  it("reads a container's cgroup v2 quota at the top of its mount", async () => {
    const files = await cgroupFixture({ "cpu.max": "200000 100000\n" }, "0::/\n");
    expect(await readCpuQuota(files)).toBe(2);
  });

  it("finds none in a cgroup v2 cpu.max of max", async () => {
    const files = await cgroupFixture({ "cpu.max": "max 100000\n" }, "0::/\n");
    expect(await readCpuQuota(files)).toBeUndefined();
  });

  it("reads a systemd unit's quota in its own cgroup below the mount", async () => {
    const files = await cgroupFixture(
      {
        "system.slice/cpu.max": "max 100000\n",
        "system.slice/switchyard.service/cpu.max": "150000 100000\n",
      },
      "0::/system.slice/switchyard.service\n",
    );
    expect(await readCpuQuota(files)).toBe(1.5);
  });

  it("takes the smallest quota of the cgroup and those above it", async () => {
    const files = await cgroupFixture(
      {
        "cpu.max": "800000 100000\n",
        "kubepods/cpu.max": "100000 100000\n",
        "kubepods/pod1/cpu.max": "400000 100000\n",
      },
      "0::/kubepods/pod1\n",
    );
    expect(await readCpuQuota(files)).toBe(1);
  });

  it("reads a cgroup v1 quota from the cpu controller's directory", async () => {
    const files = await cgroupFixture(
      { "cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n" },
      "4:cpu,cpuacct:/docker/abc\n",
    );
    expect(await readCpuQuota(files)).toBe(3);
  });

  it("reads a cgroup v1 quota in the process's own cgroup below the controller", async () => {
    const files = await cgroupFixture(
      {
        "cpu/cpu.cfs_quota_us": "-1\n",
        "cpu/cpu.cfs_period_us": "100000\n",
        "cpu/shop/cpu.cfs_quota_us": "50000\n",
        "cpu/shop/cpu.cfs_period_us": "100000\n",
      },
      "2:cpu:/shop\n",
    );
    expect(await readCpuQuota(files)).toBe(0.5);
  });

  it("finds none in a cgroup v1 quota of -1", async () => {
    const files = await cgroupFixture(
      { "cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n" },
      "1:cpu:/\n0::/\n",
    );
    expect(await readCpuQuota(files)).toBeUndefined();
  });

  it("finds none, without throwing, where there is nothing to read", async () => {
    expect(await readCpuQuota(await cgroupFixture({}))).toBeUndefined();
    const missing = { mount: "/nonexistent/cgroup", selfCgroup: "/nonexistent/self" };
    expect(await readCpuQuota(missing)).toBeUndefined();
  });

  it("skips garbage and unreadable files, and still reads the others", async () => {
    const garbage = await cgroupFixture(
      {
        "cpu.max": "\u0000\u0001 lots of it",
        "cpu/cpu.cfs_quota_us": "x",
        "cpu/cpu.cfs_period_us": "100000",
      },
      "not a cgroup line",
    );
    expect(await readCpuQuota(garbage)).toBeUndefined();
    const unreadable = await cgroupFixture(
      { "cpu.max": DIRECTORY, "shop/cpu.max": "300000 100000\n" },
      "0::/shop\n",
    );
    expect(await readCpuQuota(unreadable)).toBe(3);
  });

  it("reads the top of the mount when /proc/self/cgroup cannot be read", async () => {
    const files = await cgroupFixture({ "cpu.max": "400000 100000\n" });
    expect(await readCpuQuota(files)).toBe(4);
  });
});

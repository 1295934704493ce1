/**
 * The CPUs this process's cgroup lets it use, from the CFS quota: cgroup v2's `cpu.max`, or
 * cgroup v1's `cpu.cfs_quota_us` over `cpu.cfs_period_us`. A container or a systemd unit with
 * a CPU limit still sees every core of the host in os.availableParallelism(), but is throttled
 * to its quota, so `workers: auto` counts the quota.
 *
 * A quota may sit on the process's own cgroup or on any cgroup above it (a systemd slice, a
 * pod), and each one throttles: the smallest one found wins. Files that are missing,
 * unreadable or hold anything unexpected are skipped, so a machine without cgroups, or with
 * a layout not foreseen here, has no quota rather than an error.
 */
import { readFile } from "node:fs/promises";
import { posix } from "node:path";

export interface CgroupFiles {
  /** Where the cgroup filesystem is mounted: v2's one tree, or v1's directory per controller. */
  readonly mount: string;
  /** This process's cgroups, one `ID:CONTROLLERS:PATH` line each. */
  readonly selfCgroup: string;
}

export const SYSTEM_CGROUP_FILES: CgroupFiles = {
  mount: "/sys/fs/cgroup",
  selfCgroup: "/proc/self/cgroup",
};

/** Where this process sits in each hierarchy, as /proc/self/cgroup names it. */
export interface CgroupPaths {
  /** The `0::PATH` line (cgroup v2). */
  readonly v2: string | undefined;
  /** The line whose controllers include `cpu` (cgroup v1). */
  readonly v1Cpu: string | undefined;
}

/** A CPU quota in CPUs (1.5 = one and a half), or undefined for no quota or unreadable text. */
type Cpus = number | undefined;

/** cgroup v2 `cpu.max`: `max 100000` is no quota; `200000 100000` is 2 CPUs. */
export function cpusFromCpuMax(text: string): Cpus {
  const found = /^(max|\d+) (\d+)$/.exec(text.trim());
  if (found === null || found[1] === "max") return undefined;
  return cpusFrom(Number(found[1]), Number(found[2]));
}

/** cgroup v1: `cpu.cfs_quota_us` (-1: no quota) over `cpu.cfs_period_us`. */
export function cpusFromCfs(quotaText: string, periodText: string): Cpus {
  const quota = quotaText.trim();
  const period = periodText.trim();
  if (!/^\d+$/.test(quota) || !/^\d+$/.test(period)) return undefined;
  return cpusFrom(Number(quota), Number(period));
}

function cpusFrom(quotaUs: number, periodUs: number): Cpus {
  return quotaUs > 0 && periodUs > 0 ? quotaUs / periodUs : undefined;
}

/** /proc/self/cgroup's text -> this process's cgroup paths (undefined where a line is absent). */
export function cgroupPathsOf(selfCgroupText: string): CgroupPaths {
  const lines = selfCgroupText.split("\n").flatMap(parseCgroupLine);
  return {
    v2: lines.find((line) => line.id === "0" && line.controllers.length === 0)?.path,
    v1Cpu: lines.find((line) => line.controllers.includes("cpu"))?.path,
  };
}

/** `4:cpu,cpuacct:/docker/abc` -> its id, controllers and path; nothing for another line. */
function parseCgroupLine(line: string): { id: string; controllers: string[]; path: string }[] {
  const found = /^(\d+):([^:]*):(\/.*)$/.exec(line.trim());
  if (found === null) return [];
  const [, id = "", controllers = "", path = "/"] = found;
  return [{ id, controllers: controllers === "" ? [] : controllers.split(","), path }];
}

/**
 * `/a/b` -> `/a/b`, `/a`, `/`: a cgroup and every one above it. A path that climbs out of the
 * mount (`/../x`, seen from outside a cgroup namespace) maps to nothing in it: only `/` then.
 */
export function selfAndAncestors(path: string): string[] {
  const parts = path.split("/").filter((part) => part !== "");
  if (parts.some((part) => part === ".." || part === ".")) return ["/"];
  const dirs: string[] = [];
  for (let depth = parts.length; depth >= 0; depth--) {
    dirs.push(`/${parts.slice(0, depth).join("/")}`);
  }
  return dirs;
}

/**
 * The smallest CPU quota over this process's cgroups and those above them, in CPUs; undefined
 * when none is set or none can be read. Never throws.
 */
export async function readCpuQuota(files: CgroupFiles = SYSTEM_CGROUP_FILES): Promise<Cpus> {
  const paths = cgroupPathsOf((await readText(files.selfCgroup)) ?? "");
  const v2Dirs = selfAndAncestors(paths.v2 ?? "/").map((dir) => posix.join(files.mount, dir));
  const v1Dirs = selfAndAncestors(paths.v1Cpu ?? "/").map((dir) =>
    posix.join(files.mount, "cpu", dir),
  );
  const quotas = await Promise.all([...v2Dirs.map(readV2Quota), ...v1Dirs.map(readV1Quota)]);
  return smallest(quotas);
}

async function readV2Quota(dir: string): Promise<Cpus> {
  const text = await readText(posix.join(dir, "cpu.max"));
  return text === undefined ? undefined : cpusFromCpuMax(text);
}

async function readV1Quota(dir: string): Promise<Cpus> {
  const [quota, period] = await Promise.all([
    readText(posix.join(dir, "cpu.cfs_quota_us")),
    readText(posix.join(dir, "cpu.cfs_period_us")),
  ]);
  return quota === undefined || period === undefined ? undefined : cpusFromCfs(quota, period);
}

/** The file's text, or undefined when it cannot be read (missing, no permission, a directory). */
async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

function smallest(quotas: readonly Cpus[]): Cpus {
  const found = quotas.filter((quota): quota is number => quota !== undefined);
  return found.length === 0 ? undefined : Math.min(...found);
}

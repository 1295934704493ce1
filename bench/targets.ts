/**
 * Starting what the bench measures: the backend, and each target in front of it (the backend
 * itself as "direct", switchyard, switchyard in fleet mode with its own redis-server,
 * switchyard with workers, the baseline proxies). A target whose optional binary is missing
 * is skipped with a reason instead of failing the run.
 */
import { pathToFileURL } from "node:url";
import { haproxyVersion, writeHaproxyConfig } from "./baselines/haproxy.ts";
import { nginxVersion, writeNginxBackendConfig, writeNginxProxyConfig } from "./baselines/nginx.ts";
import type { BenchBuild } from "./build.ts";
import type { ChildProcesses, StartedProcess } from "./child-processes.ts";
import type { CpuLayout } from "./cpu-layout.ts";
import { checkFleet, type FleetCheck } from "./fleet-check.ts";
import { freePort, LOOPBACK, sleep, waitForOk } from "./loopback.ts";
import { requestMemorySample, type MemorySample } from "./memory-sample.ts";
import type { BackendKind, TargetName } from "./options.ts";
import type { MeasuredProcesses } from "./process-tree.ts";
import { redisServerVersion, startRedisServer } from "./redis-server.ts";
import {
  BENCH_FLEET_NAME,
  BENCH_FLEET_REPLICA,
  BENCH_WORKERS,
  fleetConfigWriter,
  workersConfigWriter,
  writeSwitchyardConfig,
  type SwitchyardPorts,
} from "./switchyard-config.ts";
import { waitForServingWorkers, workersOutsideTree } from "./workers-check.ts";

const READY_TIMEOUT_MS = 20_000;

export interface BenchContext {
  children: ChildProcesses;
  layout: CpuLayout;
  /** Temp dir for the build, generated configs, pid files and logs. */
  dir: string;
  /** switchyard and the Node scripts, built as they ship. */
  build: BenchBuild;
}

export interface RunningServer {
  name: string;
  url: string;
  port: number;
  /** The processes doing the work, read for RSS and CPU time. */
  measured: MeasuredProcesses;
  /** On its core of the layout; false when it may use every core (the workers target). */
  isPinned: boolean;
  started: StartedProcess;
  isProxy: boolean;
  /** Single-process switchyard only: RSS and heap after a full GC, from inside the process. */
  sampleMemory: (() => Promise<MemorySample>) | undefined;
  /** switchyard-fleet only: its fleet state and what it pushed to Redis (fleet-check.ts). */
  checkFleet: (() => Promise<FleetCheck>) | undefined;
}

export interface SkippedTarget {
  name: TargetName;
  reason: string;
}

export async function startBackend(kind: BackendKind, ctx: BenchContext): Promise<RunningServer> {
  const port = await freePort();
  if (kind === "nginx") {
    if (nginxVersion() === undefined) throw new Error("--backend nginx: nginx is not installed");
    const command = writeNginxBackendConfig({ name: "backend", dir: ctx.dir, port });
    return ready(ctx, "backend", port, false, command, "load");
  }
  const command: [string, string[]] = [
    process.execPath,
    [ctx.build.script("backend.ts"), `${port}`],
  ];
  return ready(ctx, "backend", port, false, command, "load");
}

/** Starts `name` in front of `backend`, or says why it cannot run here. */
export async function startTarget(
  name: TargetName,
  backend: RunningServer,
  ctx: BenchContext,
): Promise<RunningServer | SkippedTarget> {
  const backendOrigin = `http://${LOOPBACK}:${backend.port}`;
  switch (name) {
    case "direct":
      return { ...backend, name: "direct" };
    case "switchyard":
      return startSwitchyard(backend.port, ctx);
    case "switchyard-fleet":
      return startSwitchyardFleet(backend.port, ctx);
    case "switchyard-workers":
      return startSwitchyardWorkers(backend.port, ctx);
    case "undici-forwarder":
    case "http-proxy-3": {
      const port = await freePort();
      const script = ctx.build.script(`baselines/${name}.ts`);
      return ready(ctx, name, port, true, [process.execPath, [script, `${port}`, backendOrigin]]);
    }
    case "nginx":
      return startNginxProxy(backend.port, ctx);
    case "haproxy":
      return startHaproxy(backend.port, ctx);
  }
}

/**
 * switchyard with the same config plus a `fleet` block, and the redis-server it joins (on the
 * load core, like the backend), or why it cannot run. One replica: it leads the fleet too, so
 * besides heartbeats, statistics pushes and following the shared state it also reads the
 * fleet's statistics back each second, all the background work fleet mode adds.
 */
export async function startSwitchyardFleet(
  backendPort: number,
  ctx: BenchContext,
): Promise<RunningServer | SkippedTarget> {
  const redisVersion = redisServerVersion();
  if (redisVersion === undefined) {
    return { name: "switchyard-fleet", reason: "redis-server is not installed" };
  }
  const redis = await startRedisServer(ctx.children, ctx.layout, ctx.dir);
  const server = await startSwitchyard(backendPort, ctx, {
    name: "switchyard-fleet",
    writeConfig: fleetConfigWriter(redis.url),
  });
  const adminUrl = server.adminUrl;
  const fleetTarget = {
    adminUrl,
    redisUrl: redis.url,
    redisVersion,
    fleetName: BENCH_FLEET_NAME,
    replica: BENCH_FLEET_REPLICA,
  };
  // The lease is taken within a second of the start; measure only once this replica leads.
  await waitForLeader(adminUrl, () => server.started.output());
  return { ...server, checkFleet: () => checkFleet(fleetTarget) };
}

async function waitForLeader(adminUrl: string, describe: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const response = await fetch(`${adminUrl}/api/v1/status`);
    const status = (await response.json()) as { fleet?: { isLeader?: unknown } | null };
    if (status.fleet?.isLeader === true) return;
    await sleep(100);
  }
  throw new Error(`switchyard-fleet did not become the fleet's leader. ${describe()}`.trim());
}

/**
 * switchyard with the same config plus `workers: 2`: a primary and two workers. Two workers
 * cannot share the one proxy core, so it runs unpinned (each of its processes may use every
 * core, next to the load generator and backend) and its CPU time and RSS are summed over the
 * primary's process tree. Its rounds start once every worker serves and /proc shows each of
 * them below the primary, or it is skipped.
 */
export async function startSwitchyardWorkers(
  backendPort: number,
  ctx: BenchContext,
): Promise<RunningServer | SkippedTarget> {
  const name = "switchyard-workers";
  const server = await startSwitchyard(backendPort, ctx, {
    name,
    writeConfig: workersConfigWriter(BENCH_WORKERS),
    processes: "workers",
  });
  const describe = (): string => server.started.output();
  const pids = await waitForServingWorkers(
    server.adminUrl,
    BENCH_WORKERS,
    READY_TIMEOUT_MS,
    describe,
  );
  const missing = workersOutsideTree(server.measured.pid, pids);
  if (missing.length === 0) return server;
  await server.started.stop();
  return {
    name,
    reason:
      `/proc/${server.measured.pid}/task/*/children does not list its workers ` +
      `(pids ${missing.join(", ")}), so their CPU time could not be read`,
  };
}

/** nginx as a proxy in front of `backendPort` (baselines/nginx.ts), or why it cannot run. */
export async function startNginxProxy(
  backendPort: number,
  ctx: BenchContext,
): Promise<RunningServer | SkippedTarget> {
  if (nginxVersion() === undefined) return { name: "nginx", reason: "nginx is not installed" };
  const port = await freePort();
  const command = writeNginxProxyConfig({ name: "proxy", dir: ctx.dir, port }, backendPort);
  return ready(ctx, "nginx", port, true, command);
}

/** HAProxy in front of `backendPort` (baselines/haproxy.ts), or why it cannot run. */
export async function startHaproxy(
  backendPort: number,
  ctx: BenchContext,
): Promise<RunningServer | SkippedTarget> {
  if (haproxyVersion() === undefined)
    return { name: "haproxy", reason: "haproxy is not installed" };
  const port = await freePort();
  return ready(ctx, "haproxy", port, true, writeHaproxyConfig(ctx.dir, port, backendPort));
}

export interface SwitchyardVariant {
  name: string;
  /** Writes the config into the dir and returns its path. */
  writeConfig: (dir: string, ports: SwitchyardPorts) => string;
  /**
   * "single": one process, alone on the proxy core, with the bench's memory probe.
   * "workers": a primary and its workers, unpinned, measured as a process tree, without the
   * probe (one process's heap is not the target's).
   */
  processes: "single" | "workers";
}

const PLAIN_SWITCHYARD: SwitchyardVariant = {
  name: "switchyard",
  writeConfig: writeSwitchyardConfig,
  processes: "single",
};

/** The built switchyard in front of `backendPort`: the bench's config unless told otherwise. */
export async function startSwitchyard(
  backendPort: number,
  ctx: BenchContext,
  changes: Partial<SwitchyardVariant> = {},
): Promise<RunningServer & { adminUrl: string }> {
  const variant = { ...PLAIN_SWITCHYARD, ...changes };
  const isSingle = variant.processes === "single";
  const proxyPort = await freePort();
  const adminPort = await freePort();
  const config = variant.writeConfig(ctx.dir, { proxyPort, adminPort, backendPort });
  const started = ctx.children.start(variant.name, switchyardCommand(ctx, config, isSingle), {
    env: { SWITCHYARD_LOG_LEVEL: "warn" },
    hasIpc: isSingle,
  });
  const describe = (): string => started.output();
  const adminUrl = `http://${LOOPBACK}:${adminPort}`;
  // Ready means the first health round is done, so no request meets an unknown endpoint (in
  // fleet mode also that the fleet's shared state was read).
  await waitForOk(`${adminUrl}/readyz`, READY_TIMEOUT_MS, describe);
  const url = `http://${LOOPBACK}:${proxyPort}/`;
  await waitForOk(url, READY_TIMEOUT_MS, describe);
  return {
    name: variant.name,
    url,
    port: proxyPort,
    measured: { pid: started.pid, includesDescendants: !isSingle },
    isPinned: isSingle && ctx.layout.isPinned,
    started,
    isProxy: true,
    sampleMemory: isSingle ? () => requestMemorySample(started.child) : undefined,
    checkFleet: undefined,
    adminUrl,
  };
}

/**
 * `switchyard serve` with the flags of the shipped command. A single process is pinned to the
 * proxy core and loads the memory probe (memory-probe.ts). A primary with workers runs the
 * shipped command as it is, unpinned: its workers inherit its flags, and would load the probe
 * too.
 */
function switchyardCommand(
  ctx: BenchContext,
  config: string,
  isSingle: boolean,
): [string, string[]] {
  const serve = [ctx.build.switchyardMain, "serve", "--config", config];
  const nodeFlags = ctx.build.switchyardNodeFlags;
  if (!isSingle) return [process.execPath, [...nodeFlags, ...serve]];
  const probe = [
    "--expose-gc",
    "--import",
    pathToFileURL(ctx.build.script("memory-probe.ts")).href,
  ];
  return ctx.layout.wrap("proxy", process.execPath, [...nodeFlags, ...probe, ...serve]);
}

async function ready(
  ctx: BenchContext,
  name: string,
  port: number,
  isProxy: boolean,
  command: [string, string[]],
  role: "load" | "proxy" = "proxy",
): Promise<RunningServer> {
  const started = ctx.children.start(name, ctx.layout.wrap(role, ...command));
  const url = `http://${LOOPBACK}:${port}/`;
  await waitForOk(url, READY_TIMEOUT_MS, () => `${name}: ${started.output()}`);
  return {
    name,
    url,
    port,
    measured: { pid: started.pid, includesDescendants: false },
    isPinned: ctx.layout.isPinned,
    started,
    isProxy,
    sampleMemory: undefined,
    checkFleet: undefined,
  };
}

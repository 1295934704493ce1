/**
 * `switchyard serve` with `workers: N` as a real process tree (SPEC 11): the primary and its
 * node:cluster workers, over two echo backends `stable` and `canary` on route `web`. Requests
 * go on fresh connections, so the kernel spreads them over the workers' listeners.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import type { StatusView } from "../../src/control/control-api.ts";
import { getStatus, waitForStatusOf } from "./admin-calls.ts";
import type { Cleanups } from "./cleanups.ts";
import { startEchoBackend, type EchoBackend } from "./echo-backend.ts";
import { configText } from "./file-switchyard.ts";
import { get } from "./http-client.ts";
import { startSwitchyardProcess, type ServingSwitchyard } from "./switchyard-process.ts";

/** Generous: a worker's replacement is a whole Node process starting on a busy machine. */
export const WORKERS_DEADLINE_MS = 30_000;
const POLL_MS = 100;

export interface WorkerSwitchyard extends ServingSwitchyard {
  readonly configFile: string;
  readonly stable: EchoBackend;
  readonly canary: EchoBackend;
  status(): Promise<StatusView>;
}

type Upstreams = Record<string, Record<string, unknown>>;

/**
 * Starts serve with `workers` over upstreams `stable` and `canary` (split 100/0 on route `web`);
 * `extra` adds top-level keys, `upstreamsOf` changes the upstreams, `route` adds to the route.
 */
export async function startWorkerSwitchyard(
  cleanups: Cleanups,
  workers: number | "auto",
  extra: Record<string, unknown> = {},
  upstreamsOf: (upstreams: Upstreams) => Upstreams = (upstreams) => upstreams,
  route: Record<string, unknown> = {},
): Promise<WorkerSwitchyard> {
  const stable = cleanups.track(await startEchoBackend({ name: "stable" }));
  const canary = cleanups.track(await startEchoBackend({ name: "canary" }));
  const dir = await mkdtemp(join(tmpdir(), "switchyard-workers-"));
  cleanups.defer(() => rm(dir, { recursive: true, force: true }));
  const configFile = join(dir, "switchyard.yaml");
  const raw = {
    workers,
    upstreams: upstreamsOf({
      stable: { endpoints: [stable.url] },
      canary: { endpoints: [canary.url] },
    }),
    routes: [{ name: "web", split: { stable: 100, canary: 0 }, ...route }],
    ...extra,
  };
  await writeFile(configFile, configText(raw));
  const serving = await startSwitchyardProcess(configFile, {
    startTimeoutMs: WORKERS_DEADLINE_MS,
    lifetimeMs: 4 * WORKERS_DEADLINE_MS,
  });
  cleanups.defer(() => {
    serving.child.kill("SIGKILL");
  });
  return Object.assign(serving, {
    configFile,
    stable,
    canary,
    status: () => getStatus(serving.adminUrl),
  });
}

/** Which backend answered each of `count` requests, each on a connection of its own. */
export async function answeredOnFreshConnections(
  proxyUrl: string,
  count: number,
): Promise<Record<string, number>> {
  const tally: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const agent = new Agent({ pipelining: 0 });
    try {
      const answer = await get(`${proxyUrl}/`, { dispatcher: agent });
      const name = String(answer.headers["x-backend-name"] ?? answer.status);
      tally[name] = (tally[name] ?? 0) + 1;
    } finally {
      await agent.close();
    }
  }
  return tally;
}

/** Polls status until `check` holds. */
export function waitForWorkers(
  running: WorkerSwitchyard,
  check: (status: StatusView) => boolean,
  description: string,
): Promise<StatusView> {
  return waitForStatusOf(running.adminUrl, check, {
    timeoutMs: WORKERS_DEADLINE_MS,
    intervalMs: POLL_MS,
    description,
  });
}

/** Whether a process with this pid exists (signal 0 probes without signalling). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `workers: 2` (SPEC 11) with a real primary, real node:cluster workers and real backends: a
 * change is in force on every worker, /metrics sums what every worker served (also across a
 * worker's death), a dead worker is replaced and serves the current split, SIGHUP reloads once
 * in the primary, and SIGTERM ends every process with code 0. Requests go on fresh
 * connections, which the kernel spreads over the workers. Nothing here times anything.
 */
import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { adminCall, setWeights } from "../support/admin-calls.ts";
import { cleanupAfterEach } from "../support/cleanups.ts";
import { configText } from "../support/file-switchyard.ts";
import { refusingOrigin, waitFor } from "../support/ports.ts";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.ts";
import {
  answeredOnFreshConnections,
  isRunning,
  startWorkerSwitchyard,
  waitForWorkers,
  WORKERS_DEADLINE_MS,
  type WorkerSwitchyard,
} from "../support/worker-switchyard.ts";

const cleanups = cleanupAfterEach();

/** Fresh connections per check: all landing on one of two workers has odds of 2^-39. */
const REQUESTS = 40;

async function scrape(running: WorkerSwitchyard) {
  return parsePrometheusText((await adminCall(running.adminUrl, "GET", "/metrics")).body);
}

/** switchyard_requests_total of route web, upstream, code 200, once it reaches `expected`. */
async function waitForRequestsTotal(
  running: WorkerSwitchyard,
  upstream: string,
  expected: number,
): Promise<void> {
  let seen: number | undefined;
  await waitFor(
    async () => {
      seen = sampleValue(await scrape(running), "switchyard_requests_total", {
        route: "web",
        upstream,
        code: "200",
      });
      return seen === expected;
    },
    {
      timeoutMs: WORKERS_DEADLINE_MS,
      intervalMs: 200,
      description: `requests_total{upstream="${upstream}"} to reach ${String(expected)}`,
    },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; last seen ${String(seen)}`);
  });
}

function workerPids(status: { workers: { pid: number }[] }): number[] {
  return status.workers.map((worker) => worker.pid);
}

describe("workers: 2", () => {
  it("lists two workers, each its own process, and serves through both", async () => {
    const running = await startWorkerSwitchyard(cleanups, 2);
    const status = await running.status();
    expect(status.workers.map(({ id, restarts, state }) => ({ id, restarts, state }))).toEqual([
      { id: 1, restarts: 0, state: "serving" },
      { id: 2, restarts: 0, state: "serving" },
    ]);
    const pids = workerPids(status);
    expect(new Set([...pids, running.pid]).size).toBe(3);
    expect(pids.every(isRunning)).toBe(true);
    expect(status.upstreams.map((u) => [u.name, u.breaker, u.breakerWorkers])).toEqual([
      ["stable", "closed", 2],
      ["canary", "closed", 2],
    ]);
    expect(await answeredOnFreshConnections(running.proxyUrl, REQUESTS)).toEqual({
      stable: REQUESTS,
    });
  });

  it("puts a weight change in force on every worker by the time the admin call answers", async () => {
    const running = await startWorkerSwitchyard(cleanups, 2);
    await setWeights(running.adminUrl, "web", { stable: 0, canary: 100 });
    expect(await answeredOnFreshConnections(running.proxyUrl, REQUESTS)).toEqual({
      canary: REQUESTS,
    });
    await setWeights(running.adminUrl, "web", { stable: 100, canary: 0 });
    expect(await answeredOnFreshConnections(running.proxyUrl, REQUESTS)).toEqual({
      stable: REQUESTS,
    });
  });

  it("sums every worker's requests in /metrics, and keeps a killed worker's counts", async () => {
    const running = await startWorkerSwitchyard(cleanups, 2);
    await answeredOnFreshConnections(running.proxyUrl, REQUESTS);
    await waitForRequestsTotal(running, "stable", REQUESTS);

    const [victim] = workerPids(await running.status());
    process.kill(victim ?? 0, "SIGKILL");
    await waitForWorkers(
      running,
      (status) => status.workers.every((w) => w.state === "serving" && w.pid !== victim),
      "the killed worker replaced and serving",
    );
    await answeredOnFreshConnections(running.proxyUrl, REQUESTS);
    await waitForRequestsTotal(running, "stable", 2 * REQUESTS);
    const metrics = await scrape(running);
    expect(sampleValue(metrics, "switchyard_worker_restarts_total", {})).toBe(1);
  });

  it("replaces a killed worker, which serves the current split", async () => {
    const running = await startWorkerSwitchyard(cleanups, 2);
    await setWeights(running.adminUrl, "web", { stable: 0, canary: 100 });
    const before = await running.status();
    const [first, second] = workerPids(before);
    process.kill(first ?? 0, "SIGKILL");
    const after = await waitForWorkers(
      running,
      (status) => status.workers[0]?.state === "serving" && status.workers[0].pid !== first,
      "worker 1 replaced and serving",
    );
    expect(after.workers.map(({ id, restarts }) => ({ id, restarts }))).toEqual([
      { id: 1, restarts: 1 },
      { id: 2, restarts: 0 },
    ]);
    // The other worker was not touched.
    expect(after.workers[1]?.pid).toBe(second);
    expect(await answeredOnFreshConnections(running.proxyUrl, REQUESTS)).toEqual({
      canary: REQUESTS,
    });
    const events = (await adminCall(running.adminUrl, "GET", "/api/v1/events")).json as {
      events: { type: string; worker?: number }[];
    };
    expect(events.events.filter((e) => e.type === "worker.exited")).toMatchObject([{ worker: 1 }]);
  });

  it("logs and shows a worker that keeps dying young, and backs off between its replacements", async () => {
    const running = await startWorkerSwitchyard(cleanups, 2);
    for (let kill = 1; kill <= 3; kill++) {
      const victim = (await running.status()).workers[0]?.pid ?? 0;
      process.kill(victim, "SIGKILL");
      await waitForWorkers(
        running,
        (status) => status.workers[0]?.state === "serving" && status.workers[0].pid !== victim,
        `worker 1 replaced after kill ${String(kill)}`,
      );
    }
    const status = await running.status();
    expect(status.workers.map((w) => w.restarts)).toEqual([3, 0]);
    const crashLoop = running.logs().filter((line) => line.msg.startsWith("worker crash loop"));
    expect(crashLoop).toHaveLength(1);
    expect(crashLoop[0]).toMatchObject({ level: "error", worker: 1, youngDeaths: 3 });
    const delays = running
      .logs()
      .filter((line) => line.worker === 1 && typeof line.restartInMs === "number")
      .map((line) => line.restartInMs);
    expect(delays).toEqual([200, 400, 800]);
  });

  it("reloads once, in the primary, on SIGHUP; a worker ignores a SIGHUP of its own", async () => {
    const running = await startWorkerSwitchyard(cleanups, 2);
    const pids = workerPids(await running.status());
    for (const pid of pids) process.kill(pid, "SIGHUP");
    await writeFile(
      running.configFile,
      configText({
        workers: 2,
        upstreams: {
          stable: { endpoints: [running.stable.url] },
          canary: { endpoints: [running.canary.url] },
        },
        routes: [{ name: "web", split: { stable: 0, canary: 100 } }],
      }),
    );
    running.signal("SIGHUP");
    await running.waitForLog((line) => line.msg === "config reloaded", WORKERS_DEADLINE_MS);
    await waitForWorkers(
      running,
      (status) => status.routes[0]?.split.canary === 100,
      "the reloaded split in force",
    );
    expect(await answeredOnFreshConnections(running.proxyUrl, REQUESTS)).toEqual({
      canary: REQUESTS,
    });
    // The file watcher may see the write first; either way the config loads once, in the primary.
    const logs = running.logs();
    expect(logs.filter((line) => line.msg === "config reloaded")).toHaveLength(1);
    expect(logs.filter((line) => line.msg.startsWith("SIGHUP received"))).toHaveLength(1);
    expect(workerPids(await running.status())).toEqual(pids);
  });

  it("runs a breaker per worker, and shows the worst state with how many workers are in it", async () => {
    const refusing = await refusingOrigin();
    const running = await startWorkerSwitchyard(cleanups, 2, {}, (upstreams) => ({
      ...upstreams,
      canary: { endpoints: [refusing], breaker: { volumeThreshold: 2, resetTimeout: "5m" } },
    }));
    await setWeights(running.adminUrl, "web", { stable: 0, canary: 100 });
    await answeredOnFreshConnections(running.proxyUrl, REQUESTS);
    const status = await waitForWorkers(
      running,
      (view) => view.upstreams.find((u) => u.name === "canary")?.breaker === "open",
      "the canary's breaker open in a worker",
    );
    const canary = status.upstreams.find((u) => u.name === "canary");
    expect(canary?.breakerWorkers).toBeGreaterThanOrEqual(1);
    expect(canary?.breakerWorkers).toBeLessThanOrEqual(2);
    // /metrics reads the workers' reports of each second.
    await waitFor(
      async () =>
        sampleValue(await scrape(running), "switchyard_breaker_state", { upstream: "canary" }) ===
        2,
      {
        timeoutMs: WORKERS_DEADLINE_MS,
        intervalMs: 200,
        description: "breaker_state 2 in /metrics",
      },
    );
    const events = (await adminCall(running.adminUrl, "GET", "/api/v1/events")).json as {
      events: { type: string; upstream?: string; state?: string; worker?: number }[];
    };
    const opened = events.events.filter((e) => e.type === "breaker.state" && e.state === "open");
    // Each worker's breaker opened on its own: one event each, naming the worker.
    expect(opened.length).toBeGreaterThanOrEqual(canary?.breakerWorkers ?? 1);
    expect(new Set(opened.map((e) => e.worker)).size).toBe(opened.length);
    expect(opened.every((e) => e.upstream === "canary" && [1, 2].includes(e.worker ?? 0))).toBe(
      true,
    );
  });

  it("judges a rollout on every worker's requests", async () => {
    // One step to 100%: the one decision, an interval after the start, counts the canary's
    // attempts, which are every request sent (about half through each worker).
    const running = await startWorkerSwitchyard(cleanups, 2, {}, (upstreams) => upstreams, {
      rollout: {
        target: "canary",
        baseline: "stable",
        steps: [100],
        approvalBefore: [],
        interval: "15s",
        minRequests: 10,
        checks: [{ metric: "errorRate", max: 0.5, action: "rollback" }],
      },
    });
    expect(await answeredOnFreshConnections(running.proxyUrl, REQUESTS)).toEqual({
      canary: REQUESTS,
    });
    const decision = await waitFor(
      async () => {
        const answer = await adminCall(running.adminUrl, "GET", "/api/v1/events");
        const { events } = answer.json as {
          events: { type: string; metrics?: { requests: number } }[];
        };
        return events.find((event) => event.type === "rollout.decision");
      },
      { timeoutMs: 2 * WORKERS_DEADLINE_MS, intervalMs: 200, description: "a rollout decision" },
    );
    expect(decision.metrics?.requests).toBe(REQUESTS);
  });

  it("drains every worker on SIGTERM and exits 0 with nothing left running", async () => {
    const running = await startWorkerSwitchyard(cleanups, 2, { server: { drainDelay: "200ms" } });
    const pids = workerPids(await running.status());
    running.signal("SIGTERM");
    expect((await running.exited).code).toBe(0);
    expect(pids.filter(isRunning)).toEqual([]);
    const logs = running.logs();
    expect(logs.filter((line) => line.msg === "drained").map((line) => line.worker)).toEqual(
      expect.arrayContaining([1, 2]),
    );
  });

  it("takes its workers with it when the primary is killed", async () => {
    const running = await startWorkerSwitchyard(cleanups, 2);
    const pids = workerPids(await running.status());
    running.child.kill("SIGKILL");
    await running.exited;
    await waitFor(() => pids.every((pid) => !isRunning(pid)), {
      timeoutMs: WORKERS_DEADLINE_MS,
      intervalMs: 100,
      description: "every worker gone after its primary",
    });
  });
});

/**
 * switchyard's bench config: what a migration in progress looks like. Two upstreams split
 * 90/10 (both on the bench backend), a header rule checked on every request, active health
 * checks every 5 s; breakers, outlier detection and metrics are always on. The fleet target
 * runs the same config with a `fleet` block added, the workers target with `workers: 2`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface SwitchyardPorts {
  proxyPort: number;
  adminPort: number;
  backendPort: number;
}

/** Writes the config into `dir` and returns its path. */
export function writeSwitchyardConfig(dir: string, ports: SwitchyardPorts): string {
  const file = join(dir, "switchyard.yaml");
  writeFileSync(file, [...benchConfigLines(ports), ""].join("\n"));
  return file;
}

/** The bench fleet's name: its Redis keys start with `switchyard:bench:`. */
export const BENCH_FLEET_NAME = "bench";
export const BENCH_FLEET_REPLICA = "bench-1";

/**
 * The same config plus a `fleet` block on `redisUrl` (SPEC 10): one replica, which is then
 * the leader too, so it heartbeats, pushes its window statistics every second, follows the
 * shared state and reads the fleet's statistics back, all next to the same request path.
 */
export function fleetConfigWriter(
  redisUrl: string,
): (dir: string, ports: SwitchyardPorts) => string {
  return (dir, ports) => {
    const file = join(dir, "switchyard-fleet.yaml");
    writeFileSync(
      file,
      [
        ...benchConfigLines(ports),
        "fleet:",
        `  redis: ${redisUrl}`,
        `  name: ${BENCH_FLEET_NAME}`,
        `  replica: ${BENCH_FLEET_REPLICA}`,
        "  leaseTtl: 10s",
        "  syncTimeout: 10s",
        "",
      ].join("\n"),
    );
    return file;
  };
}

/** How many workers the switchyard-workers target runs: one per core of a 2-core machine. */
export const BENCH_WORKERS = 2;

/**
 * The same config plus `workers: count` (SPEC 11): a primary (admin API, health checks) and
 * `count` workers serving the proxy port together.
 */
export function workersConfigWriter(
  count: number,
): (dir: string, ports: SwitchyardPorts) => string {
  return (dir, ports) => {
    const file = join(dir, "switchyard-workers.yaml");
    writeFileSync(file, [...benchConfigLines(ports), `workers: ${count}`, ""].join("\n"));
    return file;
  };
}

function benchConfigLines(ports: SwitchyardPorts): string[] {
  const backend = `http://127.0.0.1:${ports.backendPort}`;
  const upstream = (name: string): string[] => [
    `  ${name}:`,
    `    endpoints: [${backend}]`,
    "    healthCheck: { path: /health, interval: 5s }",
  ];
  return [
    `listen: { proxy: 127.0.0.1:${ports.proxyPort}, admin: 127.0.0.1:${ports.adminPort} }`,
    "upstreams:",
    ...upstream("stable"),
    ...upstream("canary"),
    "routes:",
    "  - name: web",
    "    split: { stable: 90, canary: 10 }",
    "    rules:",
    "      - { match: { headers: { x-canary: always } }, to: canary }",
  ];
}

/**
 * One upstream on `backendPort` and one route to it, nothing else: for runs that judge what
 * reaches the backend (the smuggling corpus). No health checks, so every request the backend
 * sees is one a client sent; no retries, so none is sent twice; breaker and outlier detection
 * set so they never eject the only endpoint and answer for it.
 */
export function writeSingleUpstreamConfig(dir: string, ports: SwitchyardPorts): string {
  const file = join(dir, "switchyard-single.yaml");
  writeFileSync(
    file,
    [
      `listen: { proxy: 127.0.0.1:${ports.proxyPort}, admin: 127.0.0.1:${ports.adminPort} }`,
      "upstreams:",
      "  origin:",
      `    endpoints: [http://127.0.0.1:${ports.backendPort}]`,
      "    breaker: { volumeThreshold: 1000000 }",
      "    outlierDetection: { consecutiveFailures: 1000000 }",
      "routes:",
      "  - name: all",
      "    split: { origin: 100 }",
      "    retries: { attempts: 0 }",
      "",
    ].join("\n"),
  );
  return file;
}

/** The `npm run bench` flags, parsed and checked; bench/README.md lists them. */
import { parseArgs } from "node:util";
import { WRK_THREADS } from "./wrk-run.ts";

export const TARGET_NAMES = [
  "direct",
  "switchyard",
  "switchyard-fleet",
  "switchyard-workers",
  "undici-forwarder",
  "http-proxy-3",
  "nginx",
  "haproxy",
] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export const BACKEND_KINDS = ["node", "nginx"] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export interface BenchOptions {
  rounds: number;
  durationSeconds: number;
  connections: number;
  targets: readonly TargetName[];
  /** undefined: nginx when it is installed, else node (resolved by the run). */
  backend: BackendKind | undefined;
  isFixedRate: boolean;
  /** Requests per second for the fixed-rate run; undefined: half of switchyard's saturation. */
  fixedRatePerSecond: number | undefined;
  isMemory: boolean;
  memoryConnections: number;
  isHighConcurrency: boolean;
  /** wrk's connections in the high-concurrency round. */
  highConcurrencyConnections: number;
  highConcurrencyDurationSeconds: number;
  /** Soak mode when set: only the soak runs, for this long. */
  soakSeconds: number | undefined;
  /** Where latest.{md,json} (or soak.{md,json}) go. */
  outDir: string;
}

export const USAGE = `npm run bench -- [flags]
  --rounds N            alternating saturation rounds (default 3)
  --duration S          seconds per round and per fixed-rate run (default 10)
  --connections N       keep-alive connections of the load generator (default 50)
  --only a,b            targets to run: ${TARGET_NAMES.join(", ")} (default all)
  --backend KIND        nginx or node (default: nginx when installed, else node)
  --rate N              fixed-rate requests/s (default: half of switchyard's saturation)
  --no-fixed-rate       skip the fixed-rate latency run
  --no-memory           skip the memory measurement
  --memory-connections N  held keep-alive connections for the memory run (default 1000)
  --high-concurrency-connections N  wrk connections in the high-concurrency round (default 1000)
  --high-concurrency-duration S     seconds per high-concurrency round (default: half of --duration)
  --no-high-concurrency  skip the high-concurrency round (wrk)
  --soak DURATION       soak mode only, e.g. 10m, 90s, 1h: RSS and heap slope under load
  --out DIR             results directory (default bench/results)`;

/** Parses argv (without the node and script paths); throws an Error with a usage hint. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    allowNegative: true,
    options: {
      rounds: { type: "string", default: "3" },
      duration: { type: "string", default: "10" },
      connections: { type: "string", default: "50" },
      only: { type: "string" },
      backend: { type: "string" },
      rate: { type: "string" },
      "fixed-rate": { type: "boolean", default: true },
      memory: { type: "boolean", default: true },
      "memory-connections": { type: "string", default: "1000" },
      "high-concurrency": { type: "boolean", default: true },
      "high-concurrency-connections": { type: "string", default: "1000" },
      "high-concurrency-duration": { type: "string" },
      soak: { type: "string" },
      out: { type: "string", default: "bench/results" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) throw new Error(USAGE);
  const backend = values.backend;
  if (backend !== undefined && !isOneOf(BACKEND_KINDS, backend)) {
    throw new Error(`--backend takes ${BACKEND_KINDS.join(" or ")}, got "${backend}"`);
  }
  const durationSeconds = positiveInteger("--duration", values.duration);
  return {
    rounds: positiveInteger("--rounds", values.rounds),
    durationSeconds,
    connections: positiveInteger("--connections", values.connections),
    targets: values.only === undefined ? TARGET_NAMES : parseTargets(values.only),
    backend,
    isFixedRate: values["fixed-rate"],
    fixedRatePerSecond:
      values.rate === undefined ? undefined : positiveInteger("--rate", values.rate),
    isMemory: values.memory,
    memoryConnections: positiveInteger("--memory-connections", values["memory-connections"]),
    isHighConcurrency: values["high-concurrency"],
    highConcurrencyConnections: wrkConnections(values["high-concurrency-connections"]),
    highConcurrencyDurationSeconds:
      values["high-concurrency-duration"] === undefined
        ? Math.ceil(durationSeconds / 2)
        : positiveInteger("--high-concurrency-duration", values["high-concurrency-duration"]),
    soakSeconds: values.soak === undefined ? undefined : parseDurationSeconds(values.soak),
    outDir: values.out,
  };
}

function parseTargets(list: string): TargetName[] {
  const names = list
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const targets: TargetName[] = [];
  for (const name of names) {
    if (!isOneOf(TARGET_NAMES, name)) {
      throw new Error(`--only: unknown target "${name}"; known: ${TARGET_NAMES.join(", ")}`);
    }
    targets.push(name);
  }
  if (targets.length === 0) throw new Error("--only names no target");
  return targets;
}

/** "10m", "90s", "1h" or plain seconds. */
export function parseDurationSeconds(text: string): number {
  const found = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (found === null) throw new Error(`--soak takes a duration like 10m, 90s or 1h, got "${text}"`);
  const amount = Number(found[1]);
  const unitSeconds = found[2] === "h" ? 3600 : found[2] === "m" ? 60 : 1;
  if (amount === 0) throw new Error("--soak must be longer than zero");
  return amount * unitSeconds;
}

/** wrk needs at least one connection per thread (it runs two). */
function wrkConnections(text: string): number {
  const value = positiveInteger("--high-concurrency-connections", text);
  if (value < WRK_THREADS) {
    throw new Error(`--high-concurrency-connections must be at least ${WRK_THREADS}, got ${value}`);
  }
  return value;
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${flag} takes a positive whole number, got "${text}"`);
  }
  return value;
}

function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

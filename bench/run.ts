/**
 * `npm run bench`: saturation rounds against the direct backend, switchyard and the baseline
 * proxies; a fixed-rate latency run; memory with many keep-alive connections; a
 * high-concurrency round under wrk. Or, with `--soak 10m`, only the soak. bench/README.md
 * describes the flags, the process layout and the output; results go to bench/results/.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nginxVersion } from "./baselines/nginx.ts";
import { buildForBench, type BenchBuild } from "./build.ts";
import { ChildProcesses } from "./child-processes.ts";
import { detectCpuLayout, type CpuLayout } from "./cpu-layout.ts";
import { runFixedRate, type FixedRateResult } from "./fixed-rate.ts";
import { describeFleetCheck, type FleetCheck } from "./fleet-check.ts";
import { runHighConcurrency } from "./high-concurrency.ts";
import { describeMachine, roundedLoad } from "./machine.ts";
import { measureMemory, type MemoryResult } from "./memory.ts";
import { parseBenchOptions, type BenchOptions } from "./options.ts";
import { soakMarkdown, suiteMarkdown } from "./report.ts";
import {
  RESULTS_SCHEMA_VERSION,
  writeResults,
  type RunSettings,
  type Skipped,
  type SuiteResults,
} from "./results.ts";
import { runSaturation } from "./saturation.ts";
import { runSoak } from "./soak.ts";
import { wrkVersion } from "./wrk-run.ts";
import {
  startBackend,
  startTarget,
  type BenchContext,
  type RunningServer,
  type SkippedTarget,
} from "./targets.ts";

const MEMORY_LOAD_MAX_SECONDS = 5;
const EXIT_USAGE = 2;

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_USAGE;
  }
  const layout = detectCpuLayout();
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-"));
  log("building switchyard and the Node baselines (tsc)");
  let build: BenchBuild;
  try {
    build = buildForBench(dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const ctx: BenchContext = { children: new ChildProcesses(), layout, dir, build };
  const stopOnSignal = (): void => {
    log("interrupted: stopping every process");
    void cleanUp(ctx).finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    log(layout.description);
    const machine = await describeMachine(layout.description);
    // nginx answers for a third of the node backend's CPU: the load core keeps room to spare,
    // so the proxy under test, not the client, is the limit.
    const backendKind = options.backend ?? (nginxVersion() === undefined ? "node" : "nginx");
    if (options.backend === undefined && backendKind === "node") {
      log("nginx is not installed: the backend is bench/backend.ts (node)");
    }
    const settings: RunSettings = {
      args: argv,
      rounds: options.rounds,
      durationSeconds: options.durationSeconds,
      connections: options.connections,
      backend: backendKind,
      targets: [...options.targets],
    };
    const backend = await startBackend(backendKind, ctx);
    if (options.soakSeconds !== undefined) {
      settings.targets = ["switchyard"];
      const switchyard = await startTarget("switchyard", backend, ctx);
      if ("reason" in switchyard) throw new Error(switchyard.reason);
      log(`soak for ${options.soakSeconds} s`);
      const soak = await runSoak(switchyard, options.soakSeconds, options.connections, layout, log);
      machine.loadAverageAtEnd = roundedLoad();
      const results = {
        schemaVersion: RESULTS_SCHEMA_VERSION,
        kind: "soak" as const,
        machine,
        settings,
        soak,
      };
      const markdown = soakMarkdown(results);
      process.stdout.write(`\n${markdown}`);
      log(`wrote ${writeResults(options.outDir, "soak", results, markdown).join(" and ")}`);
      return 0;
    }

    const running: RunningServer[] = [];
    const skipped: SkippedTarget[] = [];
    for (const name of options.targets) {
      const started = await startTarget(name, backend, ctx);
      if ("reason" in started) {
        log(`skipping ${name}: ${started.reason}`);
        skipped.push(started);
      } else {
        running.push(started);
      }
    }
    const saturation = await runSaturation(running, options, layout, log);
    const fleetCheck = await checkFleetTarget(running);
    const switchyard = running.find((target) => target.name === "switchyard");
    const switchyardRps = saturation.find((t) => t.name === "switchyard")?.requestsPerSecond;

    let fixedRate: FixedRateResult | Skipped;
    if (!options.isFixedRate) fixedRate = { skipped: "--no-fixed-rate" };
    else if (switchyard === undefined) fixedRate = { skipped: "switchyard was not among --only" };
    else {
      const ratePerSecond = options.fixedRatePerSecond ?? Math.round((switchyardRps ?? 0) / 2);
      fixedRate = await runFixedRate(
        { ...backend, name: "direct" },
        switchyard,
        {
          ratePerSecond: Math.max(1, ratePerSecond),
          rateSource:
            options.fixedRatePerSecond === undefined ? "half of switchyard's saturation" : "--rate",
          durationSeconds: options.durationSeconds,
          connections: options.connections,
          rounds: options.rounds,
        },
        layout,
        log,
      );
    }

    const memory = await memoryPhase(running, options, layout);
    // Last, so the memory run's idle RSS still follows the saturation rounds alone.
    const highConcurrency = await highConcurrencyPhase(running, options, layout);

    machine.loadAverageAtEnd = roundedLoad();
    const results: SuiteResults = {
      schemaVersion: RESULTS_SCHEMA_VERSION,
      kind: "suite",
      machine,
      settings,
      saturation: { targets: saturation, skipped, fleetCheck },
      fixedRate,
      memory,
      highConcurrency,
    };
    const markdown = suiteMarkdown(results);
    process.stdout.write(`\n${markdown}`);
    log(`wrote ${writeResults(options.outDir, "latest", results, markdown).join(" and ")}`);
    return 0;
  } finally {
    await cleanUp(ctx);
  }
}

async function memoryPhase(
  running: readonly RunningServer[],
  options: BenchOptions,
  layout: CpuLayout,
): Promise<SuiteResults["memory"]> {
  const proxies = running.filter((target) => target.isProxy);
  if (!options.isMemory) return { skipped: "--no-memory" };
  if (proxies.length === 0) return { skipped: "no proxy among --only" };
  const loadSeconds = Math.min(MEMORY_LOAD_MAX_SECONDS, options.durationSeconds);
  const targets: MemoryResult[] = [];
  for (const target of proxies) {
    log(`memory ${target.name} with ${options.memoryConnections} connections`);
    targets.push(await measureMemory(target, options.memoryConnections, loadSeconds, layout));
  }
  return { connections: options.memoryConnections, loadSeconds, targets };
}

async function highConcurrencyPhase(
  running: readonly RunningServer[],
  options: BenchOptions,
  layout: CpuLayout,
): Promise<SuiteResults["highConcurrency"]> {
  if (!options.isHighConcurrency) return { skipped: "--no-high-concurrency" };
  const wrk = wrkVersion();
  if (wrk === undefined) {
    log("skipping the high-concurrency round: wrk is not installed");
    return { skipped: "wrk is not installed" };
  }
  log(`high concurrency: wrk with ${options.highConcurrencyConnections} connections`);
  const settings = {
    wrk,
    connections: options.highConcurrencyConnections,
    durationSeconds: options.highConcurrencyDurationSeconds,
    rounds: options.rounds,
  };
  return runHighConcurrency(running, settings, layout, log);
}

/** The fleet target's state after its rounds (fleet-check.ts), logged; null when it did not run. */
async function checkFleetTarget(running: readonly RunningServer[]): Promise<FleetCheck | null> {
  const check = running.find((target) => target.checkFleet !== undefined)?.checkFleet;
  if (check === undefined) return null;
  try {
    const result = await check();
    log(describeFleetCheck(result));
    return result;
  } catch (error) {
    log(`switchyard-fleet: reading its fleet state failed: ${String(error)}`);
    return null;
  }
}

async function cleanUp(ctx: BenchContext): Promise<void> {
  await ctx.children.stopAll();
  rmSync(ctx.dir, { recursive: true, force: true });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);

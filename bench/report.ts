/** Markdown for the results: what `npm run bench` prints and writes to bench/results/. */
import { describeFleetCheck } from "./fleet-check.ts";
import type { MachineDescription } from "./machine.ts";
import type { TargetSummary } from "./saturation.ts";
import { isSkipped, type RunSettings, type SoakResults, type SuiteResults } from "./results.ts";

export function suiteMarkdown(results: SuiteResults): string {
  const lines = [
    "# switchyard benchmark",
    "",
    ...machineLines(results.machine, results.settings),
    "",
    `## Saturation: closed loop, ${results.settings.connections} connections, ` +
      `median of ${results.settings.rounds} alternating rounds of ${results.settings.durationSeconds} s`,
    "",
    "| target | req/s | p50 ms | p99 ms | errors | ratio to switchyard | ratio to direct | CPU µs/req | process CPU % | load core busy % |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const t of results.saturation.targets) {
    lines.push(
      row([
        t.name,
        count(t.requestsPerSecond),
        fixed(t.p50Ms, 0),
        fixed(t.p99Ms, 0),
        String(t.errors),
        fixed(t.ratioToSwitchyard, 2),
        fixed(t.ratioToDirect, 2),
        fixed(t.cpuMicrosPerRequest, 0),
        fixed(t.processCpuPercent, 0),
        fixed(t.loadCoreBusyPercent, 0),
      ]),
    );
  }
  lines.push(
    "",
    "Best round of each target (a shared machine only ever slows a round down):",
    "",
    "| target | best req/s | best CPU µs/req | ratio to switchyard, best rounds |",
    "|---|---:|---:|---:|",
  );
  for (const t of results.saturation.targets) {
    lines.push(
      row([
        t.name,
        count(t.bestRequestsPerSecond),
        fixed(t.bestCpuMicrosPerRequest, 0),
        fixed(t.bestRatioToSwitchyard, 2),
      ]),
    );
  }
  for (const skipped of results.saturation.skipped) {
    lines.push("", `Skipped ${skipped.name}: ${skipped.reason}.`);
  }
  lines.push(...placementLines(results.saturation.targets));
  const fleetCheck = results.saturation.fleetCheck;
  if (fleetCheck !== null) lines.push("", `${describeFleetCheck(fleetCheck)}.`);
  lines.push("", ...highConcurrencyLines(results));
  lines.push("", ...fixedRateLines(results), "", ...memoryLines(results), "");
  return lines.join("\n");
}

/**
 * Targets measured otherwise than the layout line says: unpinned while others are pinned, or
 * over a process tree.
 */
function placementLines(targets: readonly Placed[]): string[] {
  const lines: string[] = [];
  const unpinned = targets.filter((t) => !t.isPinned).map((t) => t.name);
  const trees = targets.filter((t) => t.isProcessTree).map((t) => t.name);
  if (unpinned.length > 0 && targets.some((t) => t.isPinned)) {
    lines.push(
      "",
      `Unpinned: ${unpinned.join(", ")}. Each of its processes may use every core, shared ` +
        "with the load generator and the backend: its req/s is not what one core delivers, " +
        "and the load core busy % includes its own work.",
    );
  }
  if (trees.length > 0) {
    lines.push(
      "",
      `CPU and RSS of ${trees.join(", ")} are summed over its process tree (the primary and ` +
        "its workers).",
    );
  }
  return lines;
}

type Placed = Pick<TargetSummary, "name" | "isPinned" | "isProcessTree">;

function highConcurrencyLines(results: SuiteResults): string[] {
  const run = results.highConcurrency;
  if (isSkipped(run)) return ["## High concurrency", "", `Skipped: ${run.skipped}.`];
  const lines = [
    `## High concurrency: wrk, ${count(run.connections)} connections, ${run.threads} threads, ` +
      `median of ${run.rounds} alternating rounds of ${run.durationSeconds} s`,
    "",
    `Timeouts: requests that waited more than ${run.timeoutSeconds} s (not in the latencies). ` +
      "Socket errors: connect, read and write errors. RSS: as the round ended.",
    "",
    "| target | req/s | p50 ms | p99 ms | max ms | timeouts | socket errors | non-2xx/3xx | CPU µs/req | RSS MB | ratio to haproxy | ratio to switchyard |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const t of run.targets) {
    lines.push(
      row([
        t.name,
        count(t.requestsPerSecond),
        fixed(t.p50Ms, 1),
        fixed(t.p99Ms, 1),
        fixed(t.maxMs, 0),
        count(t.timeouts),
        count(t.otherSocketErrors),
        count(t.non2xxOr3xx),
        fixed(t.cpuMicrosPerRequest, 0),
        fixed(t.rssMbAtEnd, 1),
        fixed(t.ratioToHaproxy, 2),
        fixed(t.ratioToSwitchyard, 2),
      ]),
    );
  }
  return [...lines, ...placementLines(run.targets)];
}

function fixedRateLines(results: SuiteResults): string[] {
  const fixedRate = results.fixedRate;
  if (isSkipped(fixedRate)) return ["## Fixed rate", "", `Skipped: ${fixedRate.skipped}.`];
  const lines = [
    `## Fixed rate: ${count(fixedRate.ratePerSecond)} req/s (${fixedRate.rateSource}), open loop, ` +
      `median of ${fixedRate.rounds} alternating rounds of ${fixedRate.durationSeconds} s`,
    "",
    "Latency counted from each request's due time (coordinated omission included); service " +
      "latency from the moment it was written.",
    "",
    "| target | p50 ms | p99 ms | p99.9 ms | service p50 ms | service p99 ms | errors |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const t of fixedRate.targets) {
    lines.push(
      row([
        t.name,
        fixed(t.p50Ms, 2),
        fixed(t.p99Ms, 2),
        fixed(t.p999Ms, 2),
        fixed(t.serviceP50Ms, 2),
        fixed(t.serviceP99Ms, 2),
        String(t.errors),
      ]),
    );
  }
  lines.push(
    row([
      "**added by switchyard**",
      signed(fixedRate.addedP50Ms),
      signed(fixedRate.addedP99Ms),
      "",
      "",
      "",
      "",
    ]),
  );
  for (const t of fixedRate.targets) {
    if (t.roundsBehind === 0) continue;
    lines.push(
      "",
      `Warning: ${t.name} answered less than 95% of the rate in ${t.roundsBehind} of ` +
        `${t.rounds.length} rounds, so its queue and latency grew for the whole run. On a ` +
        "busy machine (see the load average) it lost CPU to other work; on a quiet one, that " +
        "is a finding.",
    );
  }
  return lines;
}

function memoryLines(results: SuiteResults): string[] {
  const memory = results.memory;
  if (isSkipped(memory)) return ["## Memory", "", `Skipped: ${memory.skipped}.`];
  const n = count(memory.connections);
  const lines = [
    `## Memory: ${n} keep-alive connections`,
    "",
    `Idle RSS after the saturation rounds; RSS while ${n} connections sit idle after one ` +
      `request each; peak RSS while ${n} connections send requests flat out for ${memory.loadSeconds} s.`,
    "",
    `| target | idle RSS MB | RSS, ${n} idle conns, MB | KiB per conn | peak RSS, ${n} busy conns, MB | req/s at ${n} conns | errors | heap used after GC, idle / held, MB |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const t of memory.targets) {
    const heap =
      t.idleHeapUsedMb === undefined || t.heldHeapUsedMb === undefined
        ? ""
        : `${fixed(t.idleHeapUsedMb, 1)} / ${fixed(t.heldHeapUsedMb, 1)}`;
    const held = t.heldConnections === memory.connections ? "" : ` (${t.heldConnections} held)`;
    lines.push(
      row([
        t.name,
        fixed(t.idleRssMb, 1),
        `${fixed(t.heldRssMb, 1)}${held}`,
        fixed(t.perConnectionKb, 1),
        fixed(t.loadPeakRssMb, 1),
        count(t.loadRequestsPerSecond),
        String(t.loadErrors),
        heap,
      ]),
    );
  }
  const trees = memory.targets.filter((t) => t.isProcessTree).map((t) => t.name);
  if (trees.length > 0) {
    lines.push(
      "",
      `RSS of ${trees.join(", ")} is summed over its process tree (the primary and its ` +
        "workers); it has no heap reading, which would be one process's.",
    );
  }
  return lines;
}

export function soakMarkdown(results: SoakResults): string {
  const soak = results.soak;
  const lines = [
    "# switchyard soak",
    "",
    ...machineLines(results.machine, results.settings),
    "",
    `## ${minutes(soak.durationSeconds)} under ${soak.connections} closed-loop connections`,
    "",
    `${count(soak.requestsPerSecond)} req/s on average, ${soak.errors} errors. Samples every ` +
      `${soak.sampleIntervalSeconds} s after a full GC; slopes fitted from ${fixed(soak.fitFromSeconds, 0)} s on.`,
    "",
    "| | first | last | max | slope MB/min |",
    "|---|---:|---:|---:|---:|",
    row([
      "RSS MB",
      fixed(soak.firstRssMb, 1),
      fixed(soak.lastRssMb, 1),
      fixed(soak.maxRssMb, 1),
      fixed(soak.rssSlopeMbPerMin, 3),
    ]),
    row([
      "heap used MB",
      fixed(soak.firstHeapUsedMb, 1),
      fixed(soak.lastHeapUsedMb, 1),
      "",
      fixed(soak.heapUsedSlopeMbPerMin, 3),
    ]),
    row([
      "external MB",
      fixed(soak.samples[0]?.externalMb, 1),
      fixed(soak.samples.at(-1)?.externalMb, 1),
      "",
      fixed(soak.externalSlopeMbPerMin, 3),
    ]),
    "",
    "| t s | RSS MB | heap used MB | external MB |",
    "|---:|---:|---:|---:|",
    ...soak.samples.map((s) =>
      row([
        fixed(s.atSeconds, 0),
        fixed(s.rssMb, 1),
        fixed(s.heapUsedMb, 1),
        fixed(s.externalMb, 1),
      ]),
    ),
    "",
  ];
  return lines.join("\n");
}

function machineLines(machine: MachineDescription, settings: RunSettings): string[] {
  const busy = Object.entries(machine.coreBusyBeforeStartPercent)
    .map(([cpu, percent]) => `CPU ${cpu} ${fixed(percent, 0)}%`)
    .join(", ");
  const loadEnd = machine.loadAverageAtEnd?.join(" / ") ?? "n/a";
  const baselines = [
    machine.nginx === null ? "nginx not installed" : `nginx ${machine.nginx}`,
    machine.haproxy === null ? "HAProxy not installed" : `HAProxy ${machine.haproxy}`,
    machine.redis === null ? "redis-server not installed" : `redis-server ${machine.redis}`,
    machine.wrk === null ? "wrk not installed" : `wrk ${machine.wrk}`,
  ].join(", ");
  const args = settings.args.length === 0 ? "" : ` -- ${settings.args.join(" ")}`;
  return [
    `Run ${machine.startedAt} with \`npm run bench${args}\`.`,
    "",
    `- Machine: ${machine.cpuModel}, ${machine.logicalCores} logical cores, ${machine.memoryGb} GB, ${machine.os}`,
    `- Software: Node ${machine.node}, autocannon ${machine.autocannon}, ${baselines}; backend: ${settings.backend}`,
    `- Layout: ${machine.cpuLayout}`,
    `- Load average (1/5/15 min) at start ${machine.loadAverageAtStart.join(" / ")}, at end ${loadEnd}; ` +
      `cores busy in the 2 s before start: ${busy || "n/a"}`,
  ];
}

function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? "n/a"
    : value.toFixed(digits);
}

function signed(value: number): string {
  return Number.isFinite(value) ? `${value >= 0 ? "+" : ""}${value.toFixed(2)}` : "n/a";
}

function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a";
}

function minutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

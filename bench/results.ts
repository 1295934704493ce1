/**
 * The shape of bench/results/latest.json and soak.json (documented in bench/README.md), and
 * writing them next to their markdown rendering.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FixedRateResult } from "./fixed-rate.ts";
import type { FleetCheck } from "./fleet-check.ts";
import type { HighConcurrencyResult } from "./high-concurrency.ts";
import type { MachineDescription } from "./machine.ts";
import type { MemoryResult } from "./memory.ts";
import type { TargetSummary } from "./saturation.ts";
import type { SoakResult } from "./soak.ts";
import type { SkippedTarget } from "./targets.ts";

/** 2: the switchyard-workers target, isPinned and isProcessTree, highConcurrency, machine.wrk. */
export const RESULTS_SCHEMA_VERSION = 2;

export interface RunSettings {
  /** The flags as given after `npm run bench --`. */
  args: string[];
  rounds: number;
  durationSeconds: number;
  connections: number;
  backend: string;
  targets: string[];
}

/** A phase that did not run, and why. */
export interface Skipped {
  skipped: string;
}

export interface SuiteResults {
  schemaVersion: number;
  kind: "suite";
  machine: MachineDescription;
  settings: RunSettings;
  saturation: {
    targets: TargetSummary[];
    skipped: SkippedTarget[];
    /** What switchyard-fleet did besides serving; null when it did not run. */
    fleetCheck: FleetCheck | null;
  };
  fixedRate: FixedRateResult | Skipped;
  memory: { connections: number; loadSeconds: number; targets: MemoryResult[] } | Skipped;
  highConcurrency: HighConcurrencyResult | Skipped;
}

export interface SoakResults {
  schemaVersion: number;
  kind: "soak";
  machine: MachineDescription;
  settings: RunSettings;
  soak: SoakResult;
}

export function isSkipped(value: object): value is Skipped {
  return "skipped" in value;
}

/** Writes `<name>.json` and `<name>.md` into `dir`; returns the two paths. */
export function writeResults(
  dir: string,
  name: string,
  results: SuiteResults | SoakResults,
  markdown: string,
): string[] {
  mkdirSync(dir, { recursive: true });
  const jsonFile = join(dir, `${name}.json`);
  const markdownFile = join(dir, `${name}.md`);
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(markdownFile, markdown);
  return [markdownFile, jsonFile];
}

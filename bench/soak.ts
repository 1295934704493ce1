/**
 * Soak: switchyard under closed-loop load for a long time, its RSS and heap sampled after a full
 * GC at even intervals, and a least-squares slope fitted over the samples after the first tenth
 * of the run (JIT warm-up, pools and caches filling). A slope near zero means no leak; a steady
 * rise of heap after GC is the sign of one.
 */
import { setTimeout as delay } from "node:timers/promises";
import { runAutocannon } from "./autocannon-run.ts";
import type { CpuLayout } from "./cpu-layout.ts";
import { toMb } from "./memory-sample.ts";
import { linearFit } from "./stats.ts";
import type { RunningServer } from "./targets.ts";

const MIN_SAMPLE_SECONDS = 2;
const MAX_SAMPLE_SECONDS = 30;
const TARGET_SAMPLES = 60;
const WARMUP_SHARE = 0.1;

export interface SoakSample {
  atSeconds: number;
  rssMb: number;
  heapUsedMb: number;
  /** Memory outside the JS heap that V8 knows of (Buffers and the like). */
  externalMb: number;
}

export interface SoakResult {
  durationSeconds: number;
  connections: number;
  sampleIntervalSeconds: number;
  requestsPerSecond: number;
  errors: number;
  /** Samples at or after this time are in the fit. */
  fitFromSeconds: number;
  rssSlopeMbPerMin: number;
  heapUsedSlopeMbPerMin: number;
  externalSlopeMbPerMin: number;
  firstRssMb: number;
  lastRssMb: number;
  maxRssMb: number;
  firstHeapUsedMb: number;
  lastHeapUsedMb: number;
  samples: SoakSample[];
}

export async function runSoak(
  switchyard: RunningServer,
  durationSeconds: number,
  connections: number,
  layout: CpuLayout,
  log: (line: string) => void,
): Promise<SoakResult> {
  const sampleMemory = switchyard.sampleMemory;
  if (sampleMemory === undefined) throw new Error("the soak needs switchyard's memory probe");
  const intervalSeconds = Math.min(
    MAX_SAMPLE_SECONDS,
    Math.max(MIN_SAMPLE_SECONDS, Math.round(durationSeconds / TARGET_SAMPLES)),
  );
  const samples: SoakSample[] = [];
  const startedMs = performance.now();
  const take = async (): Promise<void> => {
    const memory = await sampleMemory();
    const sample = {
      atSeconds: (performance.now() - startedMs) / 1000,
      rssMb: toMb(memory.rssBytes),
      heapUsedMb: toMb(memory.heapUsedBytes),
      externalMb: toMb(memory.externalBytes),
    };
    samples.push(sample);
    log(
      `soak ${sample.atSeconds.toFixed(0)}s: rss ${sample.rssMb.toFixed(1)} MB, ` +
        `heap used ${sample.heapUsedMb.toFixed(1)} MB`,
    );
  };
  const loadEnded = new AbortController();
  const isLoadOver = (): boolean => loadEnded.signal.aborted;
  const sampling = (async (): Promise<void> => {
    await take();
    while (!isLoadOver()) {
      await delay(intervalSeconds * 1000, undefined, { signal: loadEnded.signal }).catch(
        () => undefined,
      );
      if (!isLoadOver()) await take();
    }
  })();
  const load = await runAutocannon(
    { url: switchyard.url, connections, durationSeconds },
    layout,
    switchyard.measured,
  ).finally(() => {
    loadEnded.abort();
  });
  await sampling;

  const fitFromSeconds = durationSeconds * WARMUP_SHARE;
  const fitted = samples.filter((sample) => sample.atSeconds >= fitFromSeconds);
  const minutes = fitted.map((sample) => sample.atSeconds / 60);
  const rssValues = samples.map((sample) => sample.rssMb);
  return {
    durationSeconds,
    connections,
    sampleIntervalSeconds: intervalSeconds,
    requestsPerSecond: load.requestsPerSecond,
    errors: load.errors,
    fitFromSeconds,
    rssSlopeMbPerMin: linearFit(
      minutes,
      fitted.map((sample) => sample.rssMb),
    ).slope,
    heapUsedSlopeMbPerMin: linearFit(
      minutes,
      fitted.map((sample) => sample.heapUsedMb),
    ).slope,
    externalSlopeMbPerMin: linearFit(
      minutes,
      fitted.map((sample) => sample.externalMb),
    ).slope,
    firstRssMb: samples[0]?.rssMb ?? Number.NaN,
    lastRssMb: samples.at(-1)?.rssMb ?? Number.NaN,
    maxRssMb: Math.max(...rssValues),
    firstHeapUsedMb: samples[0]?.heapUsedMb ?? Number.NaN,
    lastHeapUsedMb: samples.at(-1)?.heapUsedMb ?? Number.NaN,
    samples,
  };
}

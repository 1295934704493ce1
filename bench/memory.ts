/**
 * Memory of a proxy: RSS idle (after the saturation rounds), RSS while it holds many idle
 * keep-alive connections, and peak RSS while as many connections send requests flat out.
 * switchyard also reports its heap after a full GC.
 */
import { runAutocannon } from "./autocannon-run.ts";
import type { CpuLayout } from "./cpu-layout.ts";
import { holdConnections } from "./held-connections.ts";
import { sleep } from "./loopback.ts";
import { readRssBytes, toMb } from "./memory-sample.ts";
import type { RunningServer } from "./targets.ts";

const SETTLE_MS = 1000;
const RSS_SAMPLE_MS = 200;

export interface MemoryResult {
  name: string;
  /** RSS summed over its process tree (the primary and its workers). */
  isProcessTree: boolean;
  idleRssMb: number;
  /** Connections that stayed open; fewer than asked means the proxy refused or closed some. */
  heldConnections: number;
  heldRssMb: number;
  /** (held - idle) / connections, in KiB. */
  perConnectionKb: number;
  /** Under `connections` closed-loop connections for `loadSeconds`. */
  loadPeakRssMb: number;
  loadRequestsPerSecond: number;
  loadErrors: number;
  /** switchyard only: heap used after a full GC, idle and while holding the connections. */
  idleHeapUsedMb: number | undefined;
  heldHeapUsedMb: number | undefined;
}

export async function measureMemory(
  target: RunningServer,
  connections: number,
  loadSeconds: number,
  layout: CpuLayout,
): Promise<MemoryResult> {
  await sleep(SETTLE_MS);
  const idleHeap = await target.sampleMemory?.();
  const idleRss = readRssBytes(target.measured) ?? Number.NaN;

  const held = await holdConnections(target.port, connections);
  await sleep(SETTLE_MS);
  const heldHeap = await target.sampleMemory?.();
  const heldRss = readRssBytes(target.measured) ?? Number.NaN;
  const heldCount = held.openCount;
  held.closeAll();
  await sleep(SETTLE_MS);

  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, readRssBytes(target.measured) ?? 0);
  }, RSS_SAMPLE_MS);
  try {
    const load = await runAutocannon(
      { url: target.url, connections, durationSeconds: loadSeconds },
      layout,
      target.measured,
    );
    return {
      name: target.name,
      isProcessTree: target.measured.includesDescendants,
      idleRssMb: toMb(idleRss),
      heldConnections: heldCount,
      heldRssMb: toMb(heldRss),
      perConnectionKb: heldCount > 0 ? (heldRss - idleRss) / 1024 / heldCount : Number.NaN,
      loadPeakRssMb: toMb(peakRss),
      loadRequestsPerSecond: load.requestsPerSecond,
      loadErrors: load.errors,
      idleHeapUsedMb: idleHeap === undefined ? undefined : toMb(idleHeap.heapUsedBytes),
      heldHeapUsedMb: heldHeap === undefined ? undefined : toMb(heldHeap.heapUsedBytes),
    };
  } finally {
    clearInterval(sampler);
  }
}

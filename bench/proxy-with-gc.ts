/**
 * `switchyard serve` in this process, plus a memory probe for the bench: on an IPC "sample"
 * message it runs a full GC and answers with `process.memoryUsage()`. Start it with
 * `node --expose-gc bench/proxy-with-gc.ts serve --config FILE`. Only the bench uses it; the
 * probe sits outside the request path.
 */
import { SAMPLE_MESSAGE, type MemorySample } from "./memory-sample.ts";

if (process.send !== undefined) {
  process.on("message", (message) => {
    if (message !== SAMPLE_MESSAGE) return;
    globalThis.gc?.();
    const usage = process.memoryUsage();
    const sample: MemorySample = {
      rssBytes: usage.rss,
      heapUsedBytes: usage.heapUsed,
      heapTotalBytes: usage.heapTotal,
      externalBytes: usage.external,
    };
    process.send?.(sample);
  });
  // The channel must not keep the process alive once switchyard has drained.
  process.channel?.unref();
}

await import("../src/cli/main.ts");

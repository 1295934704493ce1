/**
 * Loaded into switchyard with `--import` (and `--expose-gc`) by the bench only: on an IPC
 * "sample" message it runs a full GC and answers with `process.memoryUsage()`. It sits outside
 * the request path and adds nothing to switchyard's memory but this listener.
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

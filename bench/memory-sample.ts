/**
 * Memory readings: the kernel's view of any process (RSS from /proc), and switchyard's own view
 * after a full GC, asked over IPC from bench/memory-probe.ts.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

export interface MemorySample {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

export const SAMPLE_MESSAGE = "sample";
const SAMPLE_TIMEOUT_MS = 5000;

/** Resident set size of `pid` in bytes (VmRSS), or undefined when /proc has no answer. */
export function readRssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** Asks a switchyard that loaded bench/memory-probe.ts for a GC'd memory sample. */
export function requestMemorySample(child: ChildProcess): Promise<MemorySample> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("message", onMessage);
      reject(new Error("no memory sample from switchyard within 5 s"));
    }, SAMPLE_TIMEOUT_MS);
    const onMessage = (message: unknown): void => {
      if (!isMemorySample(message)) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(message);
    };
    child.on("message", onMessage);
    child.send(SAMPLE_MESSAGE);
  });
}

function isMemorySample(value: unknown): value is MemorySample {
  return typeof value === "object" && value !== null && "heapUsedBytes" in value;
}

export function toMb(bytes: number): number {
  return bytes / (1024 * 1024);
}

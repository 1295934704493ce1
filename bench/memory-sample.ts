/**
 * Memory readings: the kernel's view of any process (RSS from /proc, summed over the process
 * tree for a target that forks), and switchyard's own view after a full GC, asked over IPC
 * from bench/memory-probe.ts.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { measuredPids, type MeasuredProcesses } from "./process-tree.ts";

export interface MemorySample {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

export const SAMPLE_MESSAGE = "sample";
const SAMPLE_TIMEOUT_MS = 5000;

/**
 * Resident set size of the measured processes in bytes (VmRSS, summed), or undefined when
 * /proc has no answer for the first one. Pages the processes share (code, for one) are
 * counted once per process, as the kernel reports each process's RSS.
 */
export function readRssBytes(measured: MeasuredProcesses): number | undefined {
  const [root, ...descendants] = measuredPids(measured);
  const rootRss = root === undefined ? undefined : readProcessRssBytes(root);
  if (rootRss === undefined) return undefined;
  return descendants.reduce((sum, pid) => sum + (readProcessRssBytes(pid) ?? 0), rootRss);
}

function readProcessRssBytes(pid: number): number | undefined {
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

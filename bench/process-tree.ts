/**
 * Which processes a target's CPU time and RSS are read over: the one process started, or, for
 * a target that forks (switchyard with workers), that process and every process below it.
 * Children are found in /proc/<pid>/task/<tid>/children (Linux), afresh at each reading; a
 * process that ends while the tree is walked is left out rather than failing the reading.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface MeasuredProcesses {
  /** The process the bench started (for a workers target, switchyard's primary). */
  readonly pid: number;
  /** Count every descendant of `pid` too. */
  readonly includesDescendants: boolean;
}

/** The pids a reading covers, `measured.pid` first. */
export function measuredPids(measured: MeasuredProcesses): number[] {
  return measured.includesDescendants ? processTreePids(measured.pid) : [measured.pid];
}

/** `rootPid` and all its descendants, breadth first; just `[rootPid]` when it has none. */
export function processTreePids(rootPid: number): number[] {
  const seen = new Set<number>([rootPid]);
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++) {
    for (const child of childPids(pids[i] ?? rootPid)) {
      if (seen.has(child)) continue;
      seen.add(child);
      pids.push(child);
    }
  }
  return pids;
}

/** A process's children: each of its threads lists the children that thread forked. */
function childPids(pid: number): number[] {
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // The process has ended.
  }
  const children: number[] = [];
  for (const thread of threads) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${thread}/children`, "utf8");
    } catch {
      continue; // The thread has ended.
    }
    for (const word of text.split(/\s+/)) {
      const child = Number(word);
      if (word !== "" && Number.isInteger(child)) children.push(child);
    }
  }
  return children;
}

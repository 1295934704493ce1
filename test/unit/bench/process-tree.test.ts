import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { measuredPids, processTreePids } from "../../../bench/process-tree.ts";

/** Far above any pid the kernel hands out (pid_max is at most 2^22). */
const ENDED_PID = 2 ** 30;

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

describe.runIf(process.platform === "linux")("processTreePids", () => {
  it("finds a child and its grandchild below this process", async () => {
    const child = spawn("sh", ["-c", "sleep 30 & wait"], { stdio: "ignore" });
    try {
      let tree: number[] = [];
      for (let i = 0; i < 50 && tree.length < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        tree = processTreePids(process.pid);
      }
      expect(tree[0]).toBe(process.pid);
      expect(tree).toContain(child.pid);
      expect(tree.length).toBeGreaterThanOrEqual(3);
    } finally {
      const exited = once(child, "exit");
      for (const pid of processTreePids(child.pid ?? ENDED_PID).reverse()) killIfAlive(pid);
      await exited;
    }
  });

  it("gives just the root for a process that has ended", () => {
    expect(processTreePids(ENDED_PID)).toEqual([ENDED_PID]);
  });

  it("reads one process only unless told to include its descendants", () => {
    expect(measuredPids({ pid: process.pid, includesDescendants: false })).toEqual([process.pid]);
  });
});

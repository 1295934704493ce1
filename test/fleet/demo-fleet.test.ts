/**
 * `npm run demo -- --fleet` (node src/demo/main.ts) run as a real process: it starts its own
 * redis-server, two replicas r1 and r2 sharing it, and prints the rollout the leader judges on
 * both replicas' traffic. In the heavy project: a Redis, two proxies and their traffic. Where
 * redis-server is not installed these tests fail with the line that installs it.
 */
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEMO_MAIN,
  killAllChildren,
  runNode,
  type Exit,
} from "../integration/cli/child-process.ts";
import { assertRedisServerInstalled } from "../support/redis-server.ts";

/** Any free ports: the demo's defaults (8080, 8081, 9901, 9902) may be taken on a test machine. */
const FREE_PORTS = { DEMO_PROXY_LISTEN: "127.0.0.1:0", DEMO_ADMIN_LISTEN: "127.0.0.1:0" };
/** The demo's --once must end well within this on a slow two-core machine. */
const DEMO_LIFETIME_MS = 60_000;

const DECISION = /^\s+\+\d+\.\ds {2}/;
const JUDGED_BY =
  /^ {10}decided by (r1|r2), the leader, on r1 \+ r2's summed traffic: ([\d,]+) canary and ([\d,]+) stable requests$/;

interface PrintedDecision {
  verdict: string;
  line: string;
  writer: string;
  canaryRequests: number;
}

/** Each decision line with the line under it that says who took it, on how many requests. */
function decisionsOf(stdout: string): PrintedDecision[] {
  const lines = stdout.split("\n");
  const decisions: PrintedDecision[] = [];
  lines.forEach((line, index) => {
    if (!DECISION.test(line)) return;
    const judged = JUDGED_BY.exec(lines[index + 1] ?? "");
    expect(judged, `no "decided by" line under ${JSON.stringify(line)}`).not.toBeNull();
    decisions.push({
      verdict: line.trim().split(/\s+/)[1] ?? "",
      line,
      writer: judged?.[1] ?? "",
      canaryRequests: Number((judged?.[2] ?? "").replaceAll(",", "")),
    });
  });
  return decisions;
}

/** The two replicas, the leader named, the Redis URL; returns the Redis port. */
function expectFleetIntroduced(stdout: string): number {
  expect(stdout).toMatch(
    /replicas r1 at http:\/\/127\.0\.0\.1:[1-9]\d* and r2 at http:\/\/127\.0\.0\.1:[1-9]\d*\n/,
  );
  const intro =
    /fleet "demo" in Redis at redis:\/\/127\.0\.0\.1:(\d+)\/0: (r1|r2) leads, (r1|r2) follows;/.exec(
      stdout,
    );
  expect(intro, stdout).not.toBeNull();
  expect(intro?.[2]).not.toBe(intro?.[3]);
  return Number(intro?.[1]);
}

/** Both replicas carried traffic, and clients saw no failure. */
function expectTrafficThroughBoth(stdout: string): void {
  const sent =
    /(\d+) requests sent \((\d+) through r1, (\d+) through r2\), 0 failed as clients saw them/.exec(
      stdout,
    );
  expect(sent, stdout).not.toBeNull();
  expect(Number(sent?.[2])).toBeGreaterThan(0);
  expect(Number(sent?.[3])).toBeGreaterThan(0);
}

/** Whether anything still listens on 127.0.0.1:`port`. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      resolve(false);
    });
  });
}

/** The demo with --fleet --once; each test fails (never skips) where redis-server is missing. */
async function runFleetDemo(extraArgs: readonly string[] = []): Promise<Exit> {
  assertRedisServerInstalled();
  return await runNode(DEMO_MAIN, ["--fleet", "--once", "--requests", "50", ...extraArgs], {
    env: FREE_PORTS,
    timeoutMs: DEMO_LIFETIME_MS,
  });
}

afterEach(async () => {
  await killAllChildren();
});

describe("npm run demo -- --fleet", () => {
  it("rolls v2 out on both replicas' traffic, judged by one leader, until promoted", async () => {
    const exit = await runFleetDemo();
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    const redisPort = expectFleetIntroduced(exit.stdout);

    const decisions = decisionsOf(exit.stdout);
    const verdicts = decisions.map((decision) => decision.verdict);
    expect(verdicts.filter((verdict) => verdict === "advance")).toHaveLength(3);
    expect(verdicts.at(-1)).toBe("promote");
    expect(verdicts).not.toContain("rollback");
    for (const decision of decisions.filter((d) => d.verdict === "advance")) {
      // minRequests is 30: an advance was judged on at least that many canary requests.
      expect(decision.canaryRequests, decision.line).toBeGreaterThanOrEqual(30);
    }
    expect(exit.stdout).toContain("v2 is promoted");
    expect(exit.stdout).toContain('split now {"stable":0,"canary":100} on both r1 and r2');
    expectTrafficThroughBoth(exit.stdout);
    // The demo's Redis stopped with it.
    expect(await isListening(redisPort)).toBe(false);
  }, 70_000);

  it("--bad: the leader rolls v2 back on both replicas", async () => {
    const exit = await runFleetDemo(["--bad"]);
    expect(exit.stderr).toBe("");
    expect(exit.code).toBe(0);
    expectFleetIntroduced(exit.stdout);

    const decisions = decisionsOf(exit.stdout);
    const rollback = decisions.find((decision) => decision.verdict === "rollback");
    expect(rollback?.line).toContain("canary at   0%");
    expect(rollback?.writer).toMatch(/^r[12]$/);
    expect(decisions.map((decision) => decision.verdict)).not.toContain("advance");
    expect(exit.stdout).toContain("v2 is rolled back");
    expect(exit.stdout).toContain('split now {"stable":100,"canary":0} on both r1 and r2');
    // v2's failures were retried on v1: clients saw none.
    expectTrafficThroughBoth(exit.stdout);
  }, 70_000);
});

/**
 * The second half of the demo: the rollout of v2 under light traffic, each decision printed as
 * it happens, until v2 is promoted or rolled back. With --fleet the traffic is split across
 * the replicas, each decision also says which replica took it and on how many requests of the
 * fleet's summed traffic, and the end shows every replica's split.
 */
import type { LoggedEvent } from "../events/event-log.ts";
import { formatCount } from "../rollout/decision-text.ts";
import { waitForSameSplit } from "./fleet-watch.ts";
import { startLightTraffic, type LightTraffic } from "./light-traffic.ts";
import { followEvents } from "./rollout-events.ts";
import type { DemoSwitchyard } from "./switchyards.ts";

export type StoryEnd = "promoted" | "rolledBack" | "timedOut";

const ROUTE = "web";
/** The light traffic's workers, shared out among the switchyards. */
const TRAFFIC_WORKERS = 8;

type Out = (line: string) => void;

export async function runRolloutStory(
  switchyards: readonly DemoSwitchyard[],
  out: Out,
  timeoutMs = 60_000,
): Promise<StoryEnd> {
  const [first] = switchyards;
  if (first === undefined) return "timedOut";
  let finish: (end: StoryEnd) => void = () => undefined;
  const ended = new Promise<StoryEnd>((resolve) => {
    finish = resolve;
  });
  const printDecision = decisionPrinter(switchyards, out);
  const unsubscribe = await followEvents(first.proxy, (event) => {
    if (event.route !== ROUTE) return;
    if (event.type === "rollout.decision") printDecision(event);
    if (event.phase === "promoted" || event.phase === "rolledBack") finish(event.phase);
  });
  const traffic = switchyards.map((switchyard) =>
    startLightTraffic(
      `${switchyard.proxyUrl}/story`,
      Math.ceil(TRAFFIC_WORKERS / switchyards.length),
    ),
  );
  const timer = setTimeout(() => {
    finish("timedOut");
  }, timeoutMs);
  resumeRollout(switchyards, out, finish);
  const end = await ended;
  clearTimeout(timer);
  unsubscribe();
  await Promise.all(traffic.map((one) => one.stop()));
  await printEnd(switchyards, end, traffic, out);
  return end;
}

/** main paused the rollout at its first step for the burst; resuming gives it a fresh window. */
function resumeRollout(
  switchyards: readonly DemoSwitchyard[],
  out: Out,
  finish: (end: StoryEnd) => void,
): void {
  const [first] = switchyards;
  if (first === undefined) return;
  const failed = (reason: string): void => {
    out(`  could not start the rollout: ${reason}`);
    finish("timedOut");
  };
  first.proxy.control.rolloutAction(ROUTE, "resume", "demo").then(
    (started) => {
      if (!started.ok) {
        failed(started.error.message);
        return;
      }
      const { steps, interval } = rolloutPolicy(first);
      out(
        `rolling out v2 (canary): steps ${steps.join("% -> ")}%, one evaluation every ${interval / 1000}s, under light traffic${through(switchyards)}\n`,
      );
    },
    (error: unknown) => {
      failed(String(error));
    },
  );
}

/** Prints one decision: its verdict and reason, and in a fleet who took it on what. */
function decisionPrinter(switchyards: readonly DemoSwitchyard[], out: Out) {
  const startedAt = performance.now();
  const elapsed = (): string => `+${((performance.now() - startedAt) / 1000).toFixed(1)}s`;
  const replicas = replicasOf(switchyards);
  return (event: LoggedEvent): void => {
    const verdict = String(event.verdict);
    const fast = event.isFast === true ? " (fast path)" : "";
    const share =
      event.phase === "rolledBack"
        ? 0
        : event.phase === "promoted"
          ? 100
          : Number(event.stepPercent);
    out(
      `  ${elapsed().padStart(6)}  ${verdict.padEnd(15)} canary at ${String(share).padStart(3)}%  ${String(event.reason)}${fast}`,
    );
    if (replicas.length > 0) out(`          ${judgedBy(event, replicas)}`);
  };
}

/** "decided by r1, the leader, on r1 + r2's summed traffic: 143 canary and 702 stable requests" */
function judgedBy(event: LoggedEvent, replicas: readonly string[]): string {
  const metrics = (event.metrics ?? {}) as Record<string, unknown>;
  const count = (value: unknown): string => (typeof value === "number" ? formatCount(value) : "?");
  return (
    `decided by ${String(event.replica)}, the leader, on ${replicas.join(" + ")}'s summed traffic: ` +
    `${count(metrics.requests)} canary and ${count(metrics.baselineRequests)} stable requests`
  );
}

async function printEnd(
  switchyards: readonly DemoSwitchyard[],
  end: StoryEnd,
  traffic: readonly LightTraffic[],
  out: Out,
): Promise<void> {
  const summary =
    end === "promoted"
      ? "v2 is promoted: it now takes all the traffic."
      : end === "rolledBack"
        ? "v2 is rolled back: v1 takes all the traffic again."
        : "the rollout did not finish in time.";
  // A fleet's replicas follow the leader's write within a second.
  const splits = await waitForSameSplit(switchyards, ROUTE);
  const sent = traffic.reduce((sum, one) => sum + one.sent, 0);
  const failed = traffic.reduce((sum, one) => sum + one.failed, 0);
  out(
    `\n${summary} ${splitsText(switchyards, splits)}; ${sent} requests sent${sentPerReplica(switchyards, traffic)}, ${failed} failed as clients saw them`,
  );
}

/** `split now S`, and in a fleet on which replicas. */
function splitsText(switchyards: readonly DemoSwitchyard[], splits: readonly string[]): string {
  const replicas = replicasOf(switchyards);
  if (replicas.length === 0) return `split now ${splits[0] ?? "{}"}`;
  if (new Set(splits).size === 1) {
    return `split now ${splits[0] ?? "{}"} on both ${replicas.join(" and ")}`;
  }
  const each = replicas.map((replica, index) => `${splits[index] ?? "{}"} on ${replica}`);
  return `split now differs: ${each.join(", ")}`;
}

/** " (512 through r1, 508 through r2)" in a fleet. */
function sentPerReplica(
  switchyards: readonly DemoSwitchyard[],
  traffic: readonly LightTraffic[],
): string {
  const replicas = replicasOf(switchyards);
  if (replicas.length === 0) return "";
  const each = replicas.map((replica, index) => `${traffic[index]?.sent ?? 0} through ${replica}`);
  return ` (${each.join(", ")})`;
}

function through(switchyards: readonly DemoSwitchyard[]): string {
  const replicas = replicasOf(switchyards);
  return replicas.length === 0 ? "" : ` through ${replicas.join(" and ")}`;
}

/** The fleet's replica ids; none for the lone switchyard. */
function replicasOf(switchyards: readonly DemoSwitchyard[]): string[] {
  return switchyards.flatMap((switchyard) =>
    switchyard.replica === undefined ? [] : [switchyard.replica],
  );
}

function rolloutPolicy(switchyard: DemoSwitchyard): { steps: number[]; interval: number } {
  const rollout = switchyard.proxy.runtime.current.config.routes.find(
    (route) => route.name === ROUTE,
  )?.rollout;
  return { steps: rollout?.steps ?? [], interval: rollout?.interval ?? 0 };
}

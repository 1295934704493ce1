/**
 * The second half of the demo: the rollout of v2 under light traffic, each decision printed as
 * it happens, until v2 is promoted or rolled back.
 */
import type { RunningSwitchyard } from "../app.ts";
import type { LoggedEvent } from "../events/event-log.ts";
import { startLightTraffic } from "./light-traffic.ts";

export type StoryEnd = "promoted" | "rolledBack" | "timedOut";

const ROUTE = "web";

export async function runRolloutStory(
  proxy: RunningSwitchyard,
  proxyUrl: string,
  out: (line: string) => void,
  timeoutMs = 60_000,
): Promise<StoryEnd> {
  const startedAt = performance.now();
  const elapsed = (): string => `+${((performance.now() - startedAt) / 1000).toFixed(1)}s`;
  let finish: (end: StoryEnd) => void = () => undefined;
  const ended = new Promise<StoryEnd>((resolve) => {
    finish = resolve;
  });
  const unsubscribe = proxy.events.onEvent((event: LoggedEvent) => {
    if (event.route !== ROUTE) return;
    if (event.type === "rollout.decision") {
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
    }
    if (event.phase === "promoted" || event.phase === "rolledBack") finish(event.phase);
  });
  const traffic = startLightTraffic(`${proxyUrl}/story`);
  const timer = setTimeout(() => {
    finish("timedOut");
  }, timeoutMs);
  const announce = (started: Awaited<ReturnType<typeof proxy.control.rolloutAction>>): void => {
    if (!started.ok) {
      out(`  could not start the rollout: ${started.error.message}`);
      finish("timedOut");
      return;
    }
    const { steps, interval } = rolloutPolicy(proxy);
    out(
      `rolling out v2 (canary): steps ${steps.join("% -> ")}%, one evaluation every ${interval / 1000}s, under light traffic\n`,
    );
  };
  // main paused the rollout at its first step for the burst; resuming gives it a fresh window.
  proxy.control.rolloutAction(ROUTE, "resume", "demo").then(announce, (error: unknown) => {
    out(`  could not start the rollout: ${String(error)}`);
    finish("timedOut");
  });
  const end = await ended;
  clearTimeout(timer);
  unsubscribe();
  await traffic.stop();
  const split = proxy.control.status().routes.find((route) => route.name === ROUTE)?.split ?? {};
  const summary =
    end === "promoted"
      ? "v2 is promoted: it now takes all the traffic."
      : end === "rolledBack"
        ? "v2 is rolled back: v1 takes all the traffic again."
        : "the rollout did not finish in time.";
  out(
    `\n${summary} split now ${JSON.stringify(split)}; ${traffic.sent} requests sent, ${traffic.failed} failed as clients saw them`,
  );
  return end;
}

function rolloutPolicy(proxy: RunningSwitchyard): { steps: number[]; interval: number } {
  const rollout = proxy.runtime.current.config.routes.find(
    (route) => route.name === ROUTE,
  )?.rollout;
  return { steps: rollout?.steps ?? [], interval: rollout?.interval ?? 0 };
}

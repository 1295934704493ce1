/**
 * SPEC 3.5 and 4: the canary dies under steady GET load and no client notices. Requests in
 * flight on its connections see resets, later ones a refused connection; retries, the
 * fallback and the breaker (and, when configured, health checks) keep every answer a 200 from
 * stable. A new canary on the same port gets traffic back within seconds.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { closeDefaultAgent } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";
import {
  createRecordingRecorder,
  type RecordingRecorder,
} from "../../support/recording-recorder.ts";
import { startSteadyLoad, type SteadyLoad } from "../../support/steady-load.ts";
import { startTestSwitchyard } from "../../support/switchyard.ts";

const { track, defer } = cleanupAfterEach();
afterEach(async () => {
  await closeDefaultAgent();
});

const CONCURRENCY = 16;
/** About a second and a half of the load, as the budget's headroom. */
const REQUESTS_BEFORE_KILL = 1000;
/** Clients served while the canary is dead, before it restarts. */
const REQUESTS_WHILE_DEAD = 500;
const SERVICE_DELAY_MS = 20;

const SHORT_HEALTH_CHECK = {
  interval: "100ms",
  timeout: "100ms",
  healthyThreshold: 2,
  unhealthyThreshold: 2,
};

/**
 * Until the breaker opens (or checks take the canary out), refused connections are retried on
 * stable within the route's 20% retry budget; the canary's share and how fast it leaves
 * traffic decide whether the budget suffices, so each variant pairs a share with a mechanism.
 */
const variants = [
  {
    name: "20% canary, default breaker window",
    split: { stable: 80, canary: 20 },
    canary: { breaker: { resetTimeout: "1s" } },
  },
  {
    // Refused connections never reached the canary, so their retries are not charged to the
    // budget: even a 50% canary with the default window loses no request.
    name: "50% canary, default breaker window",
    split: { stable: 50, canary: 50 },
    canary: { breaker: { resetTimeout: "1s" } },
  },
  {
    name: "50% canary, 1 s breaker window",
    split: { stable: 50, canary: 50 },
    // A short window lets the failures outweigh the successes from before the kill at once.
    canary: { breaker: { window: "1s", volumeThreshold: 10, resetTimeout: "1s" } },
  },
  {
    name: "50% canary, active health checks",
    split: { stable: 50, canary: 50 },
    canary: { breaker: { resetTimeout: "1s" }, healthCheck: SHORT_HEALTH_CHECK },
  },
];

function canaryFailuresOf(recorder: RecordingRecorder): number {
  return recorder.attempts.filter((a) => a.upstream === "canary" && a.isFailure).length;
}

function countCanarySuccesses(recorder: RecordingRecorder): number {
  return recorder.attempts.filter((a) => a.upstream === "canary" && !a.isFailure).length;
}

describe("killing the canary under steady load", () => {
  it.each(variants)(
    "fails no client request, and a canary restarted on its port gets traffic back ($name)",
    async ({ split, canary: canaryExtra }) => {
      const recorder = createRecordingRecorder();
      // Service latency keeps requests in flight on the canary's connections when it dies, and
      // keeps the request rate after the kill (refusals are instant) close to the rate before.
      const stable = track(await startEchoBackend({ name: "stable", delayMs: SERVICE_DELAY_MS }));
      const canary = await startEchoBackend({ name: "canary", delayMs: SERVICE_DELAY_MS });
      defer(() => canary.close());
      const proxy = track(
        await startTestSwitchyard(
          {
            upstreams: {
              stable: { endpoints: [stable.url] },
              canary: {
                endpoints: [canary.url],
                outlierDetection: { baseEjectionTime: "1s" },
                ...canaryExtra,
              },
            },
            routes: [{ name: "web", split }],
          },
          { recorder },
        ),
      );
      const load: SteadyLoad = startSteadyLoad(`${proxy.url}/`, { concurrency: CONCURRENCY });
      defer(async () => {
        await load.stop();
      });

      // Enough requests that the retry budget (20% of the last 10 s) has headroom at the kill.
      await waitFor(() => recorder.requests.length >= REQUESTS_BEFORE_KILL, {
        timeoutMs: 20_000,
        description: `${String(REQUESTS_BEFORE_KILL)} requests before the kill`,
      });
      // Kill it while it holds requests (received, not yet answered): they die in flight.
      await waitFor(() => canary.received.length - countCanarySuccesses(recorder) >= 3, {
        description: "requests in flight on the canary",
      });
      // Destroys the canary's open sockets too, so requests in flight on them see resets;
      // from now on its port refuses connections.
      await canary.close();
      const canaryAnsweredBeforeKill = countCanarySuccesses(recorder);
      const lostInFlight = canary.received.length - canaryAnsweredBeforeKill;
      // The dead canary is felt (attempts on it fail beyond those that died in flight) while
      // clients keep being served, before it comes back.
      const requestsAtKill = recorder.requests.length;
      await waitFor(
        () =>
          canaryFailuresOf(recorder) > lostInFlight &&
          recorder.requests.length >= requestsAtKill + REQUESTS_WHILE_DEAD,
        { timeoutMs: 20_000, description: "failed attempts on the dead canary, and traffic" },
      );
      const canaryFailures = canaryFailuresOf(recorder);

      const restarted = track(await startEchoBackend({ name: "canary", port: canary.port }));
      await waitFor(() => restarted.received.length >= 20, {
        timeoutMs: 5000,
        description: "the restarted canary serving traffic again",
      });
      const tally = await load.stop();

      // The kill was felt: requests died in flight, later attempts failed, retries went to stable.
      expect(canaryAnsweredBeforeKill).toBeGreaterThan(50);
      expect(lostInFlight).toBeGreaterThan(0);
      expect(canaryFailures).toBeGreaterThanOrEqual(lostInFlight);
      expect(recorder.retries.filter((r) => r.upstream === "stable").length).toBeGreaterThan(0);
      // ...and no client saw it.
      expect(tally.problems).toEqual([]);
      expect(tally.failures).toBe(0);
      expect(tally.byStatus).toEqual({ 200: tally.total });
    },
  );
});

/**
 * SPEC 4: a timeout is a failure. An endpoint slower than `timeouts.response` gives the client
 * a 504, the attempt is reported as a failure, and after `consecutiveFailures` of them outlier
 * detection ejects the endpoint so the next requests go to its healthy sibling. undici's timers
 * are coarse (a 500 ms timeout fires after about 1 s), hence the backend's longer delay.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { closeDefaultAgent, hammer, httpRequest } from "../../support/http-client.ts";
import { createRecordingRecorder } from "../../support/recording-recorder.ts";
import { singleUpstreamConfig, startTestSwitchyard } from "../../support/switchyard.ts";

const { track } = cleanupAfterEach();
afterEach(async () => {
  await closeDefaultAgent();
});

function errorCodeOf(body: string): string | undefined {
  return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
}

const CONSECUTIVE_FAILURES = 2;

describe("a slow endpoint", () => {
  it("answers 504, counts as a failure and is ejected after consecutiveFailures", async () => {
    const slow = track(await startEchoBackend({ name: "slow", delayMs: 3000 }));
    const fast = track(await startEchoBackend({ name: "fast" }));
    const recorder = createRecordingRecorder();
    const proxy = track(
      await startTestSwitchyard(
        singleUpstreamConfig([slow.url, fast.url], {
          upstream: {
            timeouts: { response: "500ms" },
            outlierDetection: {
              consecutiveFailures: CONSECUTIVE_FAILURES,
              baseEjectionTime: "30s",
              maxEjectionPercent: 50,
            },
          },
          // The raw 504: no retry on the fast endpoint.
          route: { retries: { attempts: 0 } },
        }),
        { recorder },
      ),
    );
    const [slowEndpoint, fastEndpoint] =
      proxy.runtime.current.upstreams.get("stable")?.endpoints ?? [];
    if (slowEndpoint === undefined || fastEndpoint === undefined) throw new Error("no endpoints");

    // Round-robin: half of the requests go to the slow endpoint, at once. Which ones depends
    // on the order the proxy accepts their connections, which is not the order they were sent.
    const answers = await Promise.all(
      Array.from({ length: 2 * CONSECUTIVE_FAILURES }, (_, i) =>
        httpRequest(`${proxy.url}/r${i}`, { timeoutMs: 5000 }),
      ),
    );
    const slowAnswers = answers.filter((answer) => answer.status !== 200);
    expect(slowAnswers).toHaveLength(CONSECUTIVE_FAILURES);
    for (const answer of slowAnswers) {
      expect(answer.status).toBe(504);
      expect(errorCodeOf(answer.body)).toBe("SWITCHYARD_UPSTREAM_TIMEOUT");
    }

    const slowAttempts = recorder.attempts.filter((a) => a.endpoint === slowEndpoint);
    expect(slowAttempts).toHaveLength(CONSECUTIVE_FAILURES);
    for (const attempt of slowAttempts) {
      expect(attempt).toMatchObject({ upstream: "stable", status: 0, isFailure: true });
      expect(attempt.durationMs).toBeGreaterThanOrEqual(400);
    }
    expect(recorder.requests.filter((r) => r.status === 504)).toHaveLength(CONSECUTIVE_FAILURES);

    expect(slowEndpoint.isEjected).toBe(true);
    expect(fastEndpoint.isEjected).toBe(false);
    slow.clearReceived();
    fast.clearReceived();
    const after = await hammer(`${proxy.url}/`, { total: 20, concurrency: 4 });
    expect(after.byStatus).toEqual({ 200: 20 });
    expect(slow.received).toHaveLength(0);
    expect(fast.received).toHaveLength(20);
  });
});

/**
 * The Metrics recorder behind a real proxy: requests, durations and retries as a scrape shows
 * them, and code "0" for a client that went away before the answer.
 */
import { request as httpGet } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { Metrics } from "../../../src/metrics/metrics.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { closeDefaultAgent, httpRequest } from "../../support/http-client.ts";
import { startResettingBackend } from "../../support/raw-backends.ts";
import { singleUpstreamConfig, startTestSwitchyard } from "../../support/switchyard.ts";
import { waitFor } from "../../support/ports.ts";
import { parsePrometheusText, sampleValue } from "../../support/prometheus-text.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await closeDefaultAgent();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track<T extends { close(): Promise<void> }>(closable: T): T {
  cleanups.push(() => closable.close());
  return closable;
}

async function value(metrics: Metrics, name: string, labels: Record<string, string>) {
  return sampleValue(parsePrometheusText(await metrics.render()), name, labels);
}

describe("metrics of proxied requests", () => {
  it("counts answers by code, observes durations and counts retries", async () => {
    const resetting = track(await startResettingBackend());
    const echo = track(await startEchoBackend());
    const metrics = new Metrics({ hasProcessMetrics: false });
    // Round-robin starts at the first endpoint: every other request meets the reset first.
    const proxy = track(
      await startTestSwitchyard(
        singleUpstreamConfig([resetting.url, echo.url], {
          route: { retries: { attempts: 1, budgetPercent: 100 } },
        }),
        { recorder: metrics },
      ),
    );
    metrics.syncSnapshot(proxy.runtime.current);

    for (let i = 0; i < 4; i++) expect((await httpRequest(`${proxy.url}/ok`)).status).toBe(200);
    echo.setStatus(503);
    expect((await httpRequest(`${proxy.url}/down`)).status).toBe(503);

    const web = { route: "web", upstream: "stable" };
    const requests = "switchyard_requests_total";
    expect(await value(metrics, requests, { ...web, code: "200" })).toBe(4);
    expect(await value(metrics, requests, { ...web, code: "503" })).toBe(1);
    expect(await value(metrics, "switchyard_request_duration_seconds_count", web)).toBe(5);
    // Every attempt beyond the first of each request is a retry.
    const attempts = echo.received.length + resetting.requestHeads.length;
    expect(attempts).toBeGreaterThan(5);
    expect(await value(metrics, "switchyard_retries_total", web)).toBe(attempts - 5);
    expect(await value(metrics, "switchyard_upstream_weight_percent", web)).toBe(100);
    // Label values are config names: the request path appears nowhere.
    expect(await metrics.render()).not.toMatch(/\/ok|\/down/);
  });

  it('counts code "0" when the client goes away before the answer', async () => {
    const echo = track(await startEchoBackend({ delayMs: 300 }));
    const metrics = new Metrics({ hasProcessMetrics: false });
    const proxy = track(
      await startTestSwitchyard(singleUpstreamConfig([echo.url]), { recorder: metrics }),
    );
    metrics.syncSnapshot(proxy.runtime.current);

    const client = httpGet(`${proxy.url}/slow`);
    client.on("error", () => undefined);
    client.end();
    await waitFor(() => echo.received.length === 1, { description: "the request upstream" });
    client.destroy();

    const labels = { route: "web", upstream: "stable", code: "0" };
    await waitFor(async () => (await value(metrics, "switchyard_requests_total", labels)) === 1, {
      description: "a request counted with code 0",
    });
  });
});

/**
 * Metrics of proxied requests as a Prometheus server scrapes them: `GET /metrics` on the admin
 * port of a switchyard started the way `serve` starts it, so the test goes through the real
 * wiring of the recorder. Requests, durations and retries are counted, and code "0" stands for
 * a client that went away before the answer.
 */
import { request as httpGet } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { closeDefaultAgent, get, httpRequest } from "../../support/http-client.ts";
import { originOf, waitFor } from "../../support/ports.ts";
import { parsePrometheusText, sampleValue } from "../../support/prometheus-text.ts";
import { startResettingBackend } from "../../support/raw-backends.ts";
import {
  singleUpstreamConfig,
  startTestSwitchyard,
  type TestSwitchyard,
} from "../../support/switchyard.ts";

const { track } = cleanupAfterEach();

afterEach(async () => {
  await closeDefaultAgent();
});

async function scrape(proxy: TestSwitchyard): Promise<string> {
  const answer = await get(`${originOf(proxy.adminPort)}/metrics`);
  expect(answer.status).toBe(200);
  return answer.body;
}

async function value(
  proxy: TestSwitchyard,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  return sampleValue(parsePrometheusText(await scrape(proxy)), name, labels);
}

describe("metrics of proxied requests", () => {
  it("counts answers by code, observes durations and counts retries", async () => {
    const resetting = track(await startResettingBackend());
    const echo = track(await startEchoBackend());
    // Round-robin starts at the first endpoint: every other request meets the reset first.
    const proxy = track(
      await startTestSwitchyard(
        singleUpstreamConfig([resetting.url, echo.url], {
          route: { retries: { attempts: 1, budgetPercent: 100 } },
        }),
      ),
    );

    for (let i = 0; i < 4; i++) expect((await httpRequest(`${proxy.url}/ok`)).status).toBe(200);
    echo.setStatus(503);
    expect((await httpRequest(`${proxy.url}/down`)).status).toBe(503);

    const web = { route: "web", upstream: "stable" };
    const requests = "switchyard_requests_total";
    expect(await value(proxy, requests, { ...web, code: "200" })).toBe(4);
    expect(await value(proxy, requests, { ...web, code: "503" })).toBe(1);
    expect(await value(proxy, "switchyard_request_duration_seconds_count", web)).toBe(5);
    // Every attempt beyond the first of each request is a retry.
    const attempts = echo.received.length + resetting.requestHeads.length;
    expect(attempts).toBeGreaterThan(5);
    expect(await value(proxy, "switchyard_retries_total", web)).toBe(attempts - 5);
    expect(await value(proxy, "switchyard_upstream_weight_percent", web)).toBe(100);
    // Label values are config names: the request path appears nowhere.
    expect(await scrape(proxy)).not.toMatch(/\/ok|\/down/);
  });

  it('counts code "0" when the client goes away before the answer', async () => {
    const echo = track(await startEchoBackend({ delayMs: 300 }));
    const proxy = track(await startTestSwitchyard(singleUpstreamConfig([echo.url])));

    const client = httpGet(`${proxy.url}/slow`);
    client.on("error", () => undefined);
    client.end();
    await waitFor(() => echo.received.length === 1, { description: "the request upstream" });
    client.destroy();

    const labels = { route: "web", upstream: "stable", code: "0" };
    await waitFor(async () => (await value(proxy, "switchyard_requests_total", labels)) === 1, {
      timeoutMs: 10_000,
      description: "a request counted with code 0",
    });
  });
});

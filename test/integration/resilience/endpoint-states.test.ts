/**
 * Endpoints by hand (SPEC 12, as HAProxy's `set server state`) through a real switchyard and
 * real backends on loopback: `drain` takes no new request but lets the one in flight finish,
 * `maintenance` takes nothing and is not health-checked, an upstream whose endpoints are all
 * out is unavailable (SPEC 3.5: fallback, else 503), `ready` brings the endpoint back, and the
 * states follow their URL through reloads and restarts. Requests are counted, never timed: an
 * in-flight request is one a backend holds until the test releases it.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { adminCall, getEvents, getStatus, setEndpointState } from "../../support/admin-calls.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { startEchoBackend } from "../../support/echo-backend.ts";
import { configText, startFileSwitchyard } from "../../support/file-switchyard.ts";
import { startHoldingBackend } from "../../support/holding-backend.ts";
import { closeDefaultAgent, get, hammer } from "../../support/http-client.ts";
import { waitFor } from "../../support/ports.ts";

const { track, defer } = cleanupAfterEach();
afterEach(async () => {
  await closeDefaultAgent();
});

/** Generous: the machine may be busy; nothing here waits on a timer of its own. */
const DEADLINE_MS = 10_000;

function twoEndpoints(a: string, b: string, extra: Record<string, unknown> = {}) {
  return {
    upstreams: { stable: { endpoints: [a, b], ...extra } },
    routes: [{ name: "web", split: { stable: 100 } }],
  };
}

async function endpointStates(adminUrl: string, upstream = "stable"): Promise<string[]> {
  const status = await getStatus(adminUrl);
  const found = status.upstreams.find((candidate) => candidate.name === upstream);
  return found?.endpoints.map((endpoint) => `${endpoint.url} ${endpoint.state}`) ?? [];
}

function errorCodeOf(body: string): string | undefined {
  return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
}

describe("drain", () => {
  it("sends new requests to the other endpoint while the drained one finishes the request it holds", async () => {
    const a = track(await startHoldingBackend("a"));
    const b = track(await startHoldingBackend("b"));
    const proxy = track(
      await startFileSwitchyard(twoEndpoints(a.url, b.url), { isWatchingConfig: false }),
    );
    // Round robin starts at endpoint 0: the first request is a's, and a holds it.
    const inFlight = get(`${proxy.url}/hold`, { timeoutMs: 60_000 });
    await waitFor(() => a.heldCount === 1, {
      timeoutMs: DEADLINE_MS,
      description: "a holding the first request",
    });

    const view = await setEndpointState(proxy.adminUrl, "stable", 0, "drain");
    expect(view).toMatchObject({ index: 0, url: a.url, before: "ready", state: "drain" });
    const drained = await hammer(`${proxy.url}/`, { total: 20, concurrency: 4 });
    expect(drained.byStatus).toEqual({ 200: 20 });
    expect(drained.byName).toEqual({ b: 20 });
    // a got none of them, and still holds the request it had.
    expect(a.requests).toBe(1);
    expect(a.heldCount).toBe(1);

    a.release();
    const finished = await inFlight;
    expect(finished.status).toBe(200);
    expect(JSON.parse(finished.body)).toEqual({ name: "a", held: true });

    await setEndpointState(proxy.adminUrl, "stable", 0, "ready");
    const restored = await hammer(`${proxy.url}/`, { total: 20, concurrency: 1 });
    expect(restored.byName).toEqual({ a: 10, b: 10 });
  });
});

describe("maintenance", () => {
  it("makes an upstream whose endpoints are all out unavailable: fallback, or 503 without it", async () => {
    const [a, b, c] = await Promise.all(
      ["a", "b", "c"].map(async (name) => track(await startEchoBackend({ name }))),
    );
    const proxy = track(
      await startFileSwitchyard(
        {
          upstreams: { stable: { endpoints: [a!.url, b!.url] }, canary: { endpoints: [c!.url] } },
          routes: [
            {
              name: "strict",
              match: { pathPrefix: "/strict" },
              split: { stable: 100 },
              fallback: false,
            },
            { name: "web", split: { stable: 100, canary: 0 } },
          ],
        },
        { isWatchingConfig: false },
      ),
    );
    expect((await hammer(`${proxy.url}/`, { total: 10 })).byName).toEqual({ a: 5, b: 5 });

    await setEndpointState(proxy.adminUrl, "stable", 0, "drain");
    await setEndpointState(proxy.adminUrl, "stable", 1, "maintenance");
    expect(await endpointStates(proxy.adminUrl)).toEqual([
      `${a!.url} drain`,
      `${b!.url} maintenance`,
    ]);
    const fallback = await hammer(`${proxy.url}/`, { total: 10 });
    expect(fallback.byName).toEqual({ c: 10 });
    const strict = await get(`${proxy.url}/strict`);
    expect(strict.status).toBe(503);
    expect(strict.headers["retry-after"]).toBe("1");
    expect(errorCodeOf(strict.body)).toBe("SWITCHYARD_UPSTREAM_UNAVAILABLE");
    const received = a!.received.length + b!.received.length;

    await setEndpointState(proxy.adminUrl, "stable", 1, "ready");
    const restored = await hammer(`${proxy.url}/strict`, { total: 10 });
    expect(restored.byName).toEqual({ b: 10 });
    // While both were out, neither got a request.
    expect(a!.received.length + b!.received.length).toBe(received + 10);
  });

  it("keeps health-checking a drained endpoint, probes none in maintenance, and checks it again first when it is ready", async () => {
    const [a, b] = await Promise.all(
      ["a", "b"].map(async (name) => track(await startEchoBackend({ name }))),
    );
    const healthCheck = { path: "/health", interval: "50ms", timeout: "2s" };
    const proxy = track(
      await startFileSwitchyard(twoEndpoints(a!.url, b!.url, { healthCheck }), {
        isWatchingConfig: false,
      }),
    );
    await setEndpointState(proxy.adminUrl, "stable", 0, "drain");
    await setEndpointState(proxy.adminUrl, "stable", 1, "maintenance");
    const aChecks = a!.healthChecks;
    const bChecks = b!.healthChecks;
    await waitFor(() => a!.healthChecks >= aChecks + 5, {
      timeoutMs: DEADLINE_MS,
      description: "five more checks of the drained endpoint",
    });
    // At most the probe that was already on its way when maintenance began.
    expect(b!.healthChecks).toBeLessThanOrEqual(bChecks + 1);

    const probedBefore = b!.healthChecks;
    await setEndpointState(proxy.adminUrl, "stable", 1, "ready");
    await waitFor(() => b!.healthChecks > probedBefore, {
      timeoutMs: DEADLINE_MS,
      description: "the endpoint out of maintenance probed again",
    });
    await waitFor(
      async () => {
        const status = await getStatus(proxy.adminUrl);
        return status.upstreams[0]?.endpoints[1]?.healthy;
      },
      { timeoutMs: DEADLINE_MS, description: "the endpoint healthy again" },
    );
    expect((await hammer(`${proxy.url}/`, { total: 10 })).byName).toEqual({ b: 10 });
  });
});

describe("endpoint states over time", () => {
  async function stateDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-endpoint-state-"));
    defer(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  it("survives a restart through the state file", async () => {
    const [a, b] = await Promise.all(
      ["a", "b"].map(async (name) => track(await startEchoBackend({ name }))),
    );
    const file = join(await stateDir(), "state.json");
    const config = { ...twoEndpoints(a!.url, b!.url), state: { file } };
    const first = track(await startFileSwitchyard(config, { isWatchingConfig: false }));
    await setEndpointState(first.adminUrl, "stable", 1, "maintenance");
    await first.close();
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({
      upstreams: {
        stable: { endpoints: { [b!.url]: { state: "maintenance", setBy: "anonymous" } } },
      },
    });

    const second = track(await startFileSwitchyard(config, { isWatchingConfig: false }));
    expect(await endpointStates(second.adminUrl)).toEqual([
      `${a!.url} ready`,
      `${b!.url} maintenance`,
    ]);
    expect((await hammer(`${second.url}/`, { total: 10 })).byName).toEqual({ a: 10 });
  });

  it("follows its URL through a reload, and is dropped with an event when the URL leaves", async () => {
    const [a, b, c] = await Promise.all(
      ["a", "b", "c"].map(async (name) => track(await startEchoBackend({ name }))),
    );
    const file = join(await stateDir(), "state.json");
    const withEndpoints = (endpoints: string[]) => ({
      upstreams: { stable: { endpoints } },
      routes: [{ name: "web", split: { stable: 100 } }],
      state: { file },
    });
    const proxy = track(
      await startFileSwitchyard(withEndpoints([a!.url, b!.url]), { isWatchingConfig: false }),
    );
    const reloadWith = async (endpoints: string[]): Promise<void> => {
      await writeFile(proxy.configFile, configText(withEndpoints(endpoints)));
      const answer = await adminCall(proxy.adminUrl, "POST", "/api/v1/reload");
      expect(answer.status).toBe(200);
    };
    await setEndpointState(proxy.adminUrl, "stable", 1, "drain");

    await reloadWith([b!.url, a!.url]);
    expect(await endpointStates(proxy.adminUrl)).toEqual([`${b!.url} drain`, `${a!.url} ready`]);
    expect((await hammer(`${proxy.url}/`, { total: 6 })).byName).toEqual({ a: 6 });

    const since = (await getEvents(proxy.adminUrl)).at(-1)?.id;
    await reloadWith([a!.url, c!.url]);
    expect(await endpointStates(proxy.adminUrl)).toEqual([`${a!.url} ready`, `${c!.url} ready`]);
    const dropped = (await getEvents(proxy.adminUrl, since)).filter((event) =>
      event.type.startsWith("endpoint.state"),
    );
    expect(dropped).toEqual([
      expect.objectContaining({
        type: "endpoint.stateDropped",
        upstream: "stable",
        url: b!.url,
        state: "drain",
        reason: 'the endpoint is no longer in upstream "stable"',
        actor: "anonymous",
      }),
    ]);
    await waitFor(
      async () => !("upstreams" in (JSON.parse(await readFile(file, "utf8")) as object)),
      { timeoutMs: DEADLINE_MS, description: "the state file without the dropped state" },
    );
  });
});

/**
 * Operators' endpoint states in the runtime (SPEC 12): set by index, kept by URL, copied onto
 * the Endpoint objects the data path reads, carried across reloads that keep the URL, dropped
 * with an event when the URL leaves the config, and each change an event with before and after.
 * Real upstreams built from a config (their pools never connect), a manual clock.
 */
import { afterEach, describe, expect, it } from "vitest";
import { configSchema, type Config } from "../../../src/config/schema.ts";
import { EventLog } from "../../../src/events/event-log.ts";
import {
  reconcileEndpointStates,
  type EndpointStateRecord,
  type EndpointStates,
} from "../../../src/runtime/endpoint-states.ts";
import { Runtime } from "../../../src/runtime/runtime.ts";
import type { EndpointAdminState } from "../../../src/upstream/endpoint-admin-state.ts";
import {
  buildUpstreams,
  closeUpstreams,
  type UpstreamMap,
} from "../../../src/upstream/upstream-set.ts";
import { captureLogs } from "../../support/captured-logs.ts";
import { ManualClock } from "../../support/manual-clock.ts";
import { testUpstreamDeps } from "../../support/upstream-deps.ts";

const A = "http://127.0.0.1:1";
const B = "http://127.0.0.1:2";
const C = "http://127.0.0.1:3";

function configWith(upstreams: Record<string, string[]>): Config {
  return configSchema.parse({
    upstreams: Object.fromEntries(
      Object.entries(upstreams).map(([name, endpoints]) => [name, { endpoints }]),
    ),
    routes: [{ name: "web", split: { [Object.keys(upstreams)[0] ?? ""]: 100 } }],
  });
}

const DRAINED: EndpointStateRecord = {
  state: "drain",
  setBy: "ops",
  setAt: "2026-01-01T00:00:00.000Z",
};

function statesOf(entries: [string, string, EndpointStateRecord][]): EndpointStates {
  const states = new Map<string, Map<string, EndpointStateRecord>>();
  for (const [upstream, url, record] of entries) {
    const records = states.get(upstream) ?? new Map<string, EndpointStateRecord>();
    records.set(url, record);
    states.set(upstream, records);
  }
  return states;
}

/** Upstream -> URL -> state, as the table holds it. */
function plain(states: EndpointStates): Record<string, Record<string, string>> {
  return Object.fromEntries(
    [...states].map(([upstream, records]) => [
      upstream,
      Object.fromEntries([...records].map(([url, record]) => [url, record.state])),
    ]),
  );
}

const opened: UpstreamMap[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((upstreams) => closeUpstreams(upstreams)));
});

function build(config: Config, previous?: UpstreamMap): UpstreamMap {
  const { upstreams } = buildUpstreams(config, testUpstreamDeps(), previous);
  opened.push(upstreams);
  return upstreams;
}

interface Harness {
  runtime: Runtime;
  events: EventLog;
  logs: ReturnType<typeof captureLogs>;
  persisted: EndpointStates[];
  followed: string[];
}

function startRuntime(config: Config, saved?: EndpointStates): Harness {
  const clock = new ManualClock();
  const events = new EventLog(clock);
  const logs = captureLogs("info");
  const persisted: EndpointStates[] = [];
  const followed: string[] = [];
  const runtime = new Runtime({
    config,
    configHash: "test",
    upstreams: build(config),
    ...(saved === undefined ? {} : { endpointStates: saved }),
    events,
    logger: logs.logger,
    clock,
    hooks: {
      endpointStatesChanged: (states) => persisted.push(statesOf(flatten(states))),
      endpointStateChanged: (endpoint) => followed.push(`${endpoint.url} ${endpoint.adminState}`),
    },
  });
  return { runtime, events, logs, persisted, followed };
}

function flatten(states: EndpointStates): [string, string, EndpointStateRecord][] {
  return [...states].flatMap(([upstream, records]) =>
    [...records].map(([url, record]): [string, string, EndpointStateRecord] => [
      upstream,
      url,
      record,
    ]),
  );
}

function adminStates(runtime: Runtime, upstream: string): EndpointAdminState[] {
  return runtime.current.upstreams.get(upstream)?.endpoints.map((e) => e.adminState) ?? [];
}

function set(runtime: Runtime, upstream: string, index: number, state: EndpointAdminState) {
  return runtime.setEndpointState({ upstream, index, state, source: "admin", actor: "ops" });
}

describe("reconcileEndpointStates", () => {
  it("keeps states whose upstream still lists the URL, at any index, and drops the others", () => {
    const saved = statesOf([
      ["stable", A, DRAINED],
      ["stable", B, { ...DRAINED, state: "maintenance" }],
      ["canary", C, DRAINED],
    ]);
    const { kept, dropped } = reconcileEndpointStates(saved, configWith({ stable: [C, A] }));
    expect(plain(kept)).toEqual({ stable: { [A]: "drain" } });
    expect(dropped.map(({ upstream, url, reason }) => [upstream, url, reason])).toEqual([
      ["stable", B, 'the endpoint is no longer in upstream "stable"'],
      ["canary", C, 'upstream "canary" is no longer in the config'],
    ]);
  });
});

describe("Runtime.setEndpointState", () => {
  it("sets the state on the endpoint, records it by URL, and reports the change once", async () => {
    const { runtime, events, logs, persisted, followed } = startRuntime(
      configWith({ stable: [A, B] }),
    );
    expect(adminStates(runtime, "stable")).toEqual(["ready", "ready"]);

    const result = await set(runtime, "stable", 1, "drain");
    expect(result).toEqual({
      ok: true,
      change: { upstream: "stable", index: 1, url: B, before: "ready", after: "drain" },
    });
    expect(adminStates(runtime, "stable")).toEqual(["ready", "drain"]);
    expect(plain(runtime.endpointStates)).toEqual({ stable: { [B]: "drain" } });
    expect(events.since(undefined)).toEqual([
      expect.objectContaining({
        type: "endpoint.stateChanged",
        upstream: "stable",
        index: 1,
        url: B,
        before: "ready",
        after: "drain",
        actor: "ops",
        source: "admin",
      }),
    ]);
    expect(logs.withMessage("endpoint state changed")).toEqual([
      expect.objectContaining({ actor: "ops", url: B, before: "ready", after: "drain" }),
    ]);
    expect(persisted.map(plain)).toEqual([{ stable: { [B]: "drain" } }]);
    expect(followed).toEqual([`${B} drain`]);

    // The same state again changes nothing and reports nothing.
    expect(await set(runtime, "stable", 1, "drain")).toMatchObject({
      ok: true,
      change: { before: "drain", after: "drain" },
    });
    expect(events.since(undefined)).toHaveLength(1);
    expect(persisted).toHaveLength(1);

    // Ready is the default: it is not kept.
    await set(runtime, "stable", 1, "maintenance");
    await set(runtime, "stable", 1, "ready");
    expect(adminStates(runtime, "stable")).toEqual(["ready", "ready"]);
    expect(plain(runtime.endpointStates)).toEqual({});
    expect(persisted.map(plain).at(-1)).toEqual({});
    expect(followed).toEqual([`${B} drain`, `${B} maintenance`, `${B} ready`]);
  });

  it.each([
    ["an unknown upstream", "blue", 0, "SWITCHYARD_UNKNOWN_UPSTREAM", 'no upstream named "blue"'],
    [
      "an index past the end",
      "stable",
      2,
      "SWITCHYARD_UNKNOWN_ENDPOINT",
      'upstream "stable" has no endpoint 2; its endpoints are 0 to 1 (in the order of its endpoints list)',
    ],
    [
      "an index of an upstream with one endpoint",
      "canary",
      1,
      "SWITCHYARD_UNKNOWN_ENDPOINT",
      'upstream "canary" has no endpoint 1; its one endpoint is 0 (in the order of its endpoints list)',
    ],
    [
      "a negative index",
      "stable",
      -1,
      "SWITCHYARD_UNKNOWN_ENDPOINT",
      'upstream "stable" has no endpoint -1; its endpoints are 0 to 1 (in the order of its endpoints list)',
    ],
  ])("refuses %s with 404 and changes nothing", async (_case, upstream, index, code, message) => {
    const { runtime, events, persisted } = startRuntime(
      configWith({ stable: [A, B], canary: [C] }),
    );
    expect(await set(runtime, upstream, index, "maintenance")).toEqual({
      ok: false,
      error: { status: 404, code, message },
    });
    expect(events.since(undefined)).toEqual([]);
    expect(persisted).toEqual([]);
    expect(adminStates(runtime, "stable")).toEqual(["ready", "ready"]);
  });
});

describe("endpoint states across configs", () => {
  it("follows the URL through a reload that moves it, and drops it when the URL leaves", async () => {
    const first = configWith({ stable: [A, B] });
    const { runtime, events, persisted } = startRuntime(first);
    await set(runtime, "stable", 1, "maintenance");
    const sinceSet = events.since(undefined).at(-1)?.id;

    // B moves to index 0 and C joins: B keeps its state, C is ready.
    const moved = configWith({ stable: [B, C, A] });
    runtime.applyConfig(moved, "moved", build(moved, runtime.current.upstreams), "watch");
    expect(adminStates(runtime, "stable")).toEqual(["maintenance", "ready", "ready"]);
    expect(events.since(sinceSet).filter((e) => e.type.startsWith("endpoint."))).toEqual([]);
    expect(persisted).toHaveLength(1);

    const gone = configWith({ stable: [C, A] });
    runtime.applyConfig(gone, "gone", build(gone, runtime.current.upstreams), "watch");
    expect(adminStates(runtime, "stable")).toEqual(["ready", "ready"]);
    expect(plain(runtime.endpointStates)).toEqual({});
    expect(events.since(sinceSet).filter((e) => e.type === "endpoint.stateDropped")).toEqual([
      expect.objectContaining({
        upstream: "stable",
        url: B,
        state: "maintenance",
        reason: 'the endpoint is no longer in upstream "stable"',
        actor: "watch",
      }),
    ]);
    expect(persisted.map(plain).at(-1)).toEqual({});

    // Back in the config later, the URL comes back ready: a drop is final.
    runtime.applyConfig(first, "first", build(first, runtime.current.upstreams), "watch");
    expect(adminStates(runtime, "stable")).toEqual(["ready", "ready"]);
  });

  it("keeps the state of an endpoint whose pool a reload replaced", async () => {
    const first = configWith({ stable: [A, B] });
    const { runtime } = startRuntime(first);
    await set(runtime, "stable", 0, "drain");
    const newPools = configSchema.parse({
      upstreams: { stable: { endpoints: [A, B], maxConnections: 7 } },
      routes: [{ name: "web", split: { stable: 100 } }],
    });
    const before = runtime.current.upstreams.get("stable")?.endpoints[0];
    runtime.applyConfig(newPools, "pools", build(newPools, runtime.current.upstreams), "watch");
    const after = runtime.current.upstreams.get("stable")?.endpoints[0];
    expect(after).not.toBe(before);
    expect(after?.adminState).toBe("drain");
  });

  it("restores saved states at startup onto the endpoints, dropping those whose URL is gone", () => {
    const saved = statesOf([
      ["stable", B, { ...DRAINED, state: "maintenance" }],
      ["stable", C, DRAINED],
    ]);
    const { runtime, events, persisted } = startRuntime(configWith({ stable: [A, B] }), saved);
    expect(adminStates(runtime, "stable")).toEqual(["ready", "maintenance"]);
    expect(events.since(undefined)).toEqual([
      expect.objectContaining({ type: "endpoint.stateDropped", url: C, actor: "startup" }),
    ]);
    // The state file forgets the dropped one, or a later restart would bring it back.
    expect(persisted.map(plain)).toEqual([{ stable: { [B]: "maintenance" } }]);
  });
});

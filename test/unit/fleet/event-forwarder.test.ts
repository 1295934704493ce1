/**
 * The forwarder of a replica's own events to the fleet's log: what it forwards (and what it
 * leaves to the shared writes that logged it already), batches, waiting while Redis is away,
 * and the bound on what waits. The store is a recorder: the script itself runs against a real
 * Redis in test/fleet/.
 */
import { describe, expect, it } from "vitest";
import { EventLog } from "../../../src/events/event-log.ts";
import { EventForwarder, isSharedMirror } from "../../../src/fleet/event-forwarder.ts";
import type { FleetEventInput } from "../../../src/fleet/fleet-event.ts";
import { createSilentLogger } from "../../../src/log/logger.ts";
import { ManualClock } from "../../support/manual-clock.ts";

type Batch = readonly { readonly event: FleetEventInput; readonly atMs: number }[];

function harness(options: { capacity?: number } = {}) {
  const clock = new ManualClock();
  const events = new EventLog(clock);
  const batches: Batch[] = [];
  const link = { isConnected: true, isAnswering: true };
  const store = {
    appendEvents: (batch: Batch) => {
      if (!link.isAnswering) {
        return Promise.resolve({
          ok: false as const,
          reason: "unavailable" as const,
          error: new Error("timeout"),
          outcomeUnknown: true,
        });
      }
      batches.push(batch);
      return Promise.resolve({ ok: true as const, lastId: batches.length });
    },
  };
  const forwarder = new EventForwarder({
    events,
    store,
    replica: "r1",
    isConnected: () => link.isConnected,
    logger: createSilentLogger(),
    clock,
    ...options,
  });
  forwarder.start();
  const types = () => batches.flat().map(({ event }) => event.type);
  return { clock, events, batches, link, forwarder, types };
}

describe("EventForwarder", () => {
  it("forwards this replica's own events in one batch, naming the replica, with their own time", async () => {
    const h = harness();
    h.events.append("breaker.state", { upstream: "canary", state: "open" });
    h.events.append("config.reloaded", { actor: "watch" });
    await h.clock.advanceAsync(1000);
    expect(h.batches).toHaveLength(1);
    expect(h.batches[0]).toEqual([
      {
        event: {
          type: "breaker.state",
          fields: { replica: "r1", upstream: "canary", state: "open" },
        },
        atMs: h.clock.wallNow() - 1000,
      },
      {
        event: { type: "config.reloaded", fields: { replica: "r1", actor: "watch" } },
        atMs: h.clock.wallNow() - 1000,
      },
    ]);
  });

  it("leaves shared-state changes to the write that logged them fleet-wide", async () => {
    const h = harness();
    h.events.append("rollout.decision", { route: "web" });
    h.events.append("rollout.action", { route: "web" });
    h.events.append("weights.changed", { route: "web", actor: "fleet" });
    // A split this replica's own config file changed is its own news.
    h.events.append("weights.changed", { route: "web", actor: "watch" });
    await h.clock.advanceAsync(1000);
    expect(h.types()).toEqual(["weights.changed"]);
    expect(isSharedMirror({ id: 1, at: "", type: "weights.changed", actor: "fleet" })).toBe(true);
  });

  it("keeps events while Redis is away and sends them, in order, once it answers", async () => {
    const h = harness();
    h.link.isConnected = false;
    h.events.append("fleet.disconnected", {});
    h.events.append("endpoint.healthChanged", { url: "http://127.0.0.1:1" });
    await h.clock.advanceAsync(5000);
    expect(h.batches).toEqual([]);
    h.link.isConnected = true;
    h.link.isAnswering = false;
    await h.clock.advanceAsync(2000);
    expect(h.batches).toEqual([]);
    h.link.isAnswering = true;
    h.events.append("fleet.connected", {});
    await h.clock.advanceAsync(2000);
    expect(h.types()).toEqual(["fleet.disconnected", "endpoint.healthChanged", "fleet.connected"]);
  });

  it("gives the oldest events up when more wait than it keeps, and counts them", async () => {
    const h = harness({ capacity: 2 });
    h.link.isConnected = false;
    for (const type of ["one", "two", "three"]) h.events.append(type, {});
    h.link.isConnected = true;
    await h.clock.advanceAsync(2000);
    expect(h.types()).toEqual(["two", "three"]);
    expect(h.forwarder.dropped).toBe(1);
  });
});

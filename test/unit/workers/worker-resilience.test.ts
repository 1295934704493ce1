import { describe, expect, it } from "vitest";
import { WorkerResilience } from "../../../src/workers/worker-resilience.ts";

describe("WorkerResilience", () => {
  it("shows the worst breaker state and how many workers are in it", () => {
    const view = new WorkerResilience();
    view.report(1, [{ upstream: "canary", breaker: "closed", ejected: [] }]);
    view.report(2, [{ upstream: "canary", breaker: "closed", ejected: [] }]);
    expect(view.breakerOf("canary")).toEqual({ state: "closed", workers: 2 });
    view.breakerChanged(2, "canary", "halfOpen");
    expect(view.breakerOf("canary")).toEqual({ state: "halfOpen", workers: 1 });
    view.breakerChanged(1, "canary", "open");
    expect(view.breakerOf("canary")).toEqual({ state: "open", workers: 1 });
    view.breakerChanged(2, "canary", "open");
    expect(view.breakerOf("canary")).toEqual({ state: "open", workers: 2 });
  });

  it("counts the workers that have an endpoint ejected", () => {
    const view = new WorkerResilience();
    view.report(1, [{ upstream: "stable", breaker: "closed", ejected: ["http://a"] }]);
    view.ejectionChanged(2, "stable", "http://a", true);
    expect(view.ejectedIn("stable", "http://a")).toBe(2);
    view.ejectionChanged(1, "stable", "http://a", false);
    expect(view.ejectedIn("stable", "http://a")).toBe(1);
    expect(view.ejectedIn("stable", "http://b")).toBe(0);
  });

  it("forgets a worker that exited: its replacement starts closed", () => {
    const view = new WorkerResilience();
    view.report(1, [{ upstream: "canary", breaker: "open", ejected: ["http://c"] }]);
    view.report(2, [{ upstream: "canary", breaker: "closed", ejected: [] }]);
    view.forget(1);
    expect(view.breakerOf("canary")).toEqual({ state: "closed", workers: 1 });
    expect(view.ejectedIn("canary", "http://c")).toBe(0);
  });
});

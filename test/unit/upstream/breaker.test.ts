/**
 * opossum schedules resetTimeout with the global setTimeout and stamps latencies with
 * Date.now, and the shared bucket rotation is a global setInterval: these tests fake those
 * timers (not setImmediate or microtasks) to move time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  UpstreamBreaker,
  type BreakerConfig,
  type BreakerState,
} from "../../../src/upstream/breaker.ts";
import { BucketRotations } from "../../../src/upstream/bucket-rotation.ts";

const RESET_MS = 30_000;
const WINDOW_MS = 10_000;

function config(overrides: Partial<BreakerConfig> = {}): BreakerConfig {
  return {
    errorThresholdPercentage: 50,
    volumeThreshold: 4,
    window: WINDOW_MS,
    resetTimeout: RESET_MS,
    ...overrides,
  };
}

/** Lets anything a settled call scheduled run before the next request. */
async function flush(): Promise<void> {
  await new Promise<void>((resolve) => {
    setImmediate(resolve);
  });
}

let rotations: BucketRotations;
let breakers: UpstreamBreaker[];

function setup(overrides: Partial<BreakerConfig> = {}) {
  const breaker = new UpstreamBreaker("canary", config(overrides), rotations);
  breakers.push(breaker);
  const transitions: string[] = [];
  breaker.onStateChange((state: BreakerState, previous: BreakerState) => {
    transitions.push(`${previous}->${state}`);
  });
  return { breaker, transitions };
}

/** Runs requests with the given outcomes ("s" success, "f" failure), one after another. */
async function run(breaker: UpstreamBreaker, outcomes: string): Promise<void> {
  for (const outcome of outcomes) {
    const call = breaker.begin();
    if (call === undefined) throw new Error("breaker refused a request");
    if (outcome === "s") call.succeed();
    else call.fail();
    await flush();
  }
}

async function openBreaker(breaker: UpstreamBreaker): Promise<void> {
  await run(breaker, "ffff");
  expect(breaker.state).toBe("open");
}

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
  });
  rotations = new BucketRotations();
  breakers = [];
});

afterEach(() => {
  for (const breaker of breakers) breaker.shutdown();
  vi.useRealTimers();
});

describe("UpstreamBreaker", () => {
  it("opens once volumeThreshold requests reach the failure percentage", async () => {
    const { breaker, transitions } = setup();
    await run(breaker, "ssf");
    expect(breaker.state).toBe("closed");
    await run(breaker, "f");
    // 2 of 4 failed: 50% reaches the 50% threshold.
    expect(breaker.state).toBe("open");
    expect(breaker.isAllowingRequests).toBe(false);
    expect(breaker.begin()).toBeUndefined();
    expect(transitions).toEqual(["closed->open"]);
  });

  it("stays closed below the failure percentage", async () => {
    const { breaker } = setup();
    await run(breaker, "sssfsssfsssf");
    expect(breaker.state).toBe("closed");
  });

  it("stays closed below volumeThreshold however many fail", async () => {
    const { breaker } = setup({ volumeThreshold: 10 });
    await run(breaker, "fffffffff");
    expect(breaker.state).toBe("closed");
    await run(breaker, "f");
    expect(breaker.state).toBe("open");
  });

  it("opens at 100% only when every request failed", async () => {
    const { breaker } = setup({ errorThresholdPercentage: 100 });
    await run(breaker, "sfffff");
    expect(breaker.state).toBe("closed");
    const { breaker: other } = setup({ errorThresholdPercentage: 100 });
    await run(other, "ffff");
    expect(other.state).toBe("open");
  });

  it("counts requests still in flight towards the volume", async () => {
    const { breaker } = setup();
    const calls = [breaker.begin(), breaker.begin(), breaker.begin(), breaker.begin()];
    calls[0]?.fail();
    calls[1]?.fail();
    await flush();
    expect(breaker.state).toBe("open");
    calls[2]?.succeed();
    calls[3]?.succeed();
    await flush();
    // Late successes from before the opening do not close it.
    expect(breaker.state).toBe("open");
  });

  it("half-opens after resetTimeout and lets exactly one trial through", async () => {
    const { breaker, transitions } = setup();
    await openBreaker(breaker);
    vi.advanceTimersByTime(RESET_MS - 1);
    expect(breaker.state).toBe("open");
    vi.advanceTimersByTime(1);
    expect(breaker.state).toBe("halfOpen");
    expect(breaker.isAllowingRequests).toBe(true);
    const trial = breaker.begin();
    expect(trial).toBeDefined();
    expect(breaker.isAllowingRequests).toBe(false);
    expect(breaker.begin()).toBeUndefined();
    expect(breaker.begin()).toBeUndefined();
    trial?.succeed();
    await flush();
    expect(breaker.state).toBe("closed");
    expect(breaker.isAllowingRequests).toBe(true);
    expect(transitions).toEqual(["closed->open", "open->halfOpen", "halfOpen->closed"]);
  });

  it("re-opens when the trial fails, and half-opens again after another resetTimeout", async () => {
    const { breaker, transitions } = setup();
    await openBreaker(breaker);
    vi.advanceTimersByTime(RESET_MS);
    const trial = breaker.begin();
    trial?.fail();
    // A second settle of the same call is ignored.
    trial?.succeed();
    await flush();
    expect(breaker.state).toBe("open");
    expect(breaker.begin()).toBeUndefined();
    vi.advanceTimersByTime(RESET_MS);
    expect(breaker.state).toBe("halfOpen");
    expect(transitions).toEqual([
      "closed->open",
      "open->halfOpen",
      "halfOpen->open",
      "open->halfOpen",
    ]);
  });

  it("drops failures older than the window", async () => {
    const { breaker } = setup();
    await run(breaker, "fff");
    vi.advanceTimersByTime(WINDOW_MS);
    // Without the rotation these would make 4 of 5 failed.
    await run(breaker, "sf");
    expect(breaker.state).toBe("closed");
  });

  it("keeps failures that are still inside the window", async () => {
    const { breaker } = setup();
    await run(breaker, "fff");
    vi.advanceTimersByTime(WINDOW_MS - 2000);
    await run(breaker, "f");
    expect(breaker.state).toBe("open");
  });

  it("shares one rotation timer per window length and leaves no timer after shutdown", async () => {
    const first = setup().breaker;
    const second = setup().breaker;
    const third = setup({ window: 20_000 }).breaker;
    expect(rotations.timerCount).toBe(2);
    expect(vi.getTimerCount()).toBe(2);
    await openBreaker(first);
    // The resetTimeout timer.
    expect(vi.getTimerCount()).toBe(3);
    first.shutdown();
    second.shutdown();
    expect(rotations.timerCount).toBe(1);
    third.shutdown();
    third.shutdown();
    expect(rotations.timerCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(first.begin()).toBeUndefined();
  });

  it("applies a reloaded threshold and resetTimeout in place", async () => {
    const { breaker } = setup();
    breaker.update(config({ errorThresholdPercentage: 75, resetTimeout: 5000 }));
    // 50% no longer opens it; 6 of 8 (75%) does.
    await run(breaker, "ssff");
    await run(breaker, "fff");
    expect(breaker.state).toBe("closed");
    await run(breaker, "f");
    expect(breaker.state).toBe("open");
    vi.advanceTimersByTime(5000);
    expect(breaker.state).toBe("halfOpen");
  });

  it("keeps an open breaker open when a reload changes its window", async () => {
    const { breaker, transitions } = setup();
    await openBreaker(breaker);
    breaker.update(config({ window: 20_000 }));
    expect(breaker.state).toBe("open");
    expect(breaker.begin()).toBeUndefined();
    expect(rotations.timerCount).toBe(1);
    vi.advanceTimersByTime(RESET_MS);
    expect(breaker.state).toBe("halfOpen");
    await run(breaker, "s");
    expect(breaker.state).toBe("closed");
    expect(transitions).toEqual(["closed->open", "open->halfOpen", "halfOpen->closed"]);
  });

  it("counts afresh with a reloaded volumeThreshold", async () => {
    const { breaker } = setup();
    await run(breaker, "fff");
    breaker.update(config({ volumeThreshold: 6 }));
    await run(breaker, "fffff");
    expect(breaker.state).toBe("closed");
    await run(breaker, "f");
    expect(breaker.state).toBe("open");
  });

  it("takes each outcome at once, with no microtask in between", () => {
    const { breaker, transitions } = setup();
    for (const outcome of "ssff") {
      const call = breaker.begin();
      if (call === undefined) throw new Error("breaker refused a request");
      if (outcome === "s") call.succeed();
      else call.fail();
    }
    expect(breaker.state).toBe("open");
    expect(transitions).toEqual(["closed->open"]);
  });

  it("ignores a second settle of the same call", () => {
    const { breaker } = setup({ volumeThreshold: 2 });
    const first = breaker.begin();
    first?.succeed();
    first?.fail();
    breaker.begin()?.fail();
    // One success and one failure: 50% opens it; a counted second settle would make it 67%.
    expect(breaker.state).toBe("open");
    const stillOneFailure = setup({ volumeThreshold: 2, errorThresholdPercentage: 60 }).breaker;
    const call = stillOneFailure.begin();
    call?.succeed();
    call?.fail();
    stillOneFailure.begin()?.fail();
    expect(stillOneFailure.state).toBe("closed");
  });

  it("leaves no unhandled rejection behind a failed call", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on("unhandledRejection", onUnhandled);
    try {
      const { breaker } = setup({ volumeThreshold: 100 });
      await run(breaker, "fsf");
      await flush();
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

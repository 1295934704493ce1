import { describe, expect, it } from "vitest";
import { Drain, type DrainableListener, type DrainTarget } from "../../../src/lifecycle/drain.ts";
import { createSilentLogger } from "../../../src/log/logger.ts";
import { ManualClock, settlePromises } from "../../support/manual-clock.ts";

const DRAIN_DELAY_MS = 5000;
const DRAIN_TIMEOUT_MS = 30_000;

/** A listener that journals what the drain asks of it; its connections end when told. */
class FakeListener implements DrainableListener {
  readonly journal: string[];
  #endConnections: () => void = () => undefined;
  #closed: Promise<void> | undefined;

  constructor(journal: string[]) {
    this.journal = journal;
  }

  stopAccepting(): Promise<void> {
    this.journal.push("stopAccepting");
    this.#closed ??= new Promise((resolve) => {
      this.#endConnections = resolve;
    });
    return this.#closed;
  }

  closeIdle(): void {
    this.journal.push("closeIdle");
  }

  closeAll(): void {
    this.journal.push("closeAll");
    this.#endConnections();
  }

  /** The requests in flight have finished. */
  finishInFlight(): void {
    this.#endConnections();
  }
}

function setup(): {
  clock: ManualClock;
  target: DrainTarget;
  listener: FakeListener;
  journal: string[];
  drain: Drain;
} {
  const clock = new ManualClock();
  const journal: string[] = [];
  const listener = new FakeListener(journal);
  const target: DrainTarget = {
    phase: "serving",
    current: { config: { server: { drainDelay: DRAIN_DELAY_MS, drainTimeout: DRAIN_TIMEOUT_MS } } },
  };
  const drain = new Drain({ target, listeners: [listener], clock, logger: createSilentLogger() });
  return { clock, target, listener, journal, drain };
}

describe("Drain", () => {
  it("is draining (listener open) for drainDelay, then closing, and ends when in-flight requests finish", async () => {
    const { clock, target, listener, journal, drain } = setup();
    let isDone = false;
    const running = drain.run().then(() => {
      isDone = true;
    });

    expect(target.phase).toBe("draining");
    await clock.advanceAsync(DRAIN_DELAY_MS - 1);
    expect(target.phase).toBe("draining");
    expect(journal).toEqual([]);

    await clock.advanceAsync(1);
    expect(target.phase).toBe("closing");
    expect(journal).toEqual(["stopAccepting", "closeIdle"]);
    expect(isDone).toBe(false);

    listener.finishInFlight();
    await running;
    // Nothing was forced, and no timer is left behind.
    expect(journal).toEqual(["stopAccepting", "closeIdle"]);
    expect(clock.pendingCount).toBe(0);
  });

  it("closes every connection at drainTimeout, counted from the start", async () => {
    const { clock, journal, drain } = setup();
    let isDone = false;
    const running = drain.run().then(() => {
      isDone = true;
    });
    await clock.advanceAsync(DRAIN_TIMEOUT_MS - 1);
    expect(journal).toEqual(["stopAccepting", "closeIdle"]);
    expect(isDone).toBe(false);

    await clock.advanceAsync(1);
    await running;
    expect(journal).toEqual(["stopAccepting", "closeIdle", "closeAll"]);
  });

  it("cut short during the delay, closes the listener and every connection at once", async () => {
    const { clock, target, journal, drain } = setup();
    const running = drain.run();
    await clock.advanceAsync(DRAIN_DELAY_MS / 2);

    drain.cutShort();
    await running;

    expect(target.phase).toBe("closing");
    expect(journal[0]).toBe("closeAll");
    expect(journal).toContain("stopAccepting");
    expect(journal.at(-1)).toBe("closeAll");
    expect(clock.pendingCount).toBe(0);
  });

  it("cut short while requests finish, stops waiting for them", async () => {
    const { clock, journal, drain } = setup();
    let isDone = false;
    const running = drain.run().then(() => {
      isDone = true;
    });
    await clock.advanceAsync(DRAIN_DELAY_MS);
    await settlePromises();
    expect(isDone).toBe(false);

    drain.cutShort();
    await running;

    expect(journal.slice(0, 3)).toEqual(["stopAccepting", "closeIdle", "closeAll"]);
    expect(clock.pendingCount).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { ChangeDebouncer } from "../../../src/config/watch.ts";
import { ManualClock } from "../../support/manual-clock.ts";

function setup(debounceMs = 200, maxWaitMs = 2000) {
  const clock = new ManualClock();
  const firedAt: number[] = [];
  const debouncer = new ChangeDebouncer({
    clock,
    debounceMs,
    maxWaitMs,
    fire: () => firedAt.push(clock.now()),
  });
  return { clock, firedAt, debouncer };
}

describe("ChangeDebouncer", () => {
  it("fires once, debounceMs after the last poke", () => {
    const { clock, firedAt, debouncer } = setup();
    debouncer.poke();
    clock.advance(150);
    debouncer.poke();
    clock.advance(150);
    debouncer.poke();
    expect(firedAt).toEqual([]);
    clock.advance(199);
    expect(firedAt).toEqual([]);
    clock.advance(1);
    expect(firedAt).toEqual([500]);
    clock.advance(5000);
    expect(firedAt).toEqual([500]);
    expect(debouncer.isPending).toBe(false);
  });

  it("fires at maxWaitMs after the first poke of an endless burst", () => {
    const { clock, firedAt, debouncer } = setup(200, 1000);
    for (let t = 0; t < 1500; t += 100) {
      debouncer.poke();
      clock.advance(100);
    }
    // 1000: the ceiling of the first burst; the second (1000..1400) ends 200 ms after 1400.
    clock.advance(1000);
    expect(firedAt).toEqual([1000, 1600]);
  });

  it("starts a new burst after firing", () => {
    const { clock, firedAt, debouncer } = setup(200, 2000);
    debouncer.poke();
    clock.advance(300);
    debouncer.poke();
    clock.advance(300);
    expect(firedAt).toEqual([200, 500]);
  });

  it("cancel drops a pending fire", () => {
    const { clock, firedAt, debouncer } = setup();
    debouncer.poke();
    debouncer.cancel();
    clock.advance(1000);
    expect(firedAt).toEqual([]);
    expect(clock.pendingCount).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { CommandTimeoutError, withTimeout } from "../../../src/fleet/with-timeout.ts";
import { ManualClock } from "../../support/manual-clock.ts";

/** A promise the test settles itself. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** The settled state of `promise` once pending callbacks have run. */
async function stateOf(promise: Promise<unknown>): Promise<string> {
  const marker = Symbol("pending");
  const winner = await Promise.race([
    promise.then(
      (value) => `resolved ${String(value)}`,
      (error: unknown) => `rejected ${(error as Error).name}`,
    ),
    new Promise((resolve) => setImmediate(resolve, marker)),
  ]);
  return winner === marker ? "pending" : String(winner);
}

describe("withTimeout", () => {
  it("gives the answer that comes in time", async () => {
    const clock = new ManualClock();
    const answer = deferred<string>();
    const bounded = withTimeout(answer.promise, 1000, "GET k", clock);
    clock.advance(999);
    answer.resolve("v");
    expect(await stateOf(bounded)).toBe("resolved v");
    clock.advance(10_000);
    expect(await bounded).toBe("v");
  });

  it("passes on an error that comes in time", async () => {
    const clock = new ManualClock();
    const answer = deferred<string>();
    const bounded = withTimeout(answer.promise, 1000, "GET k", clock);
    answer.reject(new TypeError("offline"));
    await expect(bounded).rejects.toThrow(TypeError);
  });

  it("rejects with a CommandTimeoutError naming the command once the time is up", async () => {
    const clock = new ManualClock();
    const answer = deferred<string>();
    const bounded = withTimeout(answer.promise, 1000, "GET k", clock);
    clock.advance(999);
    expect(await stateOf(bounded)).toBe("pending");
    clock.advance(1);
    const error = await bounded.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommandTimeoutError);
    expect((error as CommandTimeoutError).timeoutMs).toBe(1000);
    expect((error as Error).message).toBe("GET k: no answer from Redis within 1000 ms");
  });

  it("ignores an answer that comes after the timeout, without an unhandled rejection", async () => {
    const clock = new ManualClock();
    const answer = deferred<string>();
    const bounded = withTimeout(answer.promise, 10, "SET k", clock);
    clock.advance(10);
    await expect(bounded).rejects.toBeInstanceOf(CommandTimeoutError);
    answer.reject(new Error("late"));
    expect(await stateOf(answer.promise)).toBe("rejected Error");
  });

  it("wraps a thrown non-Error in an Error", async () => {
    const clock = new ManualClock();
    const answer = deferred<string>();
    const bounded = withTimeout(answer.promise, 10, "SET k", clock);
    answer.reject("text");
    await expect(bounded).rejects.toThrow("text");
  });
});

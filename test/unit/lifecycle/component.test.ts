import { describe, expect, it } from "vitest";
import {
  Lifecycle,
  StopError,
  stopOnly,
  type Component,
} from "../../../src/lifecycle/component.ts";
import { createCapturedLogger } from "../../support/captured-logger.ts";
import { createSilentLogger } from "../../../src/log/logger.ts";

/** Components that write "start NAME" / "stop NAME" to one journal, and fail when told. */
function journaled(
  journal: string[],
  name: string,
  fails: { start?: Error; stop?: Error } = {},
): Component {
  return {
    name,
    async start() {
      await Promise.resolve();
      journal.push(`start ${name}`);
      if (fails.start !== undefined) throw fails.start;
    },
    async stop() {
      await Promise.resolve();
      journal.push(`stop ${name}`);
      if (fails.stop !== undefined) throw fails.stop;
    },
  };
}

describe("Lifecycle", () => {
  it("starts in order and stops in reverse", async () => {
    const journal: string[] = [];
    const lifecycle = new Lifecycle(createSilentLogger());
    await lifecycle.start(["a", "b", "c"].map((name) => journaled(journal, name)));
    await lifecycle.stop();
    expect(journal).toEqual(["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
  });

  it("awaits each stop before the next one begins", async () => {
    const journal: string[] = [];
    const slow: Component = {
      name: "slow",
      start: () => Promise.resolve(),
      async stop() {
        journal.push("stop slow begins");
        for (let turn = 0; turn < 10; turn++) await Promise.resolve();
        journal.push("stop slow ends");
      },
    };
    const lifecycle = new Lifecycle(createSilentLogger());
    await lifecycle.start([journaled(journal, "a"), slow]);
    await lifecycle.stop();
    expect(journal).toEqual(["start a", "stop slow begins", "stop slow ends", "stop a"]);
  });

  it("stops what had started, in reverse, when a start fails, and rethrows that start's error", async () => {
    const journal: string[] = [];
    const failure = new Error("c cannot start");
    const lifecycle = new Lifecycle(createSilentLogger());
    const components = [
      journaled(journal, "a"),
      journaled(journal, "b"),
      journaled(journal, "c", { start: failure }),
      journaled(journal, "d"),
    ];
    await expect(lifecycle.start(components)).rejects.toBe(failure);
    // c failed, so it is not stopped; d never started.
    expect(journal).toEqual(["start a", "start b", "start c", "stop b", "stop a"]);
  });

  it("stops what earlier start calls started too", async () => {
    const journal: string[] = [];
    const lifecycle = new Lifecycle(createSilentLogger());
    await lifecycle.start([journaled(journal, "a")]);
    const failure = new Error("c cannot start");
    await expect(
      lifecycle.start([journaled(journal, "b"), journaled(journal, "c", { start: failure })]),
    ).rejects.toBe(failure);
    expect(journal).toEqual(["start a", "start b", "start c", "stop b", "stop a"]);
  });

  it("rethrows the start's error even when a rollback stop fails too", async () => {
    const journal: string[] = [];
    const failure = new Error("c cannot start");
    const lifecycle = new Lifecycle(createSilentLogger());
    const components = [
      journaled(journal, "a"),
      journaled(journal, "b", { stop: new Error("b cannot stop") }),
      journaled(journal, "c", { start: failure }),
    ];
    await expect(lifecycle.start(components)).rejects.toBe(failure);
    expect(journal).toEqual(["start a", "start b", "start c", "stop b", "stop a"]);
  });

  it("goes on past a stop that fails, logs it, and then rejects naming it", async () => {
    const journal: string[] = [];
    const { logger, lines } = createCapturedLogger();
    const lifecycle = new Lifecycle(logger);
    const stopFailure = new Error("b cannot stop");
    await lifecycle.start([
      journaled(journal, "a"),
      journaled(journal, "b", { stop: stopFailure }),
      journaled(journal, "c"),
    ]);

    const stopping = lifecycle.stop();

    await expect(stopping).rejects.toBeInstanceOf(StopError);
    await expect(stopping).rejects.toMatchObject({ errors: [stopFailure] });
    await expect(stopping).rejects.toThrow("cannot stop b");
    expect(journal).toEqual(["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
    const logged = lines.filter((line) => line.msg === "cannot stop a component");
    expect(logged.map((line) => line.component)).toEqual(["b"]);
  });

  it("stops each component once, however often stop is called", async () => {
    const journal: string[] = [];
    const lifecycle = new Lifecycle(createSilentLogger());
    await lifecycle.start([journaled(journal, "a"), journaled(journal, "b")]);
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    await lifecycle.stop();
    expect(journal).toEqual(["start a", "start b", "stop b", "stop a"]);
  });

  it("refuses to start once stopped", async () => {
    const journal: string[] = [];
    const lifecycle = new Lifecycle(createSilentLogger());
    await lifecycle.stop();
    await expect(lifecycle.start([journaled(journal, "a")])).rejects.toThrow(/stopped/);
    expect(journal).toEqual([]);
  });
});

describe("stopOnly", () => {
  it("starts at once and stops with the given function, sync or async", async () => {
    const journal: string[] = [];
    const lifecycle = new Lifecycle(createSilentLogger());
    await lifecycle.start([
      stopOnly("sync", () => {
        journal.push("stop sync");
      }),
      stopOnly("async", async () => {
        await Promise.resolve();
        journal.push("stop async");
      }),
    ]);
    expect(journal).toEqual([]);
    await lifecycle.stop();
    expect(journal).toEqual(["stop async", "stop sync"]);
  });
});

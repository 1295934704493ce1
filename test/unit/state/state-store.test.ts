/** The state store on real temp directories: round trips, atomic replacement, coalescing. */
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSilentLogger } from "../../../src/log/logger.ts";
import { writeTempFileDurably, type WriteTempFile } from "../../../src/state/atomic-write.ts";
import type { PersistedState } from "../../../src/state/state-schema.ts";
import { StateStore } from "../../../src/state/state-store.ts";
import { ManualClock } from "../../support/manual-clock.ts";

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-state-"));
  file = join(dir, "state.json");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function stateWith(canaryPercent: number, rollout: Record<string, unknown> | null = null) {
  return {
    version: 1,
    routes: {
      web: {
        override: {
          weights: { stable: 100 - canaryPercent, canary: canaryPercent },
          source: "admin" as const,
          setBy: "ops",
          setAt: "2026-01-01T00:00:00.000Z",
          fileSplit: { stable: 95, canary: 5 },
        },
        rollout,
      },
      api: { override: null, rollout: null },
    },
  } satisfies PersistedState;
}

function captureLogger() {
  const entries: { level: number; msg: string; movedTo?: string }[] = [];
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        entries.push(JSON.parse(chunk.toString()) as (typeof entries)[number]);
        callback();
      },
    }),
  );
  return { logger, entries };
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, "utf8")) as unknown;
}

describe("StateStore", () => {
  it("loads a missing file as new, empty state", async () => {
    const store = new StateStore({ file, logger: createSilentLogger() });
    expect(await store.load()).toEqual({
      ok: true,
      isNew: true,
      state: { version: 1, routes: {} },
    });
  });

  it("round-trips a saved state through a new store", async () => {
    const state = stateWith(10, { phase: "progressing", stepIndex: 2, failures: 1 });
    await new StateStore({ file, logger: createSilentLogger() }).save(state);
    const loaded = await new StateStore({ file, logger: createSilentLogger() }).load();
    expect(loaded).toEqual({ ok: true, isNew: false, state });
  });

  it("creates missing directories", async () => {
    const nested = join(dir, "var", "lib", "state.json");
    const store = new StateStore({ file: nested, logger: createSilentLogger() });
    await store.save(stateWith(10));
    expect(await readJson(nested)).toEqual(stateWith(10));
  });

  it("refuses to save a state that would not load back", async () => {
    const store = new StateStore({ file, logger: createSilentLogger() });
    await store.save(stateWith(10));
    await expect(store.save(stateWith(150))).rejects.toThrow();
    expect(await readJson(file)).toEqual(stateWith(10));
  });

  it("keeps the previous file whole when a write fails part-way", async () => {
    const tempPaths: string[] = [];
    let isFailing = false;
    const writeTempFile: WriteTempFile = async (path, text) => {
      tempPaths.push(path);
      if (!isFailing) return writeTempFileDurably(path, text);
      await writeFile(path, text.slice(0, text.length / 2));
      throw new Error("simulated crash in the middle of the write");
    };
    const store = new StateStore({ file, logger: createSilentLogger(), writeTempFile });
    await store.save(stateWith(10));
    const before = await readFile(file, "utf8");

    isFailing = true;
    await expect(store.save(stateWith(20))).rejects.toThrow(/simulated crash/);
    expect(await readFile(file, "utf8")).toBe(before);
    // The half-written temp file was in the same directory, named for this process, and
    // is cleaned up.
    expect(tempPaths[1]).toMatch(
      new RegExp(`^${dir}/\\.state\\.json\\.tmp-${String(process.pid)}-\\d+$`),
    );
    expect(await readdir(dir)).toEqual(["state.json"]);

    isFailing = false;
    await store.save(stateWith(30));
    expect(await readJson(file)).toEqual(stateWith(30));
  });

  it("never lets a reader see a partial file", async () => {
    // Big enough that a non-atomic write would be caught half-done by the reader.
    const bigRollout = {
      decisions: Array.from({ length: 20_000 }, (_, i) => ({ i, reason: "ok" })),
    };
    const store = new StateStore({ file, logger: createSilentLogger() });
    await store.save(stateWith(1, bigRollout));
    const progress = { isWriting: true };
    let reads = 0;
    const reader = (async () => {
      while (progress.isWriting) {
        const text = await readFile(file, "utf8");
        expect(() => JSON.parse(text) as unknown).not.toThrow();
        reads++;
      }
    })();
    for (let i = 2; i <= 30; i++) await store.save(stateWith(i, bigRollout));
    progress.isWriting = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(await readJson(file)).toEqual(stateWith(30, bigRollout));
  });

  it("coalesces saves requested while a write is in flight", async () => {
    let writes = 0;
    const writeTempFile: WriteTempFile = async (path, text) => {
      writes++;
      await writeTempFileDurably(path, text);
    };
    const store = new StateStore({ file, logger: createSilentLogger(), writeTempFile });
    const saves = Array.from({ length: 10 }, (_, i) => store.save(stateWith(i + 1)));
    await Promise.all(saves);
    // The first starts at once; the other nine collapse into one write of the last state.
    expect(writes).toBe(2);
    expect(await readJson(file)).toEqual(stateWith(10));
  });

  it("flush waits for every requested save", async () => {
    const store = new StateStore({ file, logger: createSilentLogger() });
    void store.save(stateWith(1)).catch(() => undefined);
    void store.save(stateWith(2)).catch(() => undefined);
    await store.flush();
    expect(await readJson(file)).toEqual(stateWith(2));
  });

  it.each([
    ["not JSON", '{ "version": 1, "routes": ', "corrupt", /not valid JSON/],
    ["an empty file", "", "corrupt", /not valid JSON/],
    ["no version", '{"routes": {}}', "corrupt", /no format version/],
    [
      "a wrong shape",
      JSON.stringify({ version: 1, routes: { web: { override: { weights: { a: "x" } } } } }),
      "corrupt",
      /malformed: routes\.web\.override\.weights\.a/,
    ],
    [
      "another version",
      '{"version": 2, "routes": {}}',
      "unsupportedVersion",
      /format version 2.*reads version 1/,
    ],
  ])(
    "reports %s, then sets the file aside before saving",
    async (_name, content, reason, message) => {
      await writeFile(file, content);
      const { logger, entries } = captureLogger();
      const store = new StateStore({ file, logger, clock: new ManualClock() });
      const loaded = await store.load();
      expect(loaded).toMatchObject({ ok: false, reason, state: { version: 1, routes: {} } });
      expect(loaded.ok ? "" : loaded.message).toMatch(message);
      expect(loaded.ok ? "" : loaded.message).toContain(file);
      // Loading alone touches nothing.
      expect(await readFile(file, "utf8")).toBe(content);

      await store.save(stateWith(10));
      const aside = `${file}.corrupt-20260101T000000.000Z`;
      expect(await readFile(aside, "utf8")).toBe(content);
      expect(await readJson(file)).toEqual(stateWith(10));
      const warning = entries.find((e) => e.movedTo !== undefined);
      expect(warning).toMatchObject({ level: 40, movedTo: aside });
      expect(warning?.msg).toContain(aside);
    },
  );

  it("sets a bad file aside even when save comes without a load", async () => {
    await writeFile(file, "garbage");
    const store = new StateStore({ file, logger: createSilentLogger(), clock: new ManualClock() });
    await store.save(stateWith(10));
    expect(await readFile(`${file}.corrupt-20260101T000000.000Z`, "utf8")).toBe("garbage");
  });

  it("never overwrites an earlier set-aside file", async () => {
    const clock = new ManualClock();
    await writeFile(file, "first garbage");
    await new StateStore({ file, logger: createSilentLogger(), clock }).save(stateWith(10));
    await writeFile(file, "second garbage");
    await new StateStore({ file, logger: createSilentLogger(), clock }).save(stateWith(20));
    const stamp = `${file}.corrupt-20260101T000000.000Z`;
    expect(await readFile(stamp, "utf8")).toBe("first garbage");
    expect(await readFile(`${stamp}-2`, "utf8")).toBe("second garbage");
  });
});

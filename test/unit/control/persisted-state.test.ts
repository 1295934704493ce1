/**
 * PersistedStateKeeper on a real state store in a temporary directory: what it loads from a
 * missing, corrupt or valid file (percentages back to basis points, overrides that no longer
 * sum to 100 dropped), and what it writes as overrides and rollout records change: the whole
 * state each time, bursts coalesced, a failed write retried by the next change.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { PersistedStateKeeper } from "../../../src/control/persisted-state.ts";
import type { SplitOverride } from "../../../src/runtime/split-overrides.ts";
import { writeTempFileDurably, type WriteTempFile } from "../../../src/state/atomic-write.ts";
import { StateStore } from "../../../src/state/state-store.ts";
import { captureLogs, LOG_LEVEL } from "../../support/captured-logs.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { ManualClock } from "../../support/manual-clock.ts";

const { defer } = cleanupAfterEach();

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-keeper-"));
  file = join(dir, "state.json");
  defer(() => rm(dir, { recursive: true, force: true }));
});

const SET_AT = "2026-01-01T00:00:00.000Z";

/** An admin override of route web: `canaryBp` to the canary, the rest to stable. */
function override(canaryBp: number): SplitOverride {
  return {
    entries: [
      { upstream: "stable", weightBp: 10_000 - canaryBp },
      { upstream: "canary", weightBp: canaryBp },
    ],
    source: "admin",
    setBy: "ops",
    setAt: SET_AT,
    fileSplit: [
      { upstream: "stable", weightBp: 9500 },
      { upstream: "canary", weightBp: 500 },
    ],
  };
}

const ROLLOUT = { phase: "paused", stepIndex: 1, failures: 0, decisions: [] };

function keeperOn(options: { writeTempFile?: WriteTempFile } = {}) {
  const logs = captureLogs();
  const store = new StateStore({
    file,
    logger: logs.logger,
    clock: new ManualClock(),
    ...(options.writeTempFile === undefined ? {} : { writeTempFile: options.writeTempFile }),
  });
  return { keeper: new PersistedStateKeeper(store, logs.logger), logs };
}

/** Writes a state file (format version 1) holding `routes`, as an earlier run left it. */
async function writeStateFile(routes: Record<string, unknown>): Promise<void> {
  await writeFile(file, JSON.stringify({ version: 1, routes }));
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, "utf8")) as unknown;
}

describe("PersistedStateKeeper.load", () => {
  it("starts empty, quietly, without a store or without a file", async () => {
    const logs = captureLogs();
    const storeless = new PersistedStateKeeper(undefined, logs.logger);
    expect(await storeless.load()).toEqual({
      overrides: new Map(),
      rollouts: new Map(),
      endpointStates: new Map(),
    });
    // Without a store, changes are kept nowhere and nothing fails.
    storeless.setOverrides(new Map([["web", override(3000)]]));
    storeless.setRollout("web", ROLLOUT);
    await storeless.flush();

    const { keeper, logs: storeLogs } = keeperOn();
    expect(await keeper.load()).toEqual({
      overrides: new Map(),
      rollouts: new Map(),
      endpointStates: new Map(),
    });
    expect([...logs.entries, ...storeLogs.entries]).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("starts empty from a corrupt file, with a warning, and sets it aside on the next save", async () => {
    await writeFile(file, "{ not json");
    const { keeper, logs } = keeperOn();
    expect(await keeper.load()).toEqual({
      overrides: new Map(),
      rollouts: new Map(),
      endpointStates: new Map(),
    });
    const [warning] = logs.atLevel(LOG_LEVEL.warn);
    expect(warning).toMatchObject({ reason: "corrupt" });
    expect(warning?.msg).toContain(
      "starting without saved weights, rollout progress or endpoint states",
    );

    keeper.setRollout("web", ROLLOUT);
    await keeper.flush();
    expect((await readdir(dir)).sort()).toEqual([
      "state.json",
      "state.json.corrupt-20260101T000000.000Z",
    ]);
    expect(await readJson(file)).toEqual({
      version: 1,
      routes: { web: { override: null, rollout: ROLLOUT } },
    });
  });

  it("gives back overrides in basis points and rollout records as saved", async () => {
    await writeStateFile({
      web: {
        override: {
          weights: { stable: 66.67, canary: 33.33 },
          source: "rollout",
          setBy: "rollout",
          setAt: SET_AT,
          fileSplit: { stable: 100 },
        },
        rollout: ROLLOUT,
      },
      api: { override: null, rollout: null },
    });
    const { keeper } = keeperOn();
    const loaded = await keeper.load();
    expect(loaded.overrides).toEqual(
      new Map([
        [
          "web",
          {
            entries: [
              { upstream: "stable", weightBp: 6667 },
              { upstream: "canary", weightBp: 3333 },
            ],
            source: "rollout",
            setBy: "rollout",
            setAt: SET_AT,
            fileSplit: [{ upstream: "stable", weightBp: 10_000 }],
          },
        ],
      ]),
    );
    expect(loaded.rollouts).toEqual(new Map([["web", ROLLOUT]]));
  });

  it.each([
    ["weights that do not sum to 100", { stable: 60, canary: 30 }, { stable: 100 }],
    ["a file split that does not sum to 100", { stable: 100 }, { stable: 90 }],
    ["a weight finer than a basis point", { stable: 100, canary: 0.005 }, { stable: 100 }],
  ])(
    "drops an override with %s, with a warning, and keeps the route's rollout",
    async (_name, weights, fileSplit) => {
      await writeStateFile({
        web: {
          override: { weights, source: "admin", setBy: "ops", setAt: SET_AT, fileSplit },
          rollout: ROLLOUT,
        },
      });
      const { keeper, logs } = keeperOn();
      const loaded = await keeper.load();
      expect(loaded.overrides).toEqual(new Map());
      expect(loaded.rollouts).toEqual(new Map([["web", ROLLOUT]]));
      expect(logs.atLevel(LOG_LEVEL.warn)).toEqual([
        expect.objectContaining({
          route: "web",
          msg: "ignoring a saved weight override that does not sum to 100",
        }),
      ]);
    },
  );
});

describe("PersistedStateKeeper saves", () => {
  it("writes the whole state as percentages, and forgets a route left with neither", async () => {
    const { keeper } = keeperOn();
    await keeper.load();
    keeper.setOverrides(new Map([["web", override(2500)]]));
    keeper.setRollout("api", ROLLOUT);
    await keeper.flush();
    expect(await readJson(file)).toEqual({
      version: 1,
      routes: {
        web: {
          override: {
            weights: { stable: 75, canary: 25 },
            source: "admin",
            setBy: "ops",
            setAt: SET_AT,
            fileSplit: { stable: 95, canary: 5 },
          },
          rollout: null,
        },
        api: { override: null, rollout: ROLLOUT },
      },
    });

    keeper.setRollout("api", null);
    keeper.setOverrides(new Map());
    await keeper.flush();
    expect(await readJson(file)).toEqual({ version: 1, routes: {} });
  });

  it("keeps what it loaded when something else changes", async () => {
    const first = keeperOn().keeper;
    first.setOverrides(new Map([["web", override(2500)]]));
    first.setRollout("web", ROLLOUT);
    await first.flush();
    const saved = await readJson(file);

    const second = keeperOn().keeper;
    await second.load();
    second.setRollout("api", ROLLOUT);
    await second.flush();
    expect(await readJson(file)).toEqual({
      version: 1,
      routes: {
        ...(saved as { routes: object }).routes,
        api: { override: null, rollout: ROLLOUT },
      },
    });
  });

  it("takes a copy of the overrides it is given", async () => {
    const { keeper } = keeperOn();
    const overrides = new Map([["web", override(2500)]]);
    keeper.setOverrides(overrides);
    overrides.clear();
    keeper.setRollout("api", ROLLOUT);
    await keeper.flush();
    expect(await readJson(file)).toMatchObject({
      routes: { web: { override: { weights: { stable: 75, canary: 25 } } } },
    });
  });

  it("round-trips through the file into a new keeper", async () => {
    const first = keeperOn().keeper;
    const overrides = new Map([["web", override(1234)]]);
    first.setOverrides(overrides);
    first.setRollout("web", ROLLOUT);
    await first.flush();
    expect(await keeperOn().keeper.load()).toEqual({
      overrides,
      rollouts: new Map([["web", ROLLOUT]]),
      endpointStates: new Map(),
    });
  });

  it("coalesces a burst of changes into at most two writes, ending with the last state", async () => {
    let writes = 0;
    const { keeper } = keeperOn({
      writeTempFile: async (path, text) => {
        writes++;
        await writeTempFileDurably(path, text);
      },
    });
    for (let bp = 100; bp <= 1000; bp += 100) keeper.setOverrides(new Map([["web", override(bp)]]));
    await keeper.flush();
    expect(writes).toBe(2);
    expect(await readJson(file)).toMatchObject({
      routes: { web: { override: { weights: { stable: 90, canary: 10 } } } },
    });
  });

  it("survives a failed write: the next change writes everything kept in memory", async () => {
    let failuresLeft = 1;
    const { keeper, logs } = keeperOn({
      writeTempFile: async (path, text) => {
        if (failuresLeft-- > 0) throw new Error("disk full");
        await writeTempFileDurably(path, text);
      },
    });
    keeper.setOverrides(new Map([["web", override(2500)]]));
    await keeper.flush();
    expect(logs.withMessage("cannot write the state file")).toHaveLength(1);
    expect(await readdir(dir)).toEqual([]);

    keeper.setRollout("api", ROLLOUT);
    await keeper.flush();
    expect(await readJson(file)).toMatchObject({
      routes: {
        web: { override: { weights: { stable: 75, canary: 25 } } },
        api: { rollout: ROLLOUT },
      },
    });
  });
});

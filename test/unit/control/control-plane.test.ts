/**
 * The control plane's own behaviour, beyond the contract it shares with FakeControl
 * (test/integration/control/): reloads of the config file (what each outcome says, what is
 * reported where, refused content seen again, one reload at a time) and how status is
 * composed from the runtime, the upstreams, the health checker and the last config error.
 * Built from its parts on a manual clock; no listener, no traffic.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { ReloadOutcome } from "../../../src/control/control-api.ts";
import { ControlPlane, type RolloutView } from "../../../src/control/control-plane.ts";
import { configContentOf, loadConfigFile } from "../../../src/config/load.ts";
import type { Config } from "../../../src/config/schema.ts";
import { EventLog } from "../../../src/events/event-log.ts";
import { Runtime } from "../../../src/runtime/runtime.ts";
import { BucketRotations } from "../../../src/upstream/bucket-rotation.ts";
import { HealthChecker } from "../../../src/upstream/health-checker.ts";
import { buildUpstreams, closeUpstreams } from "../../../src/upstream/upstream-set.ts";
import { captureLogs, LOG_LEVEL } from "../../support/captured-logs.ts";
import { cleanupAfterEach } from "../../support/cleanups.ts";
import { configText, makeConfigDir } from "../../support/file-switchyard.ts";
import { ManualClock } from "../../support/manual-clock.ts";

const { defer } = cleanupAfterEach();

/** Never connected to: no traffic flows. */
const S1 = "http://127.0.0.1:9";
const S2 = "http://127.0.0.1:10";
const C1 = "http://127.0.0.1:11";
const C2 = "http://127.0.0.1:12";
const ACTOR = "ops";
const START = "2026-01-01T00:00:00.000Z";

/** Route web splitting stable and canary; `extra` merged over the top level. */
function scenario(canaryPercent: number, extra: Record<string, unknown> = {}) {
  return {
    upstreams: {
      stable: {
        endpoints: [S1, S2],
        outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 50 },
      },
      canary: { endpoints: [C1], breaker: { volumeThreshold: 1 } },
    },
    routes: [{ name: "web", split: { stable: 100 - canaryPercent, canary: canaryPercent } }],
    ...extra,
  };
}

/** A config the loader refuses: the split names an upstream there is none of. */
const REFUSED_TEXT = configText({
  upstreams: { stable: { endpoints: [S1] } },
  routes: [{ name: "web", split: { stable: 90, ghost: 10 } }],
});

/** A rollout view that records the configs it is told about; `failNext` rejects once. */
class RecordingRollouts implements RolloutView {
  readonly applied: Config[] = [];
  failNext = false;
  status(): null {
    return null;
  }
  isBlockingWeights(): boolean {
    return false;
  }
  configApplied(config: Config): Promise<void> {
    this.applied.push(config);
    if (!this.failNext) return Promise.resolve();
    this.failNext = false;
    return Promise.reject(new Error("rollouts could not follow"));
  }
  act(): never {
    throw new Error("not used here");
  }
}

async function startControl(
  raw: Record<string, unknown> = scenario(10),
  options: { isChecking?: boolean; hasRollouts?: boolean } = {},
) {
  const configDir = await makeConfigDir(configText(raw));
  defer(configDir.remove);
  const loaded = await loadConfigFile(configDir.configFile);
  if (!loaded.ok) throw new Error(`invalid test config: ${JSON.stringify(loaded.problems)}`);
  const clock = new ManualClock();
  const logs = captureLogs();
  const events = new EventLog(clock);
  const upstreamDeps = {
    clock,
    rotations: new BucketRotations(),
    listener: { onOutlierEvent: () => undefined, onBreakerStateChange: () => undefined },
  };
  const { upstreams } = buildUpstreams(loaded.config, upstreamDeps);
  const healthChecker = new HealthChecker({
    upstreams,
    logger: logs.logger,
    clock,
    // Probes that never answer: a checked endpoint stays in its first round.
    createProber: () => ({
      probe: () => new Promise(() => undefined),
      close: () => Promise.resolve(),
    }),
  });
  const runtime = new Runtime({
    config: loaded.config,
    configHash: loaded.hash,
    upstreams,
    events,
    logger: logs.logger,
    clock,
  });
  const reloads: string[] = [];
  const appliedToListeners: Config[] = [];
  const rollouts = new RecordingRollouts();
  const control = new ControlPlane({
    configFile: configDir.configFile,
    config: loaded.config,
    configHash: loaded.hash,
    runtime,
    upstreamDeps,
    healthChecker,
    events,
    logger: logs.logger,
    clock,
    env: {},
    ...(options.hasRollouts === false ? {} : { rollouts }),
    hooks: {
      reloadFinished: (result) => reloads.push(result),
      configApplied: (config) => appliedToListeners.push(config),
    },
  });
  defer(async () => {
    await healthChecker.stop();
    await closeUpstreams(runtime.current.upstreams);
  });
  if (options.isChecking !== true) expect(healthChecker.isFirstRoundDone).toBe(true);
  return {
    control,
    runtime,
    events,
    logs,
    clock,
    rollouts,
    reloads,
    appliedToListeners,
    configFile: configDir.configFile,
    initialHash: loaded.hash,
    write: (text: string) => writeFile(configDir.configFile, text),
    /** The file as the watcher hands it over. */
    watched: async () => configContentOf(await readFile(configDir.configFile)),
  };
}

function typesOf(events: readonly { type: string }[]): string[] {
  return events.map((event) => event.type);
}

describe("ControlPlane.reload", () => {
  it("applies a changed file: the new config in force, reported once everywhere", async () => {
    const h = await startControl();
    await h.write(configText(scenario(30)));
    const loaded = await loadConfigFile(h.configFile);
    const hash = loaded.ok ? loaded.hash : "";
    h.clock.advance(5000);

    const outcome = await h.control.reload(ACTOR);
    expect(outcome).toEqual({
      applied: true,
      changed: true,
      hash,
      error: null,
      restartRequired: [],
    });
    expect(h.runtime.current.configHash).toBe(hash);
    expect(h.control.status().routes[0]?.split).toEqual({ stable: 70, canary: 30 });
    expect(h.control.status().config).toEqual({
      file: h.configFile,
      hash,
      loadedAt: "2026-01-01T00:00:05.000Z",
      lastError: null,
      restartRequired: [],
    });
    const reloaded = h.events.since(undefined).filter((e) => e.type === "config.reloaded");
    expect(reloaded).toEqual([expect.objectContaining({ actor: ACTOR, hash, file: h.configFile })]);
    expect(h.logs.withMessage("config reloaded")).toHaveLength(1);
    expect(h.reloads).toEqual(["success"]);
    expect(h.appliedToListeners).toEqual([h.runtime.current.config]);
    expect(h.rollouts.applied).toEqual([h.runtime.current.config]);
  });

  it("does nothing for a file whose content is already in force", async () => {
    const h = await startControl();
    const since = h.events.lastId;
    // The control: the same call on a changed file does report.
    await h.write(configText(scenario(20)));
    expect((await h.control.reload(ACTOR)).changed).toBe(true);
    const afterChange = h.events.lastId;
    expect(afterChange).toBeGreaterThan(since);

    const outcome = await h.control.reload(ACTOR);
    expect(outcome).toEqual({
      applied: true,
      changed: false,
      hash: h.runtime.current.configHash,
      error: null,
      restartRequired: [],
    });
    expect(h.events.since(afterChange)).toEqual([]);
    expect(h.reloads).toEqual(["success"]);
    expect(h.rollouts.applied).toHaveLength(1);
  });

  it("refuses a bad file: the running config stays, the error is kept for status", async () => {
    const h = await startControl();
    h.clock.advance(5000);
    await h.write(REFUSED_TEXT);

    const outcome = await h.control.reload(ACTOR);
    expect(outcome).toMatchObject({ applied: false, changed: true, hash: h.initialHash });
    const error = outcome.error;
    expect(error?.line).toBeGreaterThan(0);
    expect(error?.column).toBeGreaterThan(0);
    expect(error?.message).not.toBe("");
    expect(error?.problems.length).toBeGreaterThan(0);
    for (const problem of error?.problems ?? []) {
      expect(problem.startsWith(`${h.configFile}:`)).toBe(true);
    }
    expect(h.runtime.current.configHash).toBe(h.initialHash);
    expect(h.control.status().config).toMatchObject({
      hash: h.initialHash,
      loadedAt: START,
      lastError: error,
    });
    expect(h.events.since(undefined)).toEqual([
      expect.objectContaining({
        type: "config.reloadFailed",
        actor: ACTOR,
        file: h.configFile,
        problems: error?.problems,
      }),
    ]);
    expect(h.logs.atLevel(LOG_LEVEL.error)).toEqual([
      expect.objectContaining({ msg: "config reload refused: the running config stays in force" }),
    ]);
    expect(h.reloads).toEqual(["failure"]);
    expect(h.rollouts.applied).toEqual([]);
  });

  it("counts refused content once when the watcher sees it again, but again when asked", async () => {
    const h = await startControl();
    await h.write(REFUSED_TEXT);
    const first = await h.control.reload("watch", await h.watched());
    expect(first).toMatchObject({ applied: false, changed: true });

    const seenAgain = await h.control.reload("watch", await h.watched());
    expect(seenAgain).toEqual({
      applied: false,
      changed: false,
      hash: h.initialHash,
      error: first.error,
      restartRequired: [],
    });
    expect(h.reloads).toEqual(["failure"]);
    expect(typesOf(h.events.since(undefined))).toEqual(["config.reloadFailed"]);

    // An operator asking is a new attempt, and so is other refused content from the watcher.
    expect(await h.control.reload(ACTOR)).toMatchObject({ applied: false, changed: true });
    await h.write(`${REFUSED_TEXT}# edited\n`);
    expect(await h.control.reload("watch", await h.watched())).toMatchObject({
      applied: false,
      changed: true,
    });
    expect(h.reloads).toEqual(["failure", "failure", "failure"]);

    // Once a good file has applied, the refused content is news again.
    await h.write(configText(scenario(20)));
    expect(await h.control.reload("watch", await h.watched())).toMatchObject({
      applied: true,
      changed: true,
    });
    await h.write(REFUSED_TEXT);
    expect(await h.control.reload("watch", await h.watched())).toMatchObject({
      applied: false,
      changed: true,
    });
    expect(h.reloads).toEqual(["failure", "failure", "failure", "success", "failure"]);
  });

  it("counts a missing file each time: there is no content to recognise", async () => {
    const h = await startControl();
    await rm(h.configFile);
    for (let i = 0; i < 2; i++) {
      expect(await h.control.reload("watch")).toMatchObject({
        applied: false,
        changed: true,
        error: { problems: [expect.stringContaining("cannot read the file")] },
      });
    }
    expect(h.reloads).toEqual(["failure", "failure"]);
  });

  it("clears the error when the file comes back to the content in force", async () => {
    const h = await startControl();
    const inForce = configText(scenario(10));
    await h.write(REFUSED_TEXT);
    await h.control.reload(ACTOR);
    expect(h.control.status().config.lastError).not.toBeNull();

    await h.write(inForce);
    expect(await h.control.reload(ACTOR)).toEqual({
      applied: true,
      changed: false,
      hash: h.initialHash,
      error: null,
      restartRequired: [],
    });
    expect(h.control.status().config.lastError).toBeNull();
    // Nothing was applied: the config in force never changed.
    expect(h.reloads).toEqual(["failure"]);
  });

  it("has the endpoints it adds checked before they get traffic", async () => {
    const h = await startControl();
    const checked = scenario(10);
    await h.write(
      configText({
        ...checked,
        upstreams: {
          ...checked.upstreams,
          canary: { endpoints: [C1, C2], healthCheck: { path: "/health", interval: "1s" } },
        },
      }),
    );
    expect(await h.control.reload(ACTOR)).toMatchObject({ applied: true, changed: true });
    // The probes never answer: the endpoint that was serving keeps serving, the new one
    // waits for its first check, out of traffic.
    expect(h.control.status().upstreams[1]?.endpoints).toEqual([
      { url: C1, healthy: true, ejected: false, state: "ready", ejectedWorkers: 0 },
      { url: C2, healthy: false, ejected: false, state: "ready", ejectedWorkers: 0 },
    ]);
  });

  it("runs reloads one at a time: the second sees what the first applied", async () => {
    const h = await startControl();
    await h.write(configText(scenario(40)));
    const outcomes: ReloadOutcome[] = await Promise.all([
      h.control.reload("first"),
      h.control.reload("second"),
    ]);
    expect(outcomes.map((o) => [o.applied, o.changed])).toEqual([
      [true, true],
      [true, false],
    ]);
    expect(typesOf(h.events.since(undefined)).filter((t) => t === "config.reloaded")).toEqual([
      "config.reloaded",
    ]);
  });

  it("keeps reloading after a reload failed part-way", async () => {
    const h = await startControl();
    h.rollouts.failNext = true;
    await h.write(configText(scenario(20)));
    await expect(h.control.reload(ACTOR)).rejects.toThrow("rollouts could not follow");

    await h.write(configText(scenario(30)));
    expect(await h.control.reload(ACTOR)).toMatchObject({ applied: true, changed: true });
    expect(h.control.status().routes[0]?.split).toEqual({ stable: 70, canary: 30 });
  });

  it("warns that new listen addresses wait for a restart, and applies the rest", async () => {
    const h = await startControl();
    await h.write(configText(scenario(20, { listen: { admin: "127.0.0.1:1" } })));
    expect(await h.control.reload(ACTOR)).toMatchObject({
      applied: true,
      changed: true,
      restartRequired: ["listen.admin.port"],
    });
    expect(h.logs.atLevel(LOG_LEVEL.warn)).toEqual([
      expect.objectContaining({ restartRequired: ["listen.admin.port"], actor: ACTOR }),
    ]);
    expect(h.control.status().routes[0]?.split).toEqual({ stable: 80, canary: 20 });
  });
});

describe("ControlPlane.status", () => {
  it("shows each upstream's breaker and each endpoint's health and ejection", async () => {
    const h = await startControl();
    const { upstreams } = h.runtime.current;
    const stable = upstreams.get("stable");
    const ejected = stable?.endpoints[1];
    if (stable === undefined || ejected === undefined) throw new Error("no stable upstream");
    stable.recordAttempt(ejected, true);
    upstreams.get("canary")?.breaker.begin()?.fail();
    await new Promise((resolve) => setImmediate(resolve));

    expect(h.control.status().upstreams).toEqual([
      {
        name: "stable",
        breaker: "closed",
        breakerWorkers: 1,
        endpoints: [
          { url: S1, healthy: true, ejected: false, state: "ready", ejectedWorkers: 0 },
          { url: S2, healthy: true, ejected: true, state: "ready", ejectedWorkers: 1 },
        ],
      },
      {
        name: "canary",
        breaker: "open",
        breakerWorkers: 1,
        endpoints: [{ url: C1, healthy: true, ejected: false, state: "ready", ejectedWorkers: 0 }],
      },
    ]);
  });

  it("is ready only while serving with the first health round done, draining from then on", async () => {
    const h = await startControl();
    const readiness = () => {
      const { ready, draining } = h.control.status();
      expect([h.control.isReady(), h.control.isDraining()]).toEqual([ready, draining]);
      return { ready, draining };
    };
    expect(readiness()).toEqual({ ready: false, draining: false });
    h.runtime.phase = "serving";
    expect(readiness()).toEqual({ ready: true, draining: false });
    h.runtime.phase = "draining";
    expect(readiness()).toEqual({ ready: false, draining: true });
    h.runtime.phase = "closing";
    expect(readiness()).toEqual({ ready: false, draining: true });
  });

  it("is not ready while a checked endpoint waits for its first probe", async () => {
    const checked = scenario(10);
    const raw = {
      ...checked,
      upstreams: {
        ...checked.upstreams,
        canary: { endpoints: [C1], healthCheck: { path: "/health", interval: "1s" } },
      },
    };
    const h = await startControl(raw, { isChecking: true });
    h.runtime.phase = "serving";
    expect(h.control.status()).toMatchObject({ ready: false, draining: false });
    expect(h.control.status().upstreams[1]?.endpoints).toEqual([
      { url: C1, healthy: false, ejected: false, state: "ready", ejectedWorkers: 0 },
    ]);
  });
});

describe("ControlPlane.rolloutAction", () => {
  it("answers 409 when no rollout controller runs", async () => {
    const h = await startControl(scenario(10), { hasRollouts: false });
    expect(await h.control.rolloutAction("web", "pause", ACTOR)).toEqual({
      ok: false,
      error: {
        status: 409,
        code: "SWITCHYARD_NO_ROLLOUT",
        message: "rollouts are not running in this process",
      },
    });
  });
});

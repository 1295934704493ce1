/**
 * Small real stand-ins for what a RolloutController talks to, for tests on a manual clock: a
 * split writer that records every change, window statistics scripted per upstream, and
 * recorders for webhooks, metrics and persistence. `controllerHarness` wires them with a real
 * EventLog around a ManualClock.
 */
import type { Config, RolloutConfig } from "../../src/config/schema.ts";
import type { Actor, ControlError } from "../../src/control/control-api.ts";
import { EventLog, type LoggedEvent } from "../../src/events/event-log.ts";
import { createSilentLogger } from "../../src/log/logger.ts";
import {
  RolloutController,
  type RolloutMetrics,
  type RolloutNotifier,
  type RolloutPersistence,
  type RolloutStats,
} from "../../src/rollout/rollout-controller.ts";
import { entriesToPercent } from "../../src/routing/split-entries.ts";
import type {
  SplitInForce,
  SplitReader,
  SplitWrite,
  SplitWriter,
  SplitWriteResult,
} from "../../src/runtime/split-write.ts";
import type { RolloutPhase, StatsSource, WindowSummary } from "../../src/rollout/rollout-types.ts";
import type { WebhookPayload } from "../../src/rollout/webhooks.ts";
import { ManualClock } from "./manual-clock.ts";
import { parseTestConfig } from "./switchyard.ts";

export interface SplitCall {
  route: string;
  actor: Actor;
  source: "admin" | "rollout";
  weights: unknown;
  atMs: number;
}

export class RecordingSplits implements SplitWriter, SplitReader {
  readonly calls: SplitCall[] = [];
  private readonly clock: ManualClock;
  private readonly inForce = new Map<string, SplitInForce>();
  /** Set to make the next writes fail with this refusal (e.g. a reload dropped an upstream). */
  refusal: ControlError | undefined;

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  setSplit(write: SplitWrite): Promise<SplitWriteResult> {
    const { route, actor, source, splitBp } = write;
    if (this.refusal !== undefined) {
      return Promise.resolve({ ok: false, error: this.refusal });
    }
    const entries = splitBp ?? [];
    this.calls.push({
      route,
      actor,
      source,
      weights: entriesToPercent(entries),
      atMs: this.clock.now(),
    });
    const before = this.inForce.get(route);
    this.inForce.set(route, { entries, source });
    return Promise.resolve({
      ok: true,
      change: {
        route,
        before: before?.entries ?? [],
        after: entries,
        beforeSource: before?.source ?? "file",
        splitSource: source,
      },
    });
  }

  splitOf(route: string): SplitInForce | undefined {
    return this.inForce.get(route);
  }

  /** The weights of the last change, or undefined when none was made. */
  get last(): unknown {
    return this.calls[this.calls.length - 1]?.weights;
  }
}

/** A window with `requests` requests of which `failures` failed, latencies in ms. */
export function windowOf(
  requests: number,
  failures = 0,
  latencyMs: { p50?: number; p95?: number; p99?: number } = {},
): WindowSummary {
  const hasTraffic = requests > 0;
  return {
    requests,
    failures,
    errorRate: hasTraffic ? failures / requests : 0,
    latencyP50Ms: hasTraffic ? (latencyMs.p50 ?? 20) : undefined,
    latencyP95Ms: hasTraffic ? (latencyMs.p95 ?? 40) : undefined,
    latencyP99Ms: hasTraffic ? (latencyMs.p99 ?? 60) : undefined,
  };
}

/** Statistics the test sets per upstream; every window length reads the same summary. */
export class ScriptedStats implements RolloutStats {
  private readonly windows = new Map<string, WindowSummary>();
  readonly resets: { route: string; fromMs: number }[] = [];
  readonly reads: { route: string; nowMs: number }[] = [];

  set(upstream: string, summary: WindowSummary): void {
    this.windows.set(upstream, summary);
  }

  forRoute(route: string, nowMs: number): StatsSource {
    this.reads.push({ route, nowMs });
    return {
      summarize: (upstream) => this.windows.get(upstream) ?? windowOf(0),
    };
  }

  resetFrom(route: string, nowMs: number): void {
    this.resets.push({ route, fromMs: nowMs });
  }
}

export class RecordingNotifier implements RolloutNotifier {
  readonly sent: { webhooks: RolloutConfig["webhooks"]; payload: WebhookPayload }[] = [];

  notify(webhooks: RolloutConfig["webhooks"], payload: WebhookPayload): void {
    this.sent.push({ webhooks, payload });
  }

  get events(): string[] {
    return this.sent.map((s) => s.payload.event);
  }
}

export class RecordingMetrics implements RolloutMetrics {
  readonly steps: { route: string; target: string; percent: number }[] = [];
  readonly phases: { route: string; phase: RolloutPhase | "idle" }[] = [];
  readonly decisions: { route: string; verdict: string }[] = [];

  rolloutStep(route: string, target: string, percent: number): void {
    this.steps.push({ route, target, percent });
  }

  rolloutPhase(route: string, phase: RolloutPhase | "idle"): void {
    this.phases.push({ route, phase });
  }

  rolloutDecision(route: string, verdict: string): void {
    this.decisions.push({ route, verdict });
  }
}

export class RecordingPersistence implements RolloutPersistence {
  readonly saved = new Map<string, Readonly<Record<string, unknown>>>();
  readonly calls: { route: string; record: Readonly<Record<string, unknown>> | null }[] = [];

  setRollout(route: string, record: Readonly<Record<string, unknown>> | null): void {
    this.calls.push({ route, record });
    if (record === null) this.saved.delete(route);
    else this.saved.set(route, structuredClone(record));
  }
}

export interface ControllerHarness {
  readonly clock: ManualClock;
  readonly splits: RecordingSplits;
  readonly stats: ScriptedStats;
  readonly notifier: RecordingNotifier;
  readonly metrics: RecordingMetrics;
  readonly persistence: RecordingPersistence;
  readonly events: EventLog;
  readonly controller: RolloutController;
  /** Events of one type, oldest first. */
  eventsOf(type: string): LoggedEvent[];
}

export function controllerHarness(startMs = 10_000): ControllerHarness {
  const clock = new ManualClock(startMs);
  const splits = new RecordingSplits(clock);
  const stats = new ScriptedStats();
  const notifier = new RecordingNotifier();
  const metrics = new RecordingMetrics();
  const persistence = new RecordingPersistence();
  const events = new EventLog(clock);
  const controller = new RolloutController({
    splits,
    stats,
    notifier,
    metrics,
    persistence,
    events,
    logger: createSilentLogger(),
    clock,
  });
  return {
    clock,
    splits,
    stats,
    notifier,
    metrics,
    persistence,
    events,
    controller,
    eventsOf: (type) => events.since(undefined).filter((e) => e.type === type),
  };
}

/**
 * A config with upstreams stable and canary and one route `web` (split stable 100, canary 0) carrying
 * `rollout` as a user writes it (durations as strings); no rollout block when undefined.
 */
export function rolloutConfig(
  rollout: Record<string, unknown> | undefined,
  extraRoutes: Record<string, unknown>[] = [],
): Config {
  return parseTestConfig({
    upstreams: {
      stable: { endpoints: ["http://127.0.0.1:1"] },
      canary: { endpoints: ["http://127.0.0.1:2"] },
    },
    routes: [
      {
        name: "web",
        split: { stable: 100, canary: 0 },
        ...(rollout === undefined
          ? {}
          : { rollout: { target: "canary", baseline: "stable", ...rollout } }),
      },
      ...extraRoutes,
    ],
  });
}

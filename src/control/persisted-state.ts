/**
 * What survives a restart (SPEC 6 and 12): the split overrides, each route's rollout progress
 * and the operators' endpoint states, kept in the state file through the StateStore. Holds the
 * latest of each and saves the whole state whenever one changes; the store writes atomically
 * and coalesces bursts.
 */
import type { Logger } from "../log/logger.ts";
import { FULL_SPLIT_BP, percentToBp } from "../config/units.ts";
import type { SplitEntry } from "../routing/split.ts";
import type { StateStore } from "../state/state-store.ts";
import { emptyState, type PersistedState } from "../state/state-schema.ts";

type PersistedOverride = NonNullable<PersistedState["routes"][string]["override"]>;
import type { SplitOverride } from "../runtime/split-overrides.ts";
import type { EndpointStates } from "../runtime/endpoint-states.ts";
import {
  endpointStatesFromPersisted,
  endpointStatesToPersisted,
} from "./persisted-endpoint-states.ts";
import { entriesToPercent } from "../routing/split-entries.ts";

export type RolloutRecord = Readonly<Record<string, unknown>>;

export class PersistedStateKeeper {
  private readonly store: StateStore | undefined;
  private readonly logger: Logger;
  private overrides: ReadonlyMap<string, SplitOverride> = new Map();
  private rollouts = new Map<string, RolloutRecord>();
  private upstreams: PersistedState["upstreams"];

  constructor(store: StateStore | undefined, logger: Logger) {
    this.store = store;
    this.logger = logger;
  }

  /** Reads the state file; a missing, unreadable or corrupt one gives an empty start (logged). */
  async load(): Promise<SavedRuntimeState> {
    const nothing = { overrides: new Map(), rollouts: new Map(), endpointStates: new Map() };
    if (this.store === undefined) return nothing;
    const loaded = await this.store.load();
    if (!loaded.ok) {
      this.logger.warn(
        { reason: loaded.reason },
        `${loaded.message}; starting without saved weights, rollout progress or endpoint states (the file is set aside on the next save)`,
      );
      return nothing;
    }
    const saved = savedStateOf(loaded.state, this.logger);
    this.overrides = saved.overrides;
    this.rollouts = saved.rollouts;
    this.upstreams = endpointStatesToPersisted(saved.endpointStates);
    return saved;
  }

  setOverrides(overrides: ReadonlyMap<string, SplitOverride>): void {
    this.overrides = new Map(overrides);
    this.save();
  }

  setEndpointStates(states: EndpointStates): void {
    this.upstreams = endpointStatesToPersisted(states);
    this.save();
  }

  setRollout(route: string, record: RolloutRecord | null): void {
    if (record === null) this.rollouts.delete(route);
    else this.rollouts.set(route, record);
    this.save();
  }

  async flush(): Promise<void> {
    await this.store?.flush();
  }

  private save(): void {
    if (this.store === undefined) return;
    this.store.save(this.toPersisted()).catch(() => {
      // The store has logged it; the state in memory stays right and the next save retries.
    });
  }

  private toPersisted(): PersistedState {
    const state = emptyState();
    const names = new Set([...this.overrides.keys(), ...this.rollouts.keys()]);
    for (const name of names) {
      const override = this.overrides.get(name);
      state.routes[name] = {
        override: override === undefined ? null : overrideToPersisted(override),
        rollout: (this.rollouts.get(name) as Record<string, unknown> | undefined) ?? null,
      };
    }
    if (this.upstreams !== undefined) state.upstreams = this.upstreams;
    return state;
  }
}

export interface SavedRuntimeState {
  overrides: Map<string, SplitOverride>;
  rollouts: Map<string, RolloutRecord>;
  endpointStates: EndpointStates;
}

/**
 * The state file's format (also the fleet document's, fleet-state-file.ts) as the runtime and
 * the rollouts take it. An override whose weights do not sum to 100 is left out, with a warning.
 */
export function savedStateOf(state: PersistedState, logger: Logger): SavedRuntimeState {
  const overrides = new Map<string, SplitOverride>();
  const rollouts = new Map<string, RolloutRecord>();
  for (const [route, routeState] of Object.entries(state.routes)) {
    const override = routeState.override;
    if (override !== null) {
      const entries = percentToEntries(override.weights);
      const fileSplit = percentToEntries(override.fileSplit);
      if (entries !== undefined && fileSplit !== undefined) {
        overrides.set(route, {
          entries,
          source: override.source,
          setBy: override.setBy,
          setAt: override.setAt,
          fileSplit,
        });
      } else {
        logger.warn({ route }, "ignoring a saved weight override that does not sum to 100");
      }
    }
    if (routeState.rollout !== null) rollouts.set(route, routeState.rollout);
  }
  return { overrides, rollouts, endpointStates: endpointStatesFromPersisted(state.upstreams) };
}

/** An override in the state file's (and the fleet document's) form: percentages. */
export function overrideToPersisted(override: SplitOverride): PersistedOverride {
  return {
    weights: entriesToPercent(override.entries),
    source: override.source,
    setBy: override.setBy,
    setAt: override.setAt,
    fileSplit: entriesToPercent(override.fileSplit),
  };
}

function percentToEntries(weights: Record<string, number>): SplitEntry[] | undefined {
  const entries: SplitEntry[] = [];
  let sumBp = 0;
  for (const [upstream, percent] of Object.entries(weights)) {
    const weightBp = percentToBp(percent);
    if (weightBp === undefined) return undefined;
    sumBp += weightBp;
    entries.push({ upstream, weightBp });
  }
  return sumBp === FULL_SPLIT_BP ? entries : undefined;
}

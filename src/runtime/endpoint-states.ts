/**
 * Operators' endpoint states (SPEC 12: drain, maintenance), kept by upstream name and endpoint
 * URL the way split overrides are kept by route: a reload that keeps the URL keeps the state,
 * whatever index the endpoint has now, and a state whose URL leaves the config is dropped with
 * an event. An endpoint without a record is ready. The runtime owns the table; the table copies
 * each state onto the Endpoint object, where the data path reads it on every pick.
 */
import type { Actor } from "../control/control-api.ts";
import type { Config } from "../config/schema.ts";
import type { EventLog } from "../events/event-log.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../time/clock.ts";
import type { Endpoint } from "../upstream/endpoint.ts";
import type { EndpointAdminState } from "../upstream/endpoint-admin-state.ts";
import type { UpstreamMap } from "../upstream/upstream-set.ts";
import {
  unknownEndpointError,
  unknownUpstreamError,
  type EndpointStateWrite,
  type EndpointStateWriteResult,
} from "./endpoint-state-write.ts";

export type HeldEndpointState = Exclude<EndpointAdminState, "ready">;

export interface EndpointStateRecord {
  readonly state: HeldEndpointState;
  /** The admin token's name. */
  readonly setBy: string;
  /** ISO 8601. */
  readonly setAt: string;
}

/** Upstream name -> endpoint URL -> record. */
export type EndpointStates = ReadonlyMap<string, ReadonlyMap<string, EndpointStateRecord>>;

export interface DroppedEndpointState {
  upstream: string;
  url: string;
  record: EndpointStateRecord;
  reason: string;
}

/** Which states survive a new config: the upstream must still list the endpoint's URL. */
export function reconcileEndpointStates(
  states: EndpointStates,
  config: Config,
): { kept: Map<string, Map<string, EndpointStateRecord>>; dropped: DroppedEndpointState[] } {
  const kept = new Map<string, Map<string, EndpointStateRecord>>();
  const dropped: DroppedEndpointState[] = [];
  for (const [upstream, records] of states) {
    const urls = Object.hasOwn(config.upstreams, upstream)
      ? new Set(config.upstreams[upstream]?.endpoints)
      : undefined;
    for (const [url, record] of records) {
      if (urls?.has(url) === true) {
        const keptRecords = kept.get(upstream) ?? new Map<string, EndpointStateRecord>();
        keptRecords.set(url, record);
        kept.set(upstream, keptRecords);
        continue;
      }
      const reason =
        urls === undefined
          ? `upstream "${upstream}" is no longer in the config`
          : `the endpoint is no longer in upstream "${upstream}"`;
      dropped.push({ upstream, url, record, reason });
    }
  }
  return { kept, dropped };
}

/** Sets every endpoint's admin state from the table (ready when it has no record). */
export function applyEndpointStates(upstreams: UpstreamMap, states: EndpointStates): void {
  for (const upstream of upstreams.values()) {
    const records = states.get(upstream.name);
    for (const endpoint of upstream.endpoints) {
      endpoint.adminState = records?.get(endpoint.url)?.state ?? "ready";
    }
  }
}

export interface EndpointStateTableOptions {
  events: EventLog;
  logger: Logger;
  clock: Clock;
}

/** What a write did: its result, and the endpoint whose state changed (none if unchanged). */
export interface EndpointStateOutcome {
  result: EndpointStateWriteResult;
  changed: Endpoint | undefined;
}

export class EndpointStateTable {
  private byUpstream = new Map<string, Map<string, EndpointStateRecord>>();
  private readonly options: EndpointStateTableOptions;

  constructor(options: EndpointStateTableOptions) {
    this.options = options;
  }

  get states(): EndpointStates {
    return this.byUpstream;
  }

  /**
   * Follows a config (at startup with the saved states, on reload with the running ones):
   * drops the states whose URL is gone, with an event each, and applies the rest to
   * `upstreams`. True when something was dropped (the state file must forget it too).
   */
  reconcile(states: EndpointStates, config: Config, upstreams: UpstreamMap, actor: Actor): boolean {
    const { kept, dropped } = reconcileEndpointStates(states, config);
    this.byUpstream = kept;
    applyEndpointStates(upstreams, kept);
    for (const drop of dropped) {
      const { upstream, url, record, reason } = drop;
      this.options.logger.info(
        { upstream, url, state: record.state, reason, actor },
        "endpoint state dropped; the endpoint is ready",
      );
      this.options.events.append("endpoint.stateDropped", {
        upstream,
        url,
        state: record.state,
        reason,
        actor,
      });
    }
    return dropped.length > 0;
  }

  /**
   * Fleet mode: the shared states replace this table. Those whose URL this replica's config
   * does not list are left out here only, without an event (they stay in the fleet's state);
   * each endpoint whose state changed is logged and returned.
   */
  follow(states: EndpointStates, config: Config, upstreams: UpstreamMap): Endpoint[] {
    const before = new Map<Endpoint, EndpointAdminState>();
    for (const upstream of upstreams.values()) {
      for (const endpoint of upstream.endpoints) before.set(endpoint, endpoint.adminState);
    }
    this.byUpstream = reconcileEndpointStates(states, config).kept;
    applyEndpointStates(upstreams, this.byUpstream);
    const changed: Endpoint[] = [];
    for (const [endpoint, state] of before) {
      if (endpoint.adminState === state) continue;
      changed.push(endpoint);
      this.options.logger.info(
        { url: endpoint.url, before: state, after: endpoint.adminState, source: "fleet" },
        "endpoint state changed",
      );
    }
    return changed;
  }

  /** What setting endpoint `index` of `upstream` would change, without changing it. */
  check(write: EndpointStateWrite, upstreams: UpstreamMap): EndpointStateWriteResult {
    const upstream = upstreams.get(write.upstream);
    if (upstream === undefined) return { ok: false, error: unknownUpstreamError(write.upstream) };
    const endpoint = Number.isSafeInteger(write.index)
      ? upstream.endpoints[write.index]
      : undefined;
    if (endpoint === undefined) {
      const error = unknownEndpointError(write.upstream, write.index, upstream.endpoints.length);
      return { ok: false, error };
    }
    const before: EndpointAdminState =
      this.byUpstream.get(upstream.name)?.get(endpoint.url)?.state ?? "ready";
    return {
      ok: true,
      change: {
        upstream: upstream.name,
        index: write.index,
        url: endpoint.url,
        before,
        after: write.state,
      },
    };
  }

  /** Sets the state of endpoint `index` of `upstream` in the running `upstreams`. */
  write(write: EndpointStateWrite, upstreams: UpstreamMap): EndpointStateOutcome {
    const result = this.check(write, upstreams);
    if (!result.ok) return { result, changed: undefined };
    const change = result.change;
    const endpoint = upstreams.get(change.upstream)?.endpoints[change.index];
    if (change.before === change.after || endpoint === undefined) {
      return { result, changed: undefined };
    }
    this.record(change.upstream, change.url, write);
    endpoint.adminState = write.state;
    const { actor, source } = write;
    this.options.logger.info({ ...change, actor, source }, "endpoint state changed");
    this.options.events.append("endpoint.stateChanged", { ...change, actor, source });
    return { result, changed: endpoint };
  }

  /** Ready is the default and is not kept. */
  private record(upstream: string, url: string, write: EndpointStateWrite): void {
    const records = this.byUpstream.get(upstream) ?? new Map<string, EndpointStateRecord>();
    if (write.state === "ready") {
      records.delete(url);
      if (records.size === 0) this.byUpstream.delete(upstream);
      return;
    }
    this.byUpstream.set(upstream, records);
    records.set(url, {
      state: write.state,
      setBy: write.actor,
      setAt: new Date(this.options.clock.wallNow()).toISOString(),
    });
  }
}

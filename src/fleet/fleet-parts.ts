/**
 * Fleet mode's parts and how they plug into a switchyard (app-parts.ts): the node (lease,
 * membership, statistics, the state it follows), the writer every change goes through, and
 * the metrics. A newer shared document reaches the runtime (splits, endpoint states, in one
 * swap), the rollouts (the records they show and the leader judges from) and the state file
 * (the local copy a replica starts from when Redis is away).
 */
import type { SavedRuntimeState } from "../control/persisted-state.ts";
import { savedStateOf } from "../control/persisted-state.ts";
import type { EventLog } from "../events/event-log.ts";
import type { Logger } from "../log/logger.ts";
import { FleetMetrics } from "../metrics/fleet-metrics.ts";
import type { Registry } from "prom-client";
import type { RolloutController } from "../rollout/rollout-controller.ts";
import type { WindowStats } from "../rollout/window-stats.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { Clock } from "../time/clock.ts";
import type { FleetDocument } from "./fleet-document.ts";
import { EventForwarder } from "./event-forwarder.ts";
import { FleetNode } from "./fleet-node.ts";
import type { FleetJoin } from "./fleet-start.ts";
import { documentToPersisted } from "./fleet-state-file.ts";
import { FleetWriter } from "./fleet-writer.ts";

export interface FleetParts {
  readonly join: FleetJoin;
  readonly node: FleetNode;
  readonly writer: FleetWriter;
  readonly metrics: FleetMetrics;
  /** This replica's own events, on to the fleet's log. */
  readonly forwarder: EventForwarder;
}

export interface FleetPartsDeps {
  readonly runtime: Runtime;
  readonly events: EventLog;
  readonly windowStats: WindowStats;
  readonly registry: Registry;
  readonly longestWindowMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
}

export function buildFleetParts(join: FleetJoin, deps: FleetPartsDeps): FleetParts {
  const { runtime, logger, clock } = deps;
  const node = new FleetNode({
    ...join,
    windowStats: deps.windowStats,
    longestWindowMs: deps.longestWindowMs,
    configHash: () => runtime.current.configHash,
    logger,
    clock,
  });
  const metrics = new FleetMetrics(deps.registry, {
    isConnected: () => join.link.isConnected,
    isLeader: () => node.isLeader,
    memberCount: () => node.memberCount,
    stateVersion: () => node.appliedVersion,
    redisErrors: () => node.redisErrors,
  });
  const writer = new FleetWriter({
    store: join.store,
    replica: join.replica,
    runtime,
    fenceToken: () => node.lease.fenceToken,
    apply: (document) => {
      node.apply(document);
    },
    onFenced: () => {
      node.lease.fenced();
      metrics.fencedWrite();
    },
    logger,
    clock,
  });
  const forwarder = new EventForwarder({
    events: deps.events,
    store: join.store,
    replica: join.replica,
    isConnected: () => join.link.isConnected,
    logger,
    clock,
  });
  return { join, node, writer, metrics, forwarder };
}

export interface FleetFollowers {
  readonly runtime: Runtime;
  readonly rollouts: RolloutController;
  /** The state file's keeper: the local copy of the fleet's rollouts. */
  readonly cache: { setRollout(route: string, record: Readonly<Record<string, unknown>>): void };
  /** This replica's own log: losing and finding Redis are events of its own. */
  readonly events: EventLog;
  readonly logger: Logger;
}

/** Once the rollouts exist: what a newer shared document and leading change here. */
export function connectFleet(parts: FleetParts, followers: FleetFollowers): void {
  const { node, join, metrics } = parts;
  const { runtime, rollouts, logger } = followers;
  // The runtime and the rollouts were built from the document read at startup.
  if (join.document !== undefined) node.apply(join.document);
  let isStartPending = !join.isSynced;
  node.follow({
    metrics,
    onDocument: (document) => {
      applyFleetDocument(document, followers);
      if (!isStartPending) return;
      // Started while Redis was away: the config's rollouts the fleet lacks start now (once
      // across the fleet: a start from the same config is idempotent).
      isStartPending = false;
      rollouts.configApplied(runtime.current.config).catch((error: unknown) => {
        logger.error({ err: error }, "fleet: starting the config's rollouts failed");
      });
    },
    onLocalWritesDropped: (writes) => {
      logger.warn({ writes }, "fleet: Redis is back; local writes dropped for the fleet's state");
      followers.events.append("fleet.localWritesDropped", { replica: join.replica, writes });
    },
  });
  node.lease.on("leader", () => {
    rollouts.freshWindows();
  });
  join.link.on("down", () => {
    followers.events.append("fleet.disconnected", {
      replica: join.replica,
      reason: node.holdReason() ?? "fleet: Redis cannot be reached",
    });
  });
  join.link.on("up", () => {
    followers.events.append("fleet.connected", { replica: join.replica });
  });
}

function applyFleetDocument(document: FleetDocument, followers: FleetFollowers): void {
  const { runtime, rollouts, cache, logger } = followers;
  const saved: SavedRuntimeState = savedStateOf(documentToPersisted(document), logger);
  runtime.applyShared(saved.overrides, saved.endpointStates, "fleet");
  rollouts.adoptShared(document.rollouts, runtime.current.config);
  for (const [route, record] of saved.rollouts) cache.setRollout(route, record);
}

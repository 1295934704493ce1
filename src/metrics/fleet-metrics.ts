/**
 * SPEC 10's fleet metrics, on the switchyard registry when the config has a `fleet` block.
 * The gauges and the Redis error count are read from the fleet's parts at scrape time
 * (nothing to keep in step); fenced writes and missing seconds are counted as they happen.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import {
  FLEET_CONNECTED,
  FLEET_FENCED_WRITES_TOTAL,
  FLEET_LEADER,
  FLEET_MEMBERS,
  FLEET_REDIS_ERRORS_TOTAL,
  FLEET_STATE_VERSION,
  FLEET_STATS_MISSING_SECONDS_TOTAL,
} from "./metric-names.ts";

/** What the scrape reads of the fleet's parts. */
export interface FleetReadings {
  isConnected(): boolean;
  isLeader(): boolean;
  memberCount(): number;
  stateVersion(): number;
  /** Every Redis error so far (it only grows). */
  redisErrors(): number;
}

export class FleetMetrics {
  readonly #fenced: Counter;
  readonly #missing: Counter;

  constructor(registry: Registry, readings: FleetReadings) {
    const registers = [registry];
    const gauge = (definition: { name: string; help: string }, read: () => number) =>
      new Gauge({
        name: definition.name,
        help: definition.help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge(FLEET_CONNECTED, () => (readings.isConnected() ? 1 : 0));
    gauge(FLEET_LEADER, () => (readings.isLeader() ? 1 : 0));
    gauge(FLEET_MEMBERS, () => readings.memberCount());
    gauge(FLEET_STATE_VERSION, () => readings.stateVersion());
    let countedErrors = 0;
    new Counter({
      ...FLEET_REDIS_ERRORS_TOTAL,
      labelNames: [],
      registers,
      collect() {
        const total = readings.redisErrors();
        if (total > countedErrors) this.inc(total - countedErrors);
        countedErrors = Math.max(countedErrors, total);
      },
    });
    this.#fenced = new Counter({ ...FLEET_FENCED_WRITES_TOTAL, labelNames: [], registers });
    this.#missing = new Counter({
      ...FLEET_STATS_MISSING_SECONDS_TOTAL,
      labelNames: [],
      registers,
    });
  }

  fencedWrite(): void {
    this.#fenced.inc();
  }

  missingSeconds(count: number): void {
    if (count > 0) this.#missing.inc(count);
  }
}

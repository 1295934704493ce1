/**
 * Every Redis key and channel of one fleet, in one place (SPEC 10: they start with
 * `switchyard:<name>:`). The shared state, the lease, membership, statistics and events each
 * read their names from here, so two parts never disagree on a key and an operator can find
 * them all with `SCAN 0 MATCH switchyard:<name>:*`.
 */

export interface FleetKeys {
  /** The prefix every key of this fleet starts with: `switchyard:<name>:`. */
  readonly prefix: string;
  /** The shared state document (JSON): overrides, rollouts, endpoint states. */
  readonly state: string;
  /** The shared state's version, an integer bumped by every write; never goes down. */
  readonly stateVersion: string;
  /** Published after each write (the new version): a hint only, replicas also poll. */
  readonly stateChannel: string;
  /** The event id counter (INCR): ids increase fleet-wide. */
  readonly eventSeq: string;
  /** The capped event log, newest last. */
  readonly events: string;
  /** The rollout leader's lease: `<replica>` with a TTL. */
  readonly lease: string;
  /** The lease epoch, bumped on every takeover; decision writes carry it (fencing). */
  readonly leaseEpoch: string;
  /** Members: a sorted set of replica ids scored by their last heartbeat (ms). */
  readonly members: string;
  /** One member's details (config hash, state version, joined at). */
  member(replica: string): string;
  /** One replica's window statistics for one second (epoch seconds). */
  stats(replica: string, second: number): string;
}

export function fleetKeys(name: string): FleetKeys {
  const prefix = `switchyard:${name}:`;
  return {
    prefix,
    state: `${prefix}state`,
    stateVersion: `${prefix}state:version`,
    stateChannel: `${prefix}state:changed`,
    eventSeq: `${prefix}events:seq`,
    events: `${prefix}events`,
    lease: `${prefix}lease`,
    leaseEpoch: `${prefix}lease:epoch`,
    members: `${prefix}members`,
    member: (replica) => `${prefix}member:${replica}`,
    stats: (replica, second) => `${prefix}stats:${replica}:${String(second)}`,
  };
}

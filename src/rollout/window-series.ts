/**
 * One (route, upstream) series of per-second slots: requests, failures and a latency histogram
 * per second, in a ring of `ringSize` seconds. The slot of second s is s mod ringSize; a slot
 * left from an older second is recognised by its stored second and reset when reused.
 *
 * The current second's latencies go to one dense histogram (O(1) per record). When the second
 * ends, its non-zero buckets are packed as `count * 256 + bucket` into an append-only circular
 * arena, so a past second costs 4 bytes per distinct bucket it saw instead of 1 KiB.
 * Seconds are written in order and expire in order, so the arena is a FIFO whose live part
 * starts at the oldest second still in the ring; it grows (by half) only when traffic gets
 * more varied than before, so after warm-up recording allocates nothing.
 */
import { bucketIndex, LATENCY_BUCKET_COUNT } from "./latency-histogram.ts";
import type { SecondCounts } from "./second-counts.ts";

/** Sums over a range of seconds; `counts` is indexed by latency bucket. */
export interface WindowTotals {
  requests: number;
  failures: number;
  counts: Float64Array;
}

const BUCKET_BITS = 256;
/** The largest count one arena entry holds (24 bits); larger counts take several entries. */
const MAX_ENTRY_COUNT = 0xffffff;
const INITIAL_ARENA_ENTRIES = 256;

export function secondOf(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

export class WindowSeries {
  private ring: Ring;

  private arena = new Uint32Array(INITIAL_ARENA_ENTRIES);
  /** Absolute position of the next arena write; the index is head % arena.length. */
  private head = 0;
  /** Oldest second whose entries may still be live: a lower bound that only moves forward. */
  private tailSecond = -Infinity;

  /** The second being recorded, its slot, and its latencies before they are packed. */
  private currentSecond = -Infinity;
  private currentSlot = 0;
  private readonly current = new Uint32Array(LATENCY_BUCKET_COUNT);
  private readonly touched = new Uint8Array(LATENCY_BUCKET_COUNT);
  private touchedCount = 0;

  private lastRecordMs = -Infinity;
  /** Seconds before this one are left out of sums (a fresh window). */
  private cutSecond = -Infinity;

  constructor(ringSize: number) {
    this.ring = newRing(ringSize);
  }

  record(durationMs: number, isFailure: boolean, nowMs: number): void {
    const second = secondOf(nowMs);
    // A clock that steps back is counted in the current second rather than rewriting history.
    if (second > this.currentSecond) this.startSecond(second);
    if (nowMs > this.lastRecordMs) this.lastRecordMs = nowMs;
    const slot = this.currentSlot;
    this.ring.requests[slot] = (this.ring.requests[slot] ?? 0) + 1;
    if (isFailure) this.ring.failures[slot] = (this.ring.failures[slot] ?? 0) + 1;
    const bucket = bucketIndex(durationMs);
    const count = this.current[bucket] ?? 0;
    if (count === 0) this.touched[this.touchedCount++] = bucket;
    this.current[bucket] = count + 1;
  }

  /**
   * A request meant for this upstream that it could not take (breaker open, no available
   * endpoint, so another upstream served it): a failure with no latency of its own.
   */
  recordUnserved(nowMs: number): void {
    const second = secondOf(nowMs);
    if (second > this.currentSecond) this.startSecond(second);
    if (nowMs > this.lastRecordMs) this.lastRecordMs = nowMs;
    const slot = this.currentSlot;
    this.ring.requests[slot] = (this.ring.requests[slot] ?? 0) + 1;
    this.ring.failures[slot] = (this.ring.failures[slot] ?? 0) + 1;
  }

  /**
   * Counts another process's closed second (a worker's, SPEC 11) in the current second, where
   * it arrives. Off the request path, once per worker and second.
   */
  mergeSecond(counts: SecondCounts, nowMs: number): void {
    const second = secondOf(nowMs);
    if (second > this.currentSecond) this.startSecond(second);
    if (nowMs > this.lastRecordMs) this.lastRecordMs = nowMs;
    const slot = this.currentSlot;
    this.ring.requests[slot] = (this.ring.requests[slot] ?? 0) + counts.attempts;
    this.ring.failures[slot] = (this.ring.failures[slot] ?? 0) + counts.failures;
    for (const [bucket, count] of counts.buckets) {
      const held = this.current[bucket] ?? 0;
      if (held === 0) this.touched[this.touchedCount++] = bucket;
      this.current[bucket] = held + count;
    }
  }

  /**
   * Adds the `slotCount` seconds ending at `lastSecond` (inclusive) to `into`; seconds outside
   * the ring or before the cut are left out.
   */
  addWindow(lastSecond: number, slotCount: number, into: WindowTotals): void {
    const first = Math.max(
      lastSecond - Math.min(slotCount, this.ring.size) + 1,
      this.currentSecond - this.ring.size + 1,
      this.cutSecond,
    );
    const last = Math.min(lastSecond, this.currentSecond);
    for (let second = first; second <= last; second++) {
      const slot = this.slotOf(second);
      if (this.ring.second[slot] !== second) continue;
      into.requests += this.ring.requests[slot] ?? 0;
      into.failures += this.ring.failures[slot] ?? 0;
      if (second === this.currentSecond) this.addCurrent(into.counts);
      else this.addPacked(slot, into.counts);
    }
  }

  /**
   * Adds one second's counts to `into`, whatever a fresh window cut (fleet replicas push raw
   * seconds; the judge decides what a window covers). False when the ring does not hold it.
   * Read only off the request path, once per closed second.
   */
  addSecond(second: number, into: WindowTotals): boolean {
    if (second > this.currentSecond || second <= this.currentSecond - this.ring.size) return false;
    const slot = this.slotOf(second);
    if (this.ring.second[slot] !== second) return false;
    into.requests += this.ring.requests[slot] ?? 0;
    into.failures += this.ring.failures[slot] ?? 0;
    if (second === this.currentSecond) this.addCurrent(into.counts);
    else this.addPacked(slot, into.counts);
    return true;
  }

  /**
   * Leaves out everything recorded before `fromMs`. Exact when no record is later than
   * `fromMs` (the usual call, with the current time): the current second's counts are cleared.
   * Otherwise whole seconds from the one containing `fromMs` are kept.
   */
  resetFrom(fromMs: number): void {
    const second = secondOf(fromMs);
    if (second > this.cutSecond) this.cutSecond = second;
    if (second === this.currentSecond && fromMs >= this.lastRecordMs) {
      this.ring.requests[this.currentSlot] = 0;
      this.ring.failures[this.currentSlot] = 0;
      this.clearCurrent();
    }
  }

  /** Changes the ring length, keeping the newest seconds that still fit. */
  resize(ringSize: number): void {
    const old = this.ring;
    if (ringSize === old.size) return;
    const oldArena = this.arena;
    const keepFrom = this.currentSecond - Math.min(ringSize, old.size) + 1;
    // Kept seconds are the newest, so their entries are the arena's last ones.
    let keptEntries = 0;
    for (let second = keepFrom; second <= this.currentSecond; second++) {
      const slot = mod(second, old.size);
      if (old.second[slot] !== second) continue;
      keptEntries = this.head - (old.entryStart[slot] ?? this.head);
      break;
    }
    const ring = newRing(ringSize);
    this.ring = ring;
    this.arena = new Uint32Array(Math.max(INITIAL_ARENA_ENTRIES, keptEntries));
    this.head = 0;
    this.tailSecond = -Infinity;
    for (let second = keepFrom; second <= this.currentSecond; second++) {
      const from = mod(second, old.size);
      if (old.second[from] !== second) continue;
      const to = this.slotOf(second);
      const start = old.entryStart[from] ?? 0;
      const count = old.entryCount[from] ?? 0;
      ring.second[to] = second;
      ring.requests[to] = old.requests[from] ?? 0;
      ring.failures[to] = old.failures[from] ?? 0;
      ring.entryStart[to] = this.head;
      ring.entryCount[to] = count;
      for (let i = 0; i < count; i++) {
        this.arena[this.head++] = oldArena[(start + i) % oldArena.length] ?? 0;
      }
    }
    if (this.currentSecond !== -Infinity) this.currentSlot = this.slotOf(this.currentSecond);
  }

  /** Bytes held in typed arrays: bounded by the ring length and the buckets each second saw. */
  footprintBytes(): number {
    const ring = this.ring;
    return (
      ring.second.byteLength +
      ring.requests.byteLength +
      ring.failures.byteLength +
      ring.entryStart.byteLength +
      ring.entryCount.byteLength +
      this.arena.byteLength +
      this.current.byteLength +
      this.touched.byteLength
    );
  }

  private startSecond(second: number): void {
    if (this.touchedCount > 0) {
      if (second - this.currentSecond < this.ring.size) this.packCurrent(second);
      else this.clearCurrent();
    }
    const slot = this.slotOf(second);
    this.currentSecond = second;
    this.currentSlot = slot;
    this.ring.second[slot] = second;
    this.ring.requests[slot] = 0;
    this.ring.failures[slot] = 0;
    this.ring.entryStart[slot] = this.head;
    this.ring.entryCount[slot] = 0;
  }

  /** Moves the current second's histogram into the arena, before `nextSecond` begins. */
  private packCurrent(nextSecond: number): void {
    const liveFrom = this.liveArenaStart(nextSecond);
    let written = 0;
    for (let i = 0; i < this.touchedCount; i++) {
      const bucket = this.touched[i] ?? 0;
      let count = this.current[bucket] ?? 0;
      this.current[bucket] = 0;
      while (count > 0) {
        const part = Math.min(count, MAX_ENTRY_COUNT);
        if (this.head - liveFrom >= this.arena.length) this.growArena(liveFrom);
        this.arena[this.head % this.arena.length] = part * BUCKET_BITS + bucket;
        this.head++;
        written++;
        count -= part;
      }
    }
    this.touchedCount = 0;
    this.ring.entryCount[this.currentSlot] = written;
  }

  /** The arena position of the oldest entry still needed once `nextSecond` has begun. */
  private liveArenaStart(nextSecond: number): number {
    let second = Math.max(this.tailSecond, nextSecond - this.ring.size + 1);
    while (second < this.currentSecond && this.ring.second[this.slotOf(second)] !== second) {
      second++;
    }
    this.tailSecond = second;
    return this.ring.entryStart[this.slotOf(second)] ?? this.head;
  }

  private growArena(liveFrom: number): void {
    const old = this.arena;
    // Without 24-bit overflows a ring never holds more than ringSize * 256 entries.
    const cap = this.ring.size * LATENCY_BUCKET_COUNT;
    const grown = Math.ceil(old.length * 1.5);
    const next = new Uint32Array(old.length < cap ? Math.min(grown, cap) : grown);
    for (let position = liveFrom; position < this.head; position++) {
      next[position % next.length] = old[position % old.length] ?? 0;
    }
    this.arena = next;
  }

  private addCurrent(counts: Float64Array): void {
    for (let i = 0; i < this.touchedCount; i++) {
      const bucket = this.touched[i] ?? 0;
      counts[bucket] = (counts[bucket] ?? 0) + (this.current[bucket] ?? 0);
    }
  }

  private addPacked(slot: number, counts: Float64Array): void {
    const start = this.ring.entryStart[slot] ?? 0;
    const count = this.ring.entryCount[slot] ?? 0;
    const arena = this.arena;
    for (let i = 0; i < count; i++) {
      const entry = arena[(start + i) % arena.length] ?? 0;
      const bucket = entry & 0xff;
      counts[bucket] = (counts[bucket] ?? 0) + (entry >>> 8);
    }
  }

  private clearCurrent(): void {
    for (let i = 0; i < this.touchedCount; i++) this.current[this.touched[i] ?? 0] = 0;
    this.touchedCount = 0;
  }

  private slotOf(second: number): number {
    return mod(second, this.ring.size);
  }
}

/** Per-slot columns, one typed array each. */
interface Ring {
  size: number;
  /** The second each slot holds; -Infinity for a slot never used. */
  second: Float64Array;
  requests: Uint32Array;
  failures: Uint32Array;
  /** Absolute arena position of the slot's first entry (positions only grow). */
  entryStart: Float64Array;
  entryCount: Uint32Array;
}

function newRing(size: number): Ring {
  return {
    size,
    second: new Float64Array(size).fill(-Infinity),
    requests: new Uint32Array(size),
    failures: new Uint32Array(size),
    entryStart: new Float64Array(size),
    entryCount: new Uint32Array(size),
  };
}

function mod(value: number, divisor: number): number {
  const rest = value % divisor;
  return rest < 0 ? rest + divisor : rest;
}

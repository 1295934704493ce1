/**
 * The state file's single writer. Saves are serialised and coalesced: while one write is in
 * flight, further saves only replace the next content, so a burst of changes costs at most
 * two writes and the file always ends with the latest state. Each write replaces the file
 * atomically (see atomic-write.ts).
 *
 * A file that cannot be read back (corrupt, unknown version, unreadable) is never written
 * over: before the first write it is renamed to `<file>.corrupt-<timestamp>`, with a warning.
 */
import { lstat, rename } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Logger } from "../log/logger.ts";
import { SYSTEM_CLOCK, type Clock } from "../time/clock.ts";
import { replaceFileAtomically, writeTempFileDurably, type WriteTempFile } from "./atomic-write.ts";
import { readStateFile, type StateLoadResult } from "./read-state-file.ts";
import { persistedStateSchema, type PersistedState } from "./state-schema.ts";

export interface StateStoreOptions {
  /** Already resolved (see resolveStateFile); a relative path is taken from the cwd. */
  file: string;
  logger: Logger;
  /** Wall time names a set-aside file. */
  clock?: Clock;
  /** How the temp file is written; replaced in tests to fail part-way. */
  writeTempFile?: WriteTempFile;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface PendingWrite {
  text: string;
  waiters: Waiter[];
}

export class StateStore {
  readonly file: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly writeTempFile: WriteTempFile;
  private pending: PendingWrite | undefined;
  private draining: Promise<void> | undefined;
  /** True once the file on disk is known to be safe to replace (absent or valid). */
  private isReplaceable = false;
  private tempCount = 0;

  constructor(options: StateStoreOptions) {
    this.file = resolve(options.file);
    this.logger = options.logger.child({ component: "state-store" });
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.writeTempFile = options.writeTempFile ?? writeTempFileDurably;
  }

  /** Reads the file; a missing file is empty state, a bad one a failure to log. */
  async load(): Promise<StateLoadResult> {
    await this.flush();
    const result = await readStateFile(this.file);
    this.isReplaceable = result.ok;
    return result;
  }

  /**
   * Writes `state` (a copy is taken now). Resolves once this state or a later one is on disk;
   * rejects if that write failed (the failure is logged here too).
   */
  async save(state: PersistedState): Promise<void> {
    const text = `${JSON.stringify(persistedStateSchema.parse(state), null, 2)}\n`;
    await new Promise<void>((resolvePromise, reject) => {
      this.pending ??= { text, waiters: [] };
      this.pending.text = text;
      this.pending.waiters.push({ resolve: resolvePromise, reject });
      this.draining ??= this.drain();
    });
  }

  /** Resolves when every requested save has been attempted. Never rejects. */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const next = this.takePending();
      if (next === undefined) break;
      try {
        await this.write(next.text);
        for (const waiter of next.waiters) waiter.resolve();
      } catch (error) {
        this.logger.error({ err: error, file: this.file }, "cannot write the state file");
        for (const waiter of next.waiters) waiter.reject(error);
      }
    }
    this.draining = undefined;
  }

  private takePending(): PendingWrite | undefined {
    const next = this.pending;
    this.pending = undefined;
    return next;
  }

  private async write(text: string): Promise<void> {
    if (!this.isReplaceable) {
      await this.setAsideIfUnusable();
      this.isReplaceable = true;
    }
    this.tempCount++;
    const tempName = `.${basename(this.file)}.tmp-${String(process.pid)}-${String(this.tempCount)}`;
    await replaceFileAtomically(
      this.file,
      join(dirname(this.file), tempName),
      text,
      this.writeTempFile,
    );
  }

  private async setAsideIfUnusable(): Promise<void> {
    const existing = await readStateFile(this.file);
    if (existing.ok) return;
    const aside = await this.freeAsideName();
    try {
      await rename(this.file, aside);
    } catch (error) {
      // Removed since it was read: nothing left to protect.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    this.logger.warn(
      { file: this.file, movedTo: aside, reason: existing.reason },
      `${existing.message}; moved it to ${aside} and writing new state`,
    );
  }

  private async freeAsideName(): Promise<string> {
    const stamp = new Date(this.clock.wallNow()).toISOString().replace(/[-:]/g, "");
    const base = `${this.file}.corrupt-${stamp}`;
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? base : `${base}-${String(n)}`;
      try {
        await lstat(candidate);
      } catch {
        return candidate;
      }
    }
  }
}

/**
 * Watches the config file for content changes (SPEC section 6) and reports each new content
 * once: directory watch -> filter -> debounce -> read -> sha256 -> compare with the last seen.
 *
 * Choices, and why:
 * - The DIRECTORY is watched, not the file. Editors save by writing a temp file and renaming
 *   it over the original, and a Kubernetes ConfigMap swaps its `..data` symlink (the file is
 *   `config.yaml -> ..data/config.yaml`): a watch on the file's inode would go deaf after the
 *   first such save. `depth: 0` keeps it to the one directory.
 * - Only the file's own entry and `..data` pass the filter, so a busy directory (the state
 *   file may live next to the config) costs nothing. Symlinks are followed, so an in-place
 *   edit of the file a symlink points to is seen too.
 * - No `awaitWriteFinish`: it holds every event until the size has been still for a threshold
 *   (seconds, by polling). The debounce below does the same job for ordinary writes, and the
 *   hash makes spurious wake-ups free. A writer that pauses longer than the debounce in the
 *   middle of a non-atomic write can expose a partial file; such a file almost always fails
 *   validation and is refused whole, and the write's next event triggers another read.
 * - Native events (inotify) by default. `usePolling` (or chokidar's CHOKIDAR_USEPOLLING) is for
 *   filesystems where they do not arrive: NFS, some container bind mounts. Polling compares
 *   size and mtime, so it costs CPU and can miss a same-size rewrite within one mtime tick.
 * - The content hash, not the event, decides: a touch or a same-bytes save never reloads.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import type { Logger } from "../log/logger.ts";
import { SYSTEM_CLOCK, type Clock, type TimerHandle } from "../time/clock.ts";

/** The ConfigMap entry whose swap publishes a new version of every file in the volume. */
const CONFIG_MAP_DATA = "..data";

export interface ConfigFileChange {
  /** sha256 hex of the file's bytes: the same value loadConfigFile reports as `hash`. */
  hash: string;
  /** The content as UTF-8 (a leading BOM removed), or null when it is not valid UTF-8. */
  text: string | null;
}

export interface ConfigWatcherOptions {
  file: string;
  /** Hash of the content already loaded; null when none was. */
  initialHash: string | null;
  /** Called once per new content; calls never overlap (a returned promise is awaited). */
  onChange: (change: ConfigFileChange) => void | Promise<void>;
  logger: Logger;
  /** Quiet time after the last event before the file is read. Default 200. */
  debounceMs?: number;
  /** A stream of events never delays the read longer than this. Default 2000. */
  maxWaitMs?: number;
  clock?: Clock;
  /** Stat polling instead of native events. Default false. */
  usePolling?: boolean;
  pollingIntervalMs?: number;
}

export class ConfigWatcher {
  readonly file: string;
  private readonly dir: string;
  private readonly name: string;
  private readonly options: ConfigWatcherOptions;
  private readonly logger: Logger;
  private readonly debouncer: ChangeDebouncer;
  private lastSeenHash: string | null;
  private watcher: FSWatcher | undefined;
  private isClosed = false;
  private isChecking = false;
  private isCheckWanted = false;
  private checking: Promise<void> = Promise.resolve();

  constructor(options: ConfigWatcherOptions) {
    this.options = options;
    this.file = resolve(options.file);
    this.dir = dirname(this.file);
    this.name = basename(this.file);
    this.logger = options.logger.child({ component: "config-watcher" });
    this.lastSeenHash = options.initialHash;
    this.debouncer = new ChangeDebouncer({
      clock: options.clock ?? SYSTEM_CLOCK,
      debounceMs: options.debounceMs ?? 200,
      maxWaitMs: options.maxWaitMs ?? 2000,
      fire: () => {
        this.requestCheck();
      },
    });
  }

  /** Starts watching; resolves once the initial scan is done and events flow. */
  async start(): Promise<void> {
    // chokidar 6 watchers cannot be reopened: a closed ConfigWatcher stays closed.
    if (this.isClosed) throw new Error("the config watcher was closed; create a new one");
    if (this.watcher !== undefined) throw new Error("the config watcher is already started");
    const watcher = watch(this.dir, {
      depth: 0,
      ignoreInitial: true,
      followSymlinks: true,
      persistent: false,
      ignored: (path: string) => path !== this.dir && !this.isRelevant(path),
      ...(this.options.usePolling === true ? { backend: "polling" as const } : {}),
      ...(this.options.pollingIntervalMs === undefined
        ? {}
        : { pollingInterval: this.options.pollingIntervalMs }),
    });
    this.watcher = watcher;
    watcher.on("all", (event, path) => {
      if (path !== this.dir && !this.isRelevant(path)) return;
      this.logger.debug({ event, path }, "config directory event");
      this.debouncer.poke();
    });
    watcher.on("error", (error) => {
      this.logger.warn({ err: error, dir: this.dir }, "config directory watch error");
    });
    await new Promise<void>((resolveReady) => watcher.once("ready", resolveReady));
    this.logger.info({ file: this.file, dir: this.dir }, "watching the config directory");
    // The file may have changed between its first load and the watch starting.
    this.debouncer.poke();
  }

  /** The control plane loaded this content by other means (SIGHUP, admin API). */
  markSeen(hash: string): void {
    this.lastSeenHash = hash;
  }

  /**
   * Stops watching; it cannot be restarted. Waits for a change being reported, so onChange is
   * never running after this resolves (so do not await close() from inside onChange).
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.debouncer.cancel();
    await this.watcher?.close();
    // A read in progress finishes but, seeing isClosed, does not report.
    await this.checking;
  }

  private isRelevant(path: string): boolean {
    const name = basename(path);
    return name === this.name || name === CONFIG_MAP_DATA;
  }

  /** Runs one check now, or one more right after the current one finishes. */
  private requestCheck(): void {
    if (this.isClosed) return;
    this.isCheckWanted = true;
    if (this.isChecking) return;
    this.isChecking = true;
    this.checking = this.checkLoop();
  }

  private async checkLoop(): Promise<void> {
    try {
      while (this.takeCheckRequest()) await this.checkOnce();
    } finally {
      this.isChecking = false;
    }
  }

  private takeCheckRequest(): boolean {
    const isWanted = this.isCheckWanted && !this.isClosed;
    this.isCheckWanted = false;
    return isWanted;
  }

  private async checkOnce(): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file);
    } catch (error) {
      // Mid-rename or deleted: the next event (the file's return) triggers another read.
      const code = (error as NodeJS.ErrnoException).code;
      const level = code === "ENOENT" ? "debug" : "warn";
      this.logger[level]({ err: error, file: this.file }, "cannot read the config file");
      return;
    }
    const hash = createHash("sha256").update(bytes).digest("hex");
    if (this.isClosed) return;
    if (hash === this.lastSeenHash) {
      // So that "why did my save not reload?" has an answer in a debug log.
      this.logger.debug({ file: this.file, hash }, "config file unchanged");
      return;
    }
    this.lastSeenHash = hash;
    this.logger.info({ file: this.file, hash }, "config file content changed");
    try {
      await this.options.onChange({ hash, text: decodeUtf8(bytes) });
    } catch (error) {
      this.logger.error({ err: error, file: this.file }, "config change handler failed");
    }
  }
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

export interface ChangeDebouncerOptions {
  clock: Clock;
  debounceMs: number;
  maxWaitMs: number;
  fire: () => void;
}

/**
 * Trailing debounce with a ceiling: fires `debounceMs` after the last poke, but never later
 * than `maxWaitMs` after the first poke of a burst, so a file rewritten without pause (or a
 * polling backend reporting every tick) still gets read.
 */
export class ChangeDebouncer {
  private readonly options: ChangeDebouncerOptions;
  private burstStartMs: number | undefined;
  private timer: TimerHandle | undefined;

  constructor(options: ChangeDebouncerOptions) {
    this.options = options;
  }

  poke(): void {
    const { clock, debounceMs, maxWaitMs } = this.options;
    const nowMs = clock.now();
    this.burstStartMs ??= nowMs;
    const dueMs = Math.min(nowMs + debounceMs, this.burstStartMs + maxWaitMs);
    this.timer?.cancel();
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      this.burstStartMs = undefined;
      this.options.fire();
    }, dueMs - nowMs);
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.burstStartMs = undefined;
  }

  get isPending(): boolean {
    return this.timer !== undefined;
  }
}

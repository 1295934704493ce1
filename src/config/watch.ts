/**
 * Watches the config file (SPEC section 6) and hands over its content after each burst of
 * changes: directory watch -> filter -> debounce -> read -> sha256 -> onContent.
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
 * - The watcher keeps no memory of content: every read is handed over with its hash, and the
 *   receiver (the control plane) knows what it loaded last, by this watcher, SIGHUP or the
 *   admin API alike. So "seen this content" lives in one place, and a touch, a same-bytes save
 *   or the content a manual reload already loaded reloads nothing.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import type { Logger } from "../log/logger.ts";
import { SYSTEM_CLOCK, type Clock, type TimerHandle } from "../time/clock.ts";
import { configContentOf, type ConfigContent } from "./load.ts";

/** The ConfigMap entry whose swap publishes a new version of every file in the volume. */
const CONFIG_MAP_DATA = "..data";

export interface ConfigWatcherOptions {
  file: string;
  /**
   * Called with the content after each burst of events, and once when the watch starts (the
   * file may have changed since it was loaded); calls never overlap (a returned promise is
   * awaited). Whether the content is new is for the receiver to decide.
   */
  onContent: (content: ConfigContent) => void | Promise<void>;
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

  /**
   * Stops watching; it cannot be restarted. Waits for content being handed over, so onContent
   * is never running after this resolves (so do not await close() from inside onContent).
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
    if (this.isClosed) return;
    const content = configContentOf(bytes);
    this.logger.debug({ file: this.file, hash: content.hash }, "config file read");
    try {
      await this.options.onContent(content);
    } catch (error) {
      this.logger.error({ err: error, file: this.file }, "config content handler failed");
    }
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

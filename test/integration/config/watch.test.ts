/**
 * The config watcher on real directories: the ways a config file gets replaced in practice
 * (in-place write, editor temp-and-rename, Kubernetes ConfigMap `..data` swap, delete and
 * recreate) each hand over the new content once per burst of saves. The watcher keeps no
 * memory of content: skipping what was already loaded is the control plane's (see
 * test/integration/operate/static-config.test.ts and hot-reload.test.ts).
 *
 * "Nothing handed over" is never taken from a quiet pause: the test waits until the watcher
 * has read the file after the save (each read ends in a log line: read or unreadable), then
 * shows that the next real change is handed over, alone. Those follow-up changes are written
 * by rename, so a read still under way sees either whole content.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConfigContent } from "../../../src/config/load.ts";
import { ConfigWatcher, type ConfigWatcherOptions } from "../../../src/config/watch.ts";
import { captureLogs, type CapturedLogs } from "../../support/captured-logs.ts";
import { CountingClock } from "../../support/counting-clock.ts";
import { waitFor } from "../../support/ports.ts";

const hashOf = (text: string | Uint8Array): string =>
  createHash("sha256").update(text).digest("hex");

/** Generous: file events and debounced reads are quick, but the machine may be busy. */
const EVENT_TIMEOUT_MS = 10_000;

/** The log line each read of the file ends with, whatever it found. */
const READ_OUTCOMES = new Set(["config file read", "cannot read the config file"]);

let dir: string;
let watchers: ConfigWatcher[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-watch-"));
  watchers = [];
});

afterEach(async () => {
  await Promise.all(watchers.map((w) => w.close()));
  await rm(dir, { recursive: true, force: true });
});

interface StartedWatcher {
  watcher: ConfigWatcher;
  /** What the watcher handed over after its first read. */
  changes: ConfigContent[];
  /** What its first read (the one start() schedules) handed over. */
  initial: ConfigContent[];
  /** The watcher's own log, at debug. */
  logs: CapturedLogs;
}

/**
 * Starts a watcher on `file` and waits for the read that start() schedules: what it handed
 * over is kept apart, so it cannot stand in for the events under test.
 */
async function startWatcher(
  file: string,
  options: Partial<ConfigWatcherOptions> = {},
): Promise<StartedWatcher> {
  const changes: ConfigContent[] = [];
  const logs = captureLogs("debug");
  const watcher = new ConfigWatcher({
    file,
    onContent: (content) => {
      changes.push(content);
    },
    logger: logs.logger,
    ...options,
  });
  watchers.push(watcher);
  await watcher.start();
  await waitForRead(logs, 0);
  return { watcher, changes, logs, initial: changes.splice(0) };
}

function readsDone(logs: CapturedLogs): number {
  return logs.entries.filter((entry) => READ_OUTCOMES.has(entry.msg)).length;
}

/** Resolves once more than `readsBefore` reads of the file have finished. */
async function waitForRead(logs: CapturedLogs, readsBefore: number): Promise<void> {
  await waitFor(() => readsDone(logs) > readsBefore, {
    timeoutMs: EVENT_TIMEOUT_MS,
    description: "the watcher reading the file",
  });
}

async function waitForChanges(changes: ConfigContent[], count: number): Promise<void> {
  await waitFor(() => changes.length >= count, {
    timeoutMs: EVENT_TIMEOUT_MS,
    description: `${String(count)} change(s)`,
  });
}

/** Replaces the file whole (temp file renamed over it): no reader ever sees half of it. */
async function replaceFile(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp`;
  await writeFile(temp, text);
  await rename(temp, file);
}

/** The watcher logged that the file could not be read (it is gone): the deletion was handled. */
async function waitForUnreadable(logs: CapturedLogs): Promise<void> {
  await waitFor(() => logs.withMessage("cannot read the config file").length > 0, {
    timeoutMs: EVENT_TIMEOUT_MS,
    description: "the watcher finding the file gone",
  });
}

describe("ConfigWatcher", () => {
  it("reports an in-place edit", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes } = await startWatcher(file);
    await writeFile(file, "a: 2\n");
    await waitForChanges(changes, 1);
    expect(changes).toEqual([{ hash: hashOf("a: 2\n"), text: "a: 2\n" }]);
  });

  it("reports an editor-style save (write a temp file, rename it over)", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes } = await startWatcher(file);
    const temp = join(dir, ".switchyard.yaml.swp-1234");
    await writeFile(temp, "a: 2\n");
    await rename(temp, file);
    await waitForChanges(changes, 1);
    expect(changes.map((c) => c.text)).toEqual(["a: 2\n"]);
    // The watch survives the inode swap: a second save is seen as well.
    await writeFile(temp, "a: 3\n");
    await rename(temp, file);
    await waitForChanges(changes, 2);
    expect(changes.map((c) => c.text)).toEqual(["a: 2\n", "a: 3\n"]);
  });

  it("reports a Kubernetes ConfigMap update (an atomic swap of the ..data symlink)", async () => {
    // The kubelet's layout: config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>/
    await mkdir(join(dir, "..2026_01_01_00_00_00.1"));
    await writeFile(join(dir, "..2026_01_01_00_00_00.1", "config.yaml"), "a: 1\n");
    await symlink("..2026_01_01_00_00_00.1", join(dir, "..data"));
    await symlink("..data/config.yaml", join(dir, "config.yaml"));
    const { changes } = await startWatcher(join(dir, "config.yaml"));

    await mkdir(join(dir, "..2026_01_01_00_05_00.2"));
    await writeFile(join(dir, "..2026_01_01_00_05_00.2", "config.yaml"), "a: 2\n");
    await symlink("..2026_01_01_00_05_00.2", join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), join(dir, "..data"));
    await rm(join(dir, "..2026_01_01_00_00_00.1"), { recursive: true });

    await waitForChanges(changes, 1);
    expect(changes.map((c) => c.text)).toEqual(["a: 2\n"]);
  });

  it("hands over the same content again on a touch or a same-bytes save: it does not judge", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes, logs } = await startWatcher(file, { debounceMs: 50 });
    const readsBefore = readsDone(logs);
    const later = new Date(Date.now() + 5000);
    await utimes(file, later, later);
    await writeFile(file, "a: 1\n");
    const temp = join(dir, "switchyard.yaml.new");
    await writeFile(temp, "a: 1\n");
    await rename(temp, file);
    await waitForRead(logs, readsBefore);
    // Whoever receives it knows what it loaded last (the control plane skips these).
    expect(changes.length).toBeGreaterThan(0);
    expect(new Set(changes.map((c) => c.hash))).toEqual(new Set([hashOf("a: 1\n")]));
    await replaceFile(file, "a: 2\n");
    await waitFor(() => changes.at(-1)?.text === "a: 2\n", {
      timeoutMs: EVENT_TIMEOUT_MS,
      description: "the next real change",
    });
  });

  it("reports several quick saves once, with the final content", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 0\n");
    // A debounce far longer than the saves take, even on a busy machine.
    const { changes } = await startWatcher(file, { debounceMs: 1000 });
    for (let i = 1; i <= 5; i++) await writeFile(file, `a: ${String(i)}\n`);
    await waitForChanges(changes, 1);
    // Once: the next save is the next change reported, with nothing in between.
    await replaceFile(file, "a: 6\n");
    await waitForChanges(changes, 2);
    expect(changes).toEqual([
      { hash: hashOf("a: 5\n"), text: "a: 5\n" },
      { hash: hashOf("a: 6\n"), text: "a: 6\n" },
    ]);
  });

  it("survives the file being deleted and picks up its re-creation", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes, logs } = await startWatcher(file, { debounceMs: 50 });
    await unlink(file);
    await waitForUnreadable(logs);
    expect(changes).toEqual([]);
    await writeFile(file, "a: 2\n");
    await waitForChanges(changes, 1);
    expect(changes.map((c) => c.text)).toEqual(["a: 2\n"]);
  });

  it("hands over the content once when the watch starts (it may have changed since its load)", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 2\n");
    const { initial, changes } = await startWatcher(file, { debounceMs: 50 });
    expect(initial).toEqual([{ hash: hashOf("a: 2\n"), text: "a: 2\n" }]);
    expect(changes).toEqual([]);
  });

  it("does not even read the file for events on other files in the directory", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes, logs } = await startWatcher(file, { debounceMs: 50 });
    const eventPaths = (): unknown[] =>
      logs.withMessage("config directory event").map((entry) => entry.path);
    await writeFile(join(dir, "state.json"), "{}");
    await writeFile(join(dir, "other.yaml"), "b: 1\n");
    // The file's own save comes after them, and its change is reported a debounce later: by
    // then the other files' events, had they passed the filter, would be in the log.
    await writeFile(file, "a: 2\n");
    await waitForChanges(changes, 1);
    expect(new Set(eventPaths())).toEqual(new Set([file]));
  });

  it("passes null text for bytes that are not UTF-8, with the hash of the bytes", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes } = await startWatcher(file, { debounceMs: 50 });
    const bytes = Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a]);
    await writeFile(file, bytes);
    await waitForChanges(changes, 1);
    expect(changes).toEqual([{ hash: hashOf(bytes), text: null }]);
  });

  it("keeps watching after onContent throws, and never overlaps calls", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const seen: string[] = [];
    let running = 0;
    let maxRunning = 0;
    let releaseFirst = (): void => undefined;
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    // Its debounce timer firing is the watcher asking for the next read.
    const clock = new CountingClock();
    await startWatcher(file, {
      debounceMs: 20,
      clock,
      onContent: async (content) => {
        // The content at start, handed over once: not a save under test.
        if (content.text === "a: 1\n") return;
        running++;
        maxRunning = Math.max(maxRunning, running);
        // The first call stays in progress until the next save has been noticed.
        if (seen.length === 0) await firstHeld;
        running--;
        seen.push(content.text ?? "");
        if (seen.length === 1) throw new Error("reload failed");
      },
    });
    await writeFile(file, "a: 2\n");
    await waitFor(() => running > 0, { timeoutMs: EVENT_TIMEOUT_MS });
    const firedBefore = clock.fired;
    await replaceFile(file, "a: 3\n");
    await waitFor(() => clock.fired > firedBefore, {
      timeoutMs: EVENT_TIMEOUT_MS,
      description: "the watcher asking to read the next save while the first call runs",
    });
    expect(seen).toEqual([]);
    releaseFirst();
    await waitFor(() => seen.includes("a: 3\n"), { timeoutMs: EVENT_TIMEOUT_MS });
    // A save's straggling event may hand the same content over twice: the order is the point.
    expect([...new Set(seen)]).toEqual(["a: 2\n", "a: 3\n"]);
    expect(maxRunning).toBe(1);
  });

  it("works with the polling backend", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes } = await startWatcher(file, {
      debounceMs: 50,
      usePolling: true,
      pollingIntervalMs: 50,
    });
    await writeFile(file, "a: 22\n");
    await waitForChanges(changes, 1);
    expect(changes.map((c) => c.text)).toEqual(["a: 22\n"]);
  });

  it("stops reporting after close and cannot be restarted", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    // A debounce far longer than the write and the close take: "a: 2" is not read before it.
    const { watcher, changes } = await startWatcher(file, { debounceMs: 1000 });
    // A second watcher on the same file, left open: it shows the writes are there to be seen.
    const control = await startWatcher(file, { debounceMs: 50 });
    await writeFile(file, "a: 2\n");
    await watcher.close();
    await replaceFile(file, "a: 3\n");
    await waitFor(() => control.changes.at(-1)?.text === "a: 3\n", {
      timeoutMs: EVENT_TIMEOUT_MS,
      description: "the open watcher seeing the last write",
    });
    expect(changes).toEqual([]);
    await expect(watcher.start()).rejects.toThrow(/closed/);
  });
});

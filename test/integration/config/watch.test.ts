/**
 * The config watcher on real directories: the ways a config file gets replaced in practice
 * (in-place write, editor temp-and-rename, Kubernetes ConfigMap `..data` swap, delete and
 * recreate) each report the new content once, and saves that change nothing report nothing.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSilentLogger } from "../../../src/log/logger.ts";
import {
  ConfigWatcher,
  type ConfigFileChange,
  type ConfigWatcherOptions,
} from "../../../src/config/watch.ts";
import { sleep, waitFor } from "../../support/ports.ts";

const hashOf = (text: string | Uint8Array): string =>
  createHash("sha256").update(text).digest("hex");

/** Long enough for a debounced read that would happen to have happened. */
const QUIET_MS = 600;

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

async function startWatcher(
  file: string,
  initialText: string | null,
  options: Partial<ConfigWatcherOptions> = {},
): Promise<{ watcher: ConfigWatcher; changes: ConfigFileChange[] }> {
  const changes: ConfigFileChange[] = [];
  const watcher = new ConfigWatcher({
    file,
    initialHash: initialText === null ? null : hashOf(initialText),
    onChange: (change) => {
      changes.push(change);
    },
    logger: createSilentLogger(),
    ...options,
  });
  watchers.push(watcher);
  await watcher.start();
  // Let the check that start() schedules run, so it cannot stand in for the events under test.
  await sleep((options.debounceMs ?? 200) + 100);
  return { watcher, changes };
}

async function waitForChanges(changes: ConfigFileChange[], count: number): Promise<void> {
  await waitFor(() => changes.length >= count, {
    timeoutMs: 1000,
    description: `${String(count)} change(s)`,
  });
}

describe("ConfigWatcher", () => {
  it("reports an in-place edit within a second", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes } = await startWatcher(file, "a: 1\n");
    await writeFile(file, "a: 2\n");
    await waitForChanges(changes, 1);
    expect(changes).toEqual([{ hash: hashOf("a: 2\n"), text: "a: 2\n" }]);
  });

  it("reports an editor-style save (write a temp file, rename it over)", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes } = await startWatcher(file, "a: 1\n");
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
    const { changes } = await startWatcher(join(dir, "config.yaml"), "a: 1\n");

    await mkdir(join(dir, "..2026_01_01_00_05_00.2"));
    await writeFile(join(dir, "..2026_01_01_00_05_00.2", "config.yaml"), "a: 2\n");
    await symlink("..2026_01_01_00_05_00.2", join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), join(dir, "..data"));
    await rm(join(dir, "..2026_01_01_00_00_00.1"), { recursive: true });

    await waitForChanges(changes, 1);
    expect(changes.map((c) => c.text)).toEqual(["a: 2\n"]);
  });

  it("ignores a touch and a rewrite of the same bytes", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes } = await startWatcher(file, "a: 1\n", { debounceMs: 50 });
    const later = new Date(Date.now() + 5000);
    await utimes(file, later, later);
    await writeFile(file, "a: 1\n");
    const temp = join(dir, "switchyard.yaml.new");
    await writeFile(temp, "a: 1\n");
    await rename(temp, file);
    await sleep(QUIET_MS);
    expect(changes).toEqual([]);
    // Still watching: a real change right after is reported.
    await writeFile(file, "a: 2\n");
    await waitForChanges(changes, 1);
    expect(changes.map((c) => c.text)).toEqual(["a: 2\n"]);
  });

  it("reports several quick saves once, with the final content", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 0\n");
    const { changes } = await startWatcher(file, "a: 0\n", { debounceMs: 200 });
    for (let i = 1; i <= 5; i++) {
      await writeFile(file, `a: ${String(i)}\n`);
      await sleep(20);
    }
    await waitForChanges(changes, 1);
    await sleep(QUIET_MS);
    expect(changes).toEqual([{ hash: hashOf("a: 5\n"), text: "a: 5\n" }]);
  });

  it("survives the file being deleted and picks up its re-creation", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes } = await startWatcher(file, "a: 1\n", { debounceMs: 50 });
    await unlink(file);
    await sleep(QUIET_MS);
    expect(changes).toEqual([]);
    await writeFile(file, "a: 2\n");
    await waitForChanges(changes, 1);
    expect(changes.map((c) => c.text)).toEqual(["a: 2\n"]);
  });

  it("reports nothing when the file comes back with the content already loaded", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes } = await startWatcher(file, "a: 1\n", { debounceMs: 50 });
    await unlink(file);
    await sleep(200);
    await writeFile(file, "a: 1\n");
    await sleep(QUIET_MS);
    expect(changes).toEqual([]);
  });

  it("does not report content the control plane marked as seen", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { watcher, changes } = await startWatcher(file, "a: 1\n", { debounceMs: 50 });
    // E.g. a SIGHUP reload read "a: 2" before the watcher's debounce ran out.
    watcher.markSeen(hashOf("a: 2\n"));
    await writeFile(file, "a: 2\n");
    await sleep(QUIET_MS);
    expect(changes).toEqual([]);
  });

  it("reports a change made between the first load and the watch starting", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 2\n");
    const { changes } = await startWatcher(file, "a: 1\n", { debounceMs: 50 });
    await waitForChanges(changes, 1);
    expect(changes.map((c) => c.text)).toEqual(["a: 2\n"]);
  });

  it("does not even read the file for events on other files in the directory", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const lines: string[] = [];
    const logger = pino(
      { level: "debug" },
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString());
          callback();
        },
      }),
    );
    await startWatcher(file, "a: 1\n", { debounceMs: 50, logger });
    const eventPaths = (): string[] =>
      lines
        .map((line) => JSON.parse(line) as { msg: string; path?: string })
        .filter((entry) => entry.msg === "config directory event")
        .map((entry) => entry.path ?? "");
    await writeFile(join(dir, "state.json"), "{}");
    await writeFile(join(dir, "other.yaml"), "b: 1\n");
    await sleep(QUIET_MS);
    expect(eventPaths()).toEqual([]);
    // The log does record the file's own events.
    await writeFile(file, "a: 2\n");
    await waitFor(() => eventPaths().length > 0, { timeoutMs: 1000 });
    expect(new Set(eventPaths())).toEqual(new Set([file]));
  });

  it("passes null text for bytes that are not UTF-8, with the hash of the bytes", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes } = await startWatcher(file, "a: 1\n", { debounceMs: 50 });
    const bytes = Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a]);
    await writeFile(file, bytes);
    await waitForChanges(changes, 1);
    expect(changes).toEqual([{ hash: hashOf(bytes), text: null }]);
  });

  it("keeps watching after onChange throws, and never overlaps calls", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const seen: string[] = [];
    let running = 0;
    let maxRunning = 0;
    await startWatcher(file, "a: 1\n", {
      debounceMs: 20,
      onChange: async (change) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(150);
        running--;
        seen.push(change.text ?? "");
        if (seen.length === 1) throw new Error("reload failed");
      },
    });
    await writeFile(file, "a: 2\n");
    await waitFor(() => running > 0, { timeoutMs: 1000 });
    await writeFile(file, "a: 3\n");
    await waitFor(() => seen.length >= 2, { timeoutMs: 2000 });
    expect(seen).toEqual(["a: 2\n", "a: 3\n"]);
    expect(maxRunning).toBe(1);
  });

  it("works with the polling backend", async () => {
    const file = join(dir, "switchyard.yaml");
    await writeFile(file, "a: 1\n");
    const { changes } = await startWatcher(file, "a: 1\n", {
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
    const { watcher, changes } = await startWatcher(file, "a: 1\n", { debounceMs: 50 });
    await writeFile(file, "a: 2\n");
    await watcher.close();
    await writeFile(file, "a: 3\n");
    await sleep(QUIET_MS);
    expect(changes).toEqual([]);
    await expect(watcher.start()).rejects.toThrow(/closed/);
  });
});

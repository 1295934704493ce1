/**
 * Starts a real switchyard in this process from a config FILE in a temporary directory, as
 * `serve` does: reloads (admin API, watcher) re-read that file, and the state file resolves
 * next to it. The config is written as a user would write it (durations as strings, weights as
 * percentages); JSON is valid YAML, so no serializer is needed.
 */
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSwitchyard, type RunningSwitchyard } from "../../src/app.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import { createSilentLogger, type Logger } from "../../src/log/logger.ts";
import { originOf } from "./ports.ts";

export interface FileSwitchyard extends RunningSwitchyard {
  /** The proxy's origin. */
  readonly url: string;
  /** The admin listener's origin. */
  readonly adminUrl: string;
  /** The temporary directory holding the config file (removed by close and drain). */
  readonly dir: string;
  readonly configFile: string;
}

export interface FileSwitchyardOptions {
  logger?: Logger;
  random?: () => number;
  /** Whether the config directory is watched (default true). */
  isWatchingConfig?: boolean;
  /**
   * Writes the first config text into `dir` and returns the config file's path (default:
   * `dir/switchyard.yaml`); e.g. to lay out a Kubernetes ConfigMap volume.
   */
  writeInitial?: (dir: string, text: string) => Promise<string>;
  /** Wait for the first round of health checks, as a load balancer would (default true). */
  isWaitingForReady?: boolean;
}

/** `raw` with the listeners on 127.0.0.1 and free ports unless it says otherwise. */
export function withLoopbackListen(raw: Record<string, unknown>): Record<string, unknown> {
  return {
    ...raw,
    listen: { proxy: "127.0.0.1:0", admin: "127.0.0.1:0", ...(raw.listen as object | undefined) },
  };
}

/** The config file text for `raw` (JSON, which is YAML), listeners on loopback. */
export function configText(raw: Record<string, unknown>): string {
  return `${JSON.stringify(withLoopbackListen(raw), null, 2)}\n`;
}

/** Replaces the file's content in place (same inode), as `echo ... > file` does. */
export async function writeConfigInPlace(file: string, text: string): Promise<void> {
  await writeFile(file, text);
}

/** Saves like an editor: a temporary file next to it, renamed over it. */
export async function writeConfigByRename(file: string, text: string): Promise<void> {
  const temp = `${file}.${String(process.pid)}.swp`;
  await writeFile(temp, text);
  await rename(temp, file);
}

/** `config` is the file's exact text, or an object written with `configText`. */
export async function startFileSwitchyard(
  config: string | Record<string, unknown>,
  options: FileSwitchyardOptions = {},
): Promise<FileSwitchyard> {
  const text = typeof config === "string" ? config : configText(config);
  const { writeInitial } = options;
  const { dir, configFile: defaultFile } = await makeConfigDir(
    writeInitial === undefined ? text : null,
  );
  const configFile = writeInitial === undefined ? defaultFile : await writeInitial(dir, text);
  const loaded = await loadConfigFile(configFile);
  if (!loaded.ok) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`invalid test config: ${JSON.stringify(loaded.problems)}`);
  }
  let running: RunningSwitchyard;
  try {
    running = await startSwitchyard({
      config: loaded.config,
      configHash: loaded.hash,
      configFile,
      logger: options.logger ?? createSilentLogger(),
      ...(options.isWatchingConfig === undefined
        ? {}
        : { isWatchingConfig: options.isWatchingConfig }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  if (options.isWaitingForReady !== false) await running.healthChecker.firstRoundDone;
  const removeDir = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const close = running.close.bind(running);
  const drain = running.drain.bind(running);
  return Object.assign(running, {
    url: originOf(running.proxyPort),
    adminUrl: originOf(running.adminPort),
    dir,
    configFile,
    close: () => close().then(removeDir),
    drain: () => drain().then(removeDir),
  });
}

export interface ConfigDir {
  readonly dir: string;
  /** `dir/switchyard.yaml`. */
  readonly configFile: string;
  readonly remove: () => Promise<void>;
}

/** A temporary directory with `switchyard.yaml` holding `text` (nothing written for null). */
export async function makeConfigDir(text: string | null): Promise<ConfigDir> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-operate-"));
  const configFile = join(dir, "switchyard.yaml");
  if (text !== null) await writeFile(configFile, text);
  return { dir, configFile, remove: () => rm(dir, { recursive: true, force: true }) };
}

import { dirname, isAbsolute, resolve } from "node:path";

/**
 * `state.file` as written in the config -> the path to use. A relative path is taken from the
 * config file's directory (like nginx includes), so the same config finds the same state
 * whatever directory the process was started from. The config's own path is not resolved
 * through symlinks: in a Kubernetes ConfigMap that would land in a timestamped directory.
 */
export function resolveStateFile(configFile: string, stateFile: string): string {
  if (isAbsolute(stateFile)) return stateFile;
  return resolve(dirname(resolve(configFile)), stateFile);
}

/**
 * What is valid in a config but works differently from what its keys suggest on their own.
 * `switchyard check` prints these as warnings and still exits 0.
 */
import type { ConfigPath } from "./references.ts";
import type { Config } from "./schema.ts";
import type { WorkersSetting } from "./workers-schema.ts";

export interface ConfigWarning {
  readonly path: ConfigPath;
  readonly message: string;
}

export function configWarnings(config: Config): ConfigWarning[] {
  return [...fleetStateFileWarnings(config), ...workersWarnings(config.workers)];
}

function fleetStateFileWarnings(config: Config): ConfigWarning[] {
  if (config.fleet === undefined || config.state === undefined) return [];
  // SPEC 10: the fleet's state lives in Redis; the file only covers a start without Redis.
  return [
    {
      path: ["state", "file"],
      message:
        "in fleet mode this file is only a local copy of the last fleet state, read when this replica starts while Redis is unreachable; admin overrides and rollout progress live in Redis",
    },
  ];
}

/** Valid, but `serve` in this build refuses more than one worker (src/cli/serve.ts). */
function workersWarnings(workers: WorkersSetting): ConfigWarning[] {
  if (workers === 1) return [];
  const message =
    workers === "auto"
      ? 'more than 1 worker is not run by this build yet: serve refuses "auto" where the cgroup allows more than one CPU (set workers: 1 or remove the key)'
      : `more than 1 worker is not run by this build yet: serve refuses workers: ${workers} (set workers: 1 or remove the key)`;
  return [{ path: ["workers"], message }];
}

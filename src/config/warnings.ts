/**
 * What is valid in a config but works differently from what its keys suggest on their own.
 * `switchyard check` prints these as warnings and still exits 0.
 */
import type { ConfigPath } from "./references.ts";
import type { Config } from "./schema.ts";

export interface ConfigWarning {
  readonly path: ConfigPath;
  readonly message: string;
}

export function configWarnings(config: Config): ConfigWarning[] {
  return fleetStateFileWarnings(config);
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

/**
 * The repository's scripts (the CLI, the demo) as real child processes: the names the CLI,
 * demo and deploy tests use, over the shared implementation in test/support/node-process.ts.
 */
import {
  cleanEnv,
  CLI_MAIN,
  runNode,
  type ChildExit,
  type NodeChild,
  type SpawnNodeOptions,
} from "../../support/node-process.ts";

export {
  CLI_MAIN,
  DEMO_MAIN,
  killAllNodeChildren as killAllChildren,
  linesOf,
  NODE,
  REPO_ROOT,
  runNode,
  spawnNode,
} from "../../support/node-process.ts";

export type Exit = ChildExit;
export type SpawnOptions = SpawnNodeOptions;
export type RunningChild = NodeChild;

/** A clean environment: nothing inherited may choose a config file or a demo address. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv(extra);
}

/** Runs the `switchyard` command from the sources to completion. */
export function runCli(args: readonly string[], options: SpawnOptions = {}): Promise<Exit> {
  return runNode(CLI_MAIN, args, options);
}

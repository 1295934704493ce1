#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * The `switchyard` command. Exit codes: 0 success, 1 failure, 2 usage error.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import type { AdminFlags } from "./admin-client.ts";
import { runCheck } from "./check.ts";
import { runEndpoint, type EndpointFlags } from "./endpoint.ts";
import { PROCESS_OUTPUT } from "./output.ts";
import { runRollout } from "./rollout.ts";
import { chooseConfigFile, runServe } from "./serve.ts";
import { runStatus, type StatusFlags } from "./status.ts";
import { runWeights, type WeightsFlags } from "./weights.ts";

export const EXIT_USAGE = 2;

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  const program = newProgram();
  addLocalCommands(program, setExit);
  addAdminCommands(program, setExit);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    throw error;
  }
  return exitCode;
}

type SetExit = (code: number) => void;

function newProgram(): Command {
  return new Command()
    .name("switchyard")
    .description("A reverse proxy for zero-downtime version migrations.")
    .version(packageVersion())
    .showHelpAfterError("(run 'switchyard --help' for usage)")
    .exitOverride()
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      writeOut: (text) => process.stdout.write(text),
    });
}

/** Commands that work on this machine: run the proxy, check a file. */
function addLocalCommands(program: Command, setExit: SetExit): void {
  program
    .command("serve")
    .description("run the proxy")
    .option(
      "-c, --config <file>",
      "config file (default: $SWITCHYARD_CONFIG, then config/switchyard.yaml)",
    )
    .action(async (options: { config?: string }) => {
      setExit(await runServe(chooseConfigFile(options.config, process.env), PROCESS_OUTPUT));
    });

  program
    .command("check")
    .description("validate a config file and print every problem (like nginx -t)")
    .argument("<file>", "the config file")
    .action(async (file: string) => {
      setExit(await runCheck(file, PROCESS_OUTPUT));
    });
}

const ADMIN_HELP = "admin API URL (default: http://127.0.0.1:9901)";
const TOKEN_HELP = "admin API token (default: $SWITCHYARD_ADMIN_TOKEN)";
const LOCAL_HELP =
  "fleet mode while Redis is unreachable: apply to this replica only (dropped when Redis is back)";

/** Commands that talk to a running switchyard's admin API. */
function addAdminCommands(program: Command, setExit: SetExit): void {
  program
    .command("status")
    .description("routes, splits, upstream health, breakers and rollouts, from the admin API")
    .option("--admin <url>", ADMIN_HELP)
    .option("--token <token>", TOKEN_HELP)
    .option("--json", "print the admin API's JSON answer")
    .action(async (options: StatusFlags) => {
      setExit(await runStatus(options, PROCESS_OUTPUT));
    });

  program
    .command("weights")
    .description("set a route's split through the admin API, or --clear the override")
    .argument("<route>", "the route's name")
    .argument("[weights...]", "UPSTREAM=PCT pairs summing to 100, e.g. stable=90 canary=10")
    .option("--clear", "drop the admin override: the config file's split applies again")
    .option("--local", LOCAL_HELP)
    .option("--admin <url>", ADMIN_HELP)
    .option("--token <token>", TOKEN_HELP)
    .action(async (route: string, pairs: string[], options: WeightsFlags) => {
      setExit(await runWeights(route, pairs, options, PROCESS_OUTPUT));
    });

  program
    .command("rollout")
    .description("drive a route's rollout through the admin API")
    .argument("<route>", "the route's name")
    .argument("<action>", "start, pause, resume, approve, promote or abort")
    .option("--admin <url>", ADMIN_HELP)
    .option("--token <token>", TOKEN_HELP)
    .action(async (route: string, action: string, options: AdminFlags) => {
      setExit(await runRollout(route, action, options, PROCESS_OUTPUT));
    });

  program
    .command("endpoint")
    .description(
      "drain an endpoint, put it in maintenance, or make it ready, through the admin API",
    )
    .argument("<upstream>", "the upstream's name")
    .argument("<index>", "the endpoint's index in the upstream's endpoints (0, 1, ...)")
    .argument("<state>", "ready, drain or maintenance")
    .option("--local", LOCAL_HELP)
    .option("--admin <url>", ADMIN_HELP)
    .option("--token <token>", TOKEN_HELP)
    .option("--json", "print the admin API's JSON answer")
    .action(async (upstream: string, index: string, state: string, options: EndpointFlags) => {
      setExit(await runEndpoint(upstream, index, state, options, PROCESS_OUTPUT));
    });
}

/** package.json sits two levels up from both src/cli/ and dist/cli/. */
function packageVersion(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const { version } = JSON.parse(text) as { version?: unknown };
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`switchyard: unexpected error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);

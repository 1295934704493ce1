/** `switchyard serve`: load the config, start the proxy, handle signals. */
import { resolve } from "node:path";
import { ListenError, startSwitchyard } from "../app.ts";
import { formatProblem, loadConfigFile } from "../config/load.ts";
import type { LoadResult } from "../config/load.ts";
import { FILE_PATH } from "../config/problems.ts";
import { createLogger } from "../log/logger.ts";
import { resolveWorkerCount } from "../workers/worker-count.ts";
import type { CliOutput } from "./output.ts";

export const DEFAULT_CONFIG_FILE = "config/switchyard.yaml";

/** Which config file `serve` reads, and what chose it (named in error messages). */
export interface ConfigChoice {
  readonly file: string;
  readonly source: "--config" | "$SWITCHYARD_CONFIG" | "default";
}

/** `--config`, then `$SWITCHYARD_CONFIG` (an empty value counts as unset), then the default. */
export function chooseConfigFile(flag: string | undefined, env: NodeJS.ProcessEnv): ConfigChoice {
  if (flag !== undefined) return { file: flag, source: "--config" };
  const fromEnv = env.SWITCHYARD_CONFIG;
  if (fromEnv !== undefined && fromEnv !== "") {
    return { file: fromEnv, source: "$SWITCHYARD_CONFIG" };
  }
  return { file: DEFAULT_CONFIG_FILE, source: "default" };
}

export async function runServe(choice: ConfigChoice, out: CliOutput): Promise<number> {
  // Registered before anything slow, so a SIGHUP during startup cannot kill the process.
  let onHangup = (): void => undefined;
  const hangupListener = (): void => {
    onHangup();
  };
  process.on("SIGHUP", hangupListener);

  const configFile = choice.file;
  const loaded = await loadConfigFile(configFile);
  const refusal = refusalLines(loaded, choice);
  if (!loaded.ok || refusal.length > 0) {
    for (const line of refusal) out.stderr(line);
    process.off("SIGHUP", hangupListener);
    return 1;
  }
  const logger = createLogger();
  let running;
  try {
    running = await startSwitchyard({
      config: loaded.config,
      configHash: loaded.hash,
      configFile,
      logger,
      workers: await resolveWorkerCount(loaded.config.workers),
    });
  } catch (error) {
    if (error instanceof ListenError) {
      out.stderr(`switchyard: ${error.message}.`);
      process.off("SIGHUP", hangupListener);
      return 1;
    }
    throw error;
  }
  const control = running.control;
  onHangup = () => {
    logger.info("SIGHUP received: reloading the config file");
    control.reload("signal").catch((error: unknown) => {
      logger.error({ err: error }, "reload on SIGHUP failed");
    });
  };
  logger.info({ configFile: resolve(configFile), hash: loaded.hash }, "switchyard started");
  return new Promise<number>((done) => {
    let isStopping = false;
    const stop = (signal: string): void => {
      if (isStopping) {
        // A second signal: stop waiting for in-flight requests.
        logger.warn({ signal }, "second signal: closing every connection now");
        void running.close();
        return;
      }
      isStopping = true;
      logger.info({ signal }, "draining");
      running.drain().then(
        () => {
          logger.flush();
          done(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, "error while stopping");
          done(1);
        },
      );
    };
    process.on("SIGTERM", () => {
      stop("SIGTERM");
    });
    process.on("SIGINT", () => {
      stop("SIGINT");
    });
  });
}

/** What `serve` prints when it refuses the loaded config; nothing when it can start. */
function refusalLines(loaded: LoadResult, choice: ConfigChoice): string[] {
  if (loaded.ok) return [];
  const unreadable = loaded.problems.find((problem) => problem.path === FILE_PATH);
  if (unreadable !== undefined) {
    return [`switchyard: ${unreadableMessage(choice, unreadable.message)}`];
  }
  const count = loaded.problems.length;
  return [
    ...loaded.problems.map(formatProblem),
    `switchyard: ${choice.file} is invalid (${count} ${count === 1 ? "problem" : "problems"} above); fix ${count === 1 ? "it" : "them"} and check with 'switchyard check ${choice.file}'.`,
  ];
}

/** One sentence: which file, what chose it, what went wrong, how to point elsewhere. */
function unreadableMessage(choice: ConfigChoice, problem: string): string {
  const chosenBy =
    choice.source === "default"
      ? "the default when neither --config nor $SWITCHYARD_CONFIG is set"
      : `from ${choice.source}`;
  const reason = problem.replace(/^cannot read the file: /, "");
  return `cannot read the config file ${choice.file} (${chosenBy}): ${reason}; pass --config FILE or set SWITCHYARD_CONFIG to use another file.`;
}

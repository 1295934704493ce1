/** `switchyard serve`: load the config, start the proxy, handle signals. */
import { resolve } from "node:path";
import { ListenError, startSwitchyard } from "../app.ts";
import { formatProblem, loadConfigFile } from "../config/load.ts";
import { createLogger } from "../log/logger.ts";
import type { CliOutput } from "./output.ts";

export const DEFAULT_CONFIG_FILE = "config/switchyard.yaml";

export function resolveConfigFile(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.SWITCHYARD_CONFIG ?? DEFAULT_CONFIG_FILE;
}

export async function runServe(configFile: string, out: CliOutput): Promise<number> {
  const loaded = await loadConfigFile(configFile);
  if (!loaded.ok) {
    for (const problem of loaded.problems) out.stderr(formatProblem(problem));
    out.stderr(
      `switchyard: ${configFile} is invalid (${loaded.problems.length} problem(s) above); fix them and check with 'switchyard check ${configFile}'.`,
    );
    return 1;
  }
  const logger = createLogger();
  let running;
  try {
    running = await startSwitchyard({ config: loaded.config, configHash: loaded.hash, logger });
  } catch (error) {
    if (error instanceof ListenError) {
      out.stderr(`switchyard: ${error.message}.`);
      return 1;
    }
    throw error;
  }
  logger.info({ configFile: resolve(configFile), hash: loaded.hash }, "switchyard started");
  return new Promise<number>((done) => {
    let isStopping = false;
    const stop = (signal: string): void => {
      if (isStopping) return;
      isStopping = true;
      logger.info({ signal }, "stopping");
      running.close().then(
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
    process.on("SIGHUP", () => {
      logger.warn("SIGHUP received; config reload is not available in this version");
    });
  });
}

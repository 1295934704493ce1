/** `switchyard check FILE`: validate a config file, like `nginx -t` (SPEC section 1). */
import { formatProblem, loadConfigFile, problemInText } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { configWarnings } from "../config/warnings.ts";
import type { CliOutput } from "./output.ts";

/**
 * 0 when the file is valid, 1 with every problem on stderr as `FILE:LINE:COL: PATH: MESSAGE`.
 * A valid file's warnings go to stderr as `FILE:LINE:COL: PATH: warning: MESSAGE`.
 */
export async function runCheck(
  file: string,
  out: CliOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const loaded = await loadConfigFile(file, env);
  if (!loaded.ok) {
    for (const problem of loaded.problems) out.stderr(formatProblem(problem));
    const count = loaded.problems.length;
    out.stderr(`${file}: invalid (${count} ${count === 1 ? "problem" : "problems"})`);
    return 1;
  }
  for (const warning of configWarnings(loaded.config)) {
    const message = `warning: ${warning.message}`;
    out.stderr(formatProblem(problemInText(loaded.text, file, warning.path, message)));
  }
  out.stdout(`${file}: ok (${summarize(loaded.config)})`);
  return 0;
}

function summarize(config: Config): string {
  const routes = config.routes.length;
  const upstreams = Object.values(config.upstreams);
  const endpoints = upstreams.reduce((sum, upstream) => sum + upstream.endpoints.length, 0);
  const rollouts = config.routes.filter((route) => route.rollout !== undefined).length;
  return [
    plural(routes, "route"),
    plural(upstreams.length, "upstream"),
    plural(endpoints, "endpoint"),
    plural(rollouts, "rollout"),
  ].join(", ");
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * `switchyard rollout ROUTE start|pause|resume|approve|promote|abort` drives a rollout through
 * the admin API (SPEC section 1) and prints the rollout's state after the action.
 */
import type { RolloutStatus } from "../control/control-api.ts";
import { ROLLOUT_ACTIONS } from "../rollout/rollout-types.ts";
import {
  callAdmin,
  EXIT_USAGE_ERROR,
  resolveAdminTarget,
  type AdminFlags,
} from "./admin-client.ts";
import type { CliOutput } from "./output.ts";
import { formatRollout } from "./status.ts";

export async function runRollout(
  route: string,
  action: string,
  flags: AdminFlags,
  out: CliOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (!(ROLLOUT_ACTIONS as readonly string[]).includes(action)) {
    out.stderr(
      `switchyard: "${action}" is not a rollout action (one of ${ROLLOUT_ACTIONS.join(", ")}); see 'switchyard rollout --help'`,
    );
    return EXIT_USAGE_ERROR;
  }
  const resolved = resolveAdminTarget(flags, env);
  if (!resolved.ok) {
    out.stderr(`switchyard: ${resolved.message}; see 'switchyard rollout --help'`);
    return EXIT_USAGE_ERROR;
  }
  const path = `/api/v1/routes/${encodeURIComponent(route)}/rollout/${action}`;
  const answer = await callAdmin(resolved.target, "POST", path);
  if (!answer.ok) {
    out.stderr(`switchyard: ${answer.message}`);
    return 1;
  }
  const rollout = (answer.body as { rollout?: RolloutStatus | null }).rollout;
  if (rollout === undefined) {
    out.stderr(
      `switchyard: the answer of ${resolved.target.baseUrl}${path} is not a rollout; is --admin right?`,
    );
    return 1;
  }
  out.stdout(`route ${route}: ${formatRollout(rollout)}`);
  return 0;
}

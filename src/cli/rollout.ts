/**
 * `switchyard rollout ROUTE start|pause|resume|approve|promote|abort` drives a rollout through
 * the admin API (SPEC section 1) and prints the rollout's state after the action.
 */
import type { RolloutStatus } from "../control/control-api.ts";
import { ROLLOUT_ACTIONS } from "../rollout/rollout-types.ts";
import { EXIT_USAGE_ERROR, resolveAdminTarget, type AdminFlags } from "./admin-client.ts";
import { runAdminCommand } from "./admin-command.ts";
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
  return runAdminCommand(
    resolved.target,
    { method: "POST", path },
    {
      isExpected: isRolloutAnswer,
      what: "a rollout",
      format: (answer) => [`route ${route}: ${formatRollout(answer.rollout)}`],
    },
    out,
  );
}

/** `{ rollout }`, null included (the route has none after the action). */
function isRolloutAnswer(body: unknown): body is { rollout: RolloutStatus | null } {
  return (
    typeof body === "object" &&
    body !== null &&
    (body as { rollout?: unknown }).rollout !== undefined
  );
}

/**
 * `switchyard endpoint UPSTREAM INDEX STATE` sets one endpoint's admin state through the admin
 * API (SPEC 12, as HAProxy's `set server state`): `drain` finishes what is in flight and takes
 * nothing new, `maintenance` takes nothing, `ready` takes traffic again.
 */
import {
  ENDPOINT_ADMIN_STATES,
  isEndpointAdminState,
  type EndpointView,
} from "../control/control-api.ts";
import { parseEndpointIndex } from "../admin/admin-inputs.ts";
import {
  EXIT_USAGE_ERROR,
  resolveAdminTarget,
  withWriteScope,
  type AdminFlags,
  type LocalWriteFlags,
} from "./admin-client.ts";
import { runAdminCommand } from "./admin-command.ts";
import type { CliOutput } from "./output.ts";

export interface EndpointFlags extends AdminFlags, LocalWriteFlags {
  /** Print the admin API's JSON answer as it is. */
  readonly json?: boolean;
}

/** What each state means for traffic, for the line after the change. */
const MEANINGS = {
  ready: "takes new requests when healthy and not ejected",
  drain: "takes no new requests; requests in flight finish; still health-checked",
  maintenance: "takes no requests and is not health-checked",
} as const;

export async function runEndpoint(
  upstream: string,
  indexText: string,
  stateText: string,
  flags: EndpointFlags,
  out: CliOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const usage = (message: string): number => {
    out.stderr(`switchyard: ${message}; see 'switchyard endpoint --help'`);
    return EXIT_USAGE_ERROR;
  };
  if (parseEndpointIndex(indexText) === undefined) {
    return usage(
      `"${indexText}" is not an endpoint index (0, 1, ... in the order of the upstream's endpoints; see switchyard status)`,
    );
  }
  if (!isEndpointAdminState(stateText)) {
    return usage(`"${stateText}" is not a state (one of ${ENDPOINT_ADMIN_STATES.join(", ")})`);
  }
  const resolved = resolveAdminTarget(flags, env);
  if (!resolved.ok) return usage(resolved.message);

  const path = withWriteScope(
    `/api/v1/upstreams/${encodeURIComponent(upstream)}/endpoints/${indexText}/state`,
    flags,
  );
  return runAdminCommand(
    resolved.target,
    { method: "PUT", path, body: { state: stateText } },
    {
      isExpected: isEndpointView,
      what: "an endpoint",
      format: formatEndpointChange,
      json: flags.json,
    },
    out,
  );
}

function isEndpointView(body: unknown): body is EndpointView {
  if (typeof body !== "object" || body === null) return false;
  const view = body as Partial<Record<keyof EndpointView, unknown>>;
  return (
    typeof view.upstream === "string" &&
    typeof view.index === "number" &&
    typeof view.url === "string" &&
    isEndpointAdminState(view.before) &&
    isEndpointAdminState(view.state)
  );
}

/** `stable endpoint 0 (http://...): ready -> drain`, then what the state means. */
export function formatEndpointChange(view: EndpointView): string[] {
  const which = `${view.upstream} endpoint ${view.index} (${view.url})`;
  const change =
    view.before === view.state ? `already ${view.state}` : `${view.before} -> ${view.state}`;
  const health = `${view.healthy ? "healthy" : "unhealthy"}${view.ejected ? ", ejected" : ""}`;
  return [`${which}: ${change}`, `${view.state}: ${MEANINGS[view.state]} (health: ${health})`];
}

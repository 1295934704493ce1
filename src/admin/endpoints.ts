/**
 * The admin API's endpoints (SPEC section 7). Handlers translate between HTTP and the
 * ControlApi; every change is logged with the caller's token name and the old and new values.
 */
import type { ControlApi, ReloadOutcome, WeightsChange } from "../control/control-api.ts";
import { CODE } from "../errors/error-codes.ts";
import type { Logger } from "../log/logger.ts";
import {
  parseEndpointIndex,
  parseEndpointStateBody,
  parseSince,
  parseWeightsBody,
  parseWriteScope,
} from "./admin-inputs.ts";
import {
  controlErrorAnswer,
  errorAnswer,
  invalidFieldsAnswer,
  jsonAnswer,
  type AdminAnswer,
} from "./answer.ts";
import type { AdminEndpoint, EndpointRequest } from "./router.ts";

/** The Prometheus registry as the admin server sees it. */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

export interface EndpointDeps {
  readonly control: ControlApi;
  readonly metrics: MetricsSource;
  readonly logger: Logger;
}

// eslint-disable-next-line max-lines-per-function -- the admin API's table of endpoints, one entry per route, read as one list
export function createAdminEndpoints(deps: EndpointDeps): AdminEndpoint[] {
  const { control, metrics, logger } = deps;
  return [
    {
      method: "GET",
      path: "/healthz",
      scope: "none",
      takesBody: false,
      handle: () => jsonAnswer(200, { status: "ok" }),
    },
    {
      method: "GET",
      path: "/readyz",
      scope: "none",
      takesBody: false,
      handle: () => readiness(control),
    },
    {
      method: "GET",
      path: "/metrics",
      scope: (admin) => (admin.publicMetrics ? "none" : "read"),
      takesBody: false,
      handle: async () => ({
        kind: "text",
        status: 200,
        contentType: metrics.contentType,
        text: await metrics.render(),
      }),
    },
    {
      method: "GET",
      path: "/api/v1/status",
      scope: "read",
      takesBody: false,
      handle: () => jsonAnswer(200, control.status()),
    },
    {
      method: "GET",
      path: "/api/v1/config",
      scope: "read",
      takesBody: false,
      handle: () => jsonAnswer(200, control.effectiveConfig()),
    },
    {
      method: "GET",
      path: "/api/v1/events",
      scope: "read",
      takesBody: false,
      handle: async ({ query }) => {
        const since = parseSince(query);
        if (!since.ok) return invalidFieldsAnswer(CODE.SWITCHYARD_INVALID_QUERY, since.fields);
        if (control.fleetEvents === undefined || query.get("local") === "true") {
          return jsonAnswer(200, { events: control.events(since.value) });
        }
        // Fleet mode: the fleet's log; this replica's own while Redis cannot be read.
        const fleetEvents = await control.fleetEvents(since.value);
        return fleetEvents === undefined
          ? jsonAnswer(200, { events: control.events(since.value), source: "local" })
          : jsonAnswer(200, { events: fleetEvents, source: "fleet" });
      },
    },
    {
      method: "PUT",
      path: "/api/v1/routes/{route}/weights",
      scope: "write",
      takesBody: true,
      handle: (request) => setWeights(deps, request),
    },
    {
      method: "DELETE",
      path: "/api/v1/routes/{route}/weights",
      scope: "write",
      takesBody: false,
      handle: async ({ params, actor, query }) => {
        const route = params.route ?? "";
        const scope = parseWriteScope(query);
        if (!scope.ok) return invalidFieldsAnswer(CODE.SWITCHYARD_INVALID_QUERY, scope.fields);
        const result = await control.clearWeights(route, actor, scope.value);
        if (!result.ok) return controlErrorAnswer(result.error);
        logChange(logger, "admin split override cleared", actor, result.value);
        return jsonAnswer(200, result.value);
      },
    },
    {
      method: "POST",
      path: "/api/v1/routes/{route}/rollout/{action}",
      scope: "write",
      takesBody: false,
      handle: async ({ params, actor }) => {
        const route = params.route ?? "";
        const action = params.action ?? "";
        const result = await control.rolloutAction(route, action, actor);
        if (!result.ok) return controlErrorAnswer(result.error);
        logger.info(
          { actor, route, action, rollout: result.value },
          "rollout action through the admin API",
        );
        return jsonAnswer(200, { route, rollout: result.value });
      },
    },
    {
      method: "PUT",
      path: "/api/v1/upstreams/{upstream}/endpoints/{index}/state",
      scope: "write",
      takesBody: true,
      handle: (request) => setEndpointState(deps, request),
    },
    {
      method: "POST",
      path: "/api/v1/reload",
      scope: "write",
      takesBody: false,
      handle: ({ actor }) => reload(deps, actor),
    },
  ];
}

function readiness(control: ControlApi): AdminAnswer {
  const isDraining = control.isDraining();
  const isReady = control.isReady() && !isDraining;
  return jsonAnswer(isReady ? 200 : 503, { ready: isReady, draining: isDraining });
}

async function setWeights(
  deps: EndpointDeps,
  { params, body, actor, query }: EndpointRequest,
): Promise<AdminAnswer> {
  const scope = parseWriteScope(query);
  if (!scope.ok) return invalidFieldsAnswer(CODE.SWITCHYARD_INVALID_QUERY, scope.fields);
  const weights = parseWeightsBody(body);
  if (!weights.ok) return invalidFieldsAnswer(CODE.SWITCHYARD_INVALID_BODY, weights.fields);
  const route = params.route ?? "";
  const result = await deps.control.setWeights(route, weights.value, actor, scope.value);
  if (!result.ok) return controlErrorAnswer(result.error);
  logChange(deps.logger, "split set through the admin API", actor, result.value);
  return jsonAnswer(200, result.value);
}

async function setEndpointState(
  deps: EndpointDeps,
  { params, body, actor, query }: EndpointRequest,
): Promise<AdminAnswer> {
  const scope = parseWriteScope(query);
  if (!scope.ok) return invalidFieldsAnswer(CODE.SWITCHYARD_INVALID_QUERY, scope.fields);
  const upstream = params.upstream ?? "";
  const indexText = params.index ?? "";
  const index = parseEndpointIndex(indexText);
  if (index === undefined) {
    return errorAnswer(CODE.SWITCHYARD_NOT_FOUND, {
      message: `no endpoint "${indexText}" in upstream "${upstream}": an endpoint is named by its index in the upstream's endpoints list (0, 1, ...)`,
    });
  }
  const state = parseEndpointStateBody(body);
  if (!state.ok) return invalidFieldsAnswer(CODE.SWITCHYARD_INVALID_BODY, state.fields);
  const result = await deps.control.setEndpointState(
    upstream,
    index,
    state.value,
    actor,
    scope.value,
  );
  if (!result.ok) return controlErrorAnswer(result.error);
  const { url, before, state: after } = result.value;
  deps.logger.info(
    { actor, upstream, index, url, before, after },
    "endpoint state set through the admin API",
  );
  return jsonAnswer(200, result.value);
}

function logChange(logger: Logger, msg: string, actor: string, change: WeightsChange): void {
  logger.info(
    {
      actor,
      route: change.route,
      before: change.before,
      after: change.after,
      splitSource: change.splitSource,
    },
    msg,
  );
}

async function reload(deps: EndpointDeps, actor: string): Promise<AdminAnswer> {
  const beforeHash = deps.control.status().config.hash;
  const outcome: ReloadOutcome = await deps.control.reload(actor);
  const fields = { actor, before: beforeHash, after: outcome.hash, changed: outcome.changed };
  if (outcome.applied) {
    deps.logger.info(
      fields,
      outcome.changed ? "config reloaded through the admin API" : "config reload: unchanged",
    );
    return jsonAnswer(200, outcome);
  }
  deps.logger.warn(
    { ...fields, after: beforeHash, error: outcome.error },
    "config reload through the admin API refused",
  );
  const error = outcome.error;
  return errorAnswer(CODE.SWITCHYARD_CONFIG_INVALID, {
    ...(error === null ? {} : { message: error.message }),
    extra: {
      line: error?.line ?? null,
      column: error?.column ?? null,
      problems: error?.problems ?? [],
      runningHash: beforeHash,
    },
  });
}

/**
 * The control contract: what every implementation of ControlApi must do alike, the real control
 * plane and the fake that admin and CLI tests use (in the style of hono's router tests, one
 * suite run against interchangeable implementations). A test file calls
 * `runControlContract(name, factory)` with a factory that builds the implementation in the
 * scenario below; every test gets a fresh one.
 *
 * The scenario: upstreams `stable` and `canary`; route `web` with the file's split
 * {stable: 95, canary: 5} and no rollout; route `api` with a rollout of `canary` over `stable`
 * through steps 5, 10, 25, 50, 100, at step 10% in the phase the test asks for. `stable` has
 * at least one endpoint and `canary` exactly one, all ready.
 */
import { describe, expect, it } from "vitest";
import type {
  ControlApi,
  ControlResult,
  EndpointStatus,
  RolloutStatus,
} from "../../../src/control/control-api.ts";
import type { LoggedEvent } from "../../../src/events/event-log.ts";

export type ScenarioPhase = "progressing" | "waitingApproval" | "paused";

export interface ControlUnderTest {
  readonly control: ControlApi;
  close(): Promise<void>;
}

export type ControlFactory = (apiPhase: ScenarioPhase) => Promise<ControlUnderTest>;

const ACTOR = "ops";
const WEB_FILE_SPLIT = { stable: 95, canary: 5 };

/**
 * Invalid weights bodies with the problem the refusal names for each field: one of each kind
 * (the sum, an upstream, a value); every rule of the parser has its unit test.
 */
const INVALID_WEIGHTS: [string, unknown, Record<string, string>][] = [
  ["a sum other than 100", { stable: 90, canary: 20 }, { weights: "must sum to 100, not 110" }],
  [
    "an unknown upstream",
    { stable: 90, blue: 10 },
    { "weights.blue": 'unknown upstream "blue" (known: stable, canary)' },
  ],
  ["a string", { stable: "90", canary: 10 }, { "weights.stable": "must be a number" }],
];

export function runControlContract(name: string, factory: ControlFactory): void {
  describe(`${name} keeps the control contract`, () => {
    async function withControl(
      apiPhase: ScenarioPhase,
      body: (control: ControlApi) => void | Promise<void>,
    ): Promise<void> {
      const built = await factory(apiPhase);
      try {
        await body(built.control);
      } finally {
        await built.close();
      }
    }

    it("shows the routes with their splits and sources, and the rollout", () =>
      withControl("progressing", (control) => {
        const { routes, upstreams } = control.status();
        expect(routeOf(control, "web")).toEqual({
          name: "web",
          split: WEB_FILE_SPLIT,
          splitSource: "file",
          rollout: null,
        });
        expect(routes.find((route) => route.name === "api")?.rollout).toMatchObject({
          phase: "progressing",
          target: "canary",
          baseline: "stable",
          stepIndex: 1,
          stepPercent: 10,
        });
        expect(upstreams.map((upstream) => upstream.name).sort()).toEqual(["canary", "stable"]);
      }));

    it("shows the config in force, with no keys waiting for a restart", () =>
      withControl("progressing", (control) => {
        const { config } = control.status();
        expect(config.lastError).toBeNull();
        expect(config.restartRequired).toEqual([]);
        expect(config.hash).toMatch(/^[0-9a-f]+$/);
      }));

    it("lists one worker, slot 1, never restarted (workers: 1)", () =>
      withControl("progressing", (control) => {
        const { workers } = control.status();
        expect(workers).toEqual([
          {
            id: 1,
            pid: expect.any(Number) as unknown,
            startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
            restarts: 0,
            state: "serving",
          },
        ]);
        expect(workers[0]?.pid).toBeGreaterThan(0);
      }));

    it("sets a split, answers before and after, and records the change as an event", () =>
      withControl("progressing", async (control) => {
        const since = lastEventId(control);
        const result = await control.setWeights("web", { stable: 80, canary: 20 }, ACTOR);
        expect(valueOf(result)).toEqual({
          route: "web",
          before: WEB_FILE_SPLIT,
          after: { stable: 80, canary: 20 },
          splitSource: "admin",
        });
        expect(routeOf(control, "web")).toMatchObject({
          split: { stable: 80, canary: 20 },
          splitSource: "admin",
        });
        expect(control.events(since)).toEqual([
          expect.objectContaining({
            type: "weights.changed",
            route: "web",
            actor: ACTOR,
            before: WEB_FILE_SPLIT,
            after: { stable: 80, canary: 20 },
            splitSource: "admin",
          }),
        ]);
      }));

    it("clears an override back to the file's split; clearing none changes nothing", () =>
      withControl("progressing", async (control) => {
        valueOf(await control.setWeights("web", { stable: 80, canary: 20 }, ACTOR));
        const since = lastEventId(control);
        expect(valueOf(await control.clearWeights("web", ACTOR))).toEqual({
          route: "web",
          before: { stable: 80, canary: 20 },
          after: WEB_FILE_SPLIT,
          splitSource: "file",
        });
        expect(routeOf(control, "web")).toMatchObject({
          split: WEB_FILE_SPLIT,
          splitSource: "file",
        });
        expect(control.events(since)).toEqual([
          expect.objectContaining({ type: "weights.changed", route: "web", splitSource: "file" }),
        ]);

        const afterClear = lastEventId(control);
        expect(valueOf(await control.clearWeights("web", ACTOR))).toEqual({
          route: "web",
          before: WEB_FILE_SPLIT,
          after: WEB_FILE_SPLIT,
          splitSource: "file",
        });
        expect(control.events(afterClear)).toEqual([]);
      }));

    it("answers 404 for an unknown route, to every call", () =>
      withControl("progressing", async (control) => {
        const since = lastEventId(control);
        const unknown = {
          status: 404,
          code: "SWITCHYARD_UNKNOWN_ROUTE",
          message: 'no route named "shop"',
        };
        expect(errorOf(await control.setWeights("shop", { stable: 100 }, ACTOR))).toEqual(unknown);
        expect(errorOf(await control.clearWeights("shop", ACTOR))).toEqual(unknown);
        expect(errorOf(await control.rolloutAction("shop", "pause", ACTOR))).toEqual(unknown);
        expect(control.events(since)).toEqual([]);
      }));

    it.each(INVALID_WEIGHTS)(
      "answers 400 naming each field's problem for %s, and changes nothing",
      (_case, weights, fields) =>
        withControl("progressing", async (control) => {
          const since = lastEventId(control);
          expect(errorOf(await control.setWeights("web", weights, ACTOR))).toEqual({
            status: 400,
            code: "SWITCHYARD_INVALID_WEIGHTS",
            message: `the weights are invalid: ${Object.values(fields).join("; ")}`,
            fields,
          });
          expect(routeOf(control, "web")).toMatchObject({
            split: WEB_FILE_SPLIT,
            splitSource: "file",
          });
          expect(control.events(since)).toEqual([]);
        }),
    );

    it.each(["progressing", "waitingApproval"] as const)(
      "refuses weight changes with 409 while the rollout is %s",
      (phase) =>
        withControl(phase, async (control) => {
          const since = lastEventId(control);
          const running = {
            status: 409,
            code: "SWITCHYARD_ROLLOUT_RUNNING",
            message:
              'a rollout is running on route "api"; pause it first (switchyard rollout api pause)',
          };
          expect(
            errorOf(await control.setWeights("api", { stable: 50, canary: 50 }, ACTOR)),
          ).toEqual(running);
          expect(errorOf(await control.clearWeights("api", ACTOR))).toEqual(running);
          expect(control.events(since)).toEqual([]);
        }),
    );

    it("takes weight changes while the rollout is paused", () =>
      withControl("paused", async (control) => {
        const result = await control.setWeights("api", { stable: 70, canary: 30 }, ACTOR);
        expect(valueOf(result)).toMatchObject({
          after: { stable: 70, canary: 30 },
          splitSource: "admin",
        });
      }));

    it.each([
      [
        "an action on a route without a rollout",
        "progressing",
        "web",
        "pause",
        409,
        "SWITCHYARD_NO_ROLLOUT",
        'route "web" has no rollout block in the config',
      ],
      [
        "an unknown action",
        "progressing",
        "api",
        "jump",
        404,
        "SWITCHYARD_UNKNOWN_ACTION",
        'unknown rollout action "jump" (one of start, pause, resume, approve, promote, abort)',
      ],
      [
        "resume while progressing",
        "progressing",
        "api",
        "resume",
        409,
        "SWITCHYARD_ROLLOUT_PHASE",
        'cannot resume the rollout on route "api" while it is progressing',
      ],
      [
        "approve while progressing",
        "progressing",
        "api",
        "approve",
        409,
        "SWITCHYARD_ROLLOUT_PHASE",
        'cannot approve the rollout on route "api" while it is progressing',
      ],
      [
        "pause while paused",
        "paused",
        "api",
        "pause",
        409,
        "SWITCHYARD_ROLLOUT_PHASE",
        'cannot pause the rollout on route "api" while it is paused',
      ],
    ] as const)("refuses %s", (_case, phase, route, action, status, code, message) =>
      withControl(phase, async (control) => {
        const since = lastEventId(control);
        expect(errorOf(await control.rolloutAction(route, action, ACTOR))).toEqual({
          status,
          code,
          message,
        });
        expect(control.events(since)).toEqual([]);
      }),
    );

    it("sets an endpoint's state by index, answers its view, shows it in status, and records it", () =>
      withControl("progressing", async (control) => {
        const endpoint = endpointOf(control, "stable", 0);
        expect(endpoint.state).toBe("ready");
        const since = lastEventId(control);
        expect(valueOf(await control.setEndpointState("stable", 0, "drain", ACTOR))).toEqual({
          upstream: "stable",
          index: 0,
          before: "ready",
          ...endpoint,
          state: "drain",
        });
        expect(endpointOf(control, "stable", 0)).toEqual({ ...endpoint, state: "drain" });
        const change = { upstream: "stable", index: 0, url: endpoint.url };
        expect(control.events(since)).toEqual([
          expect.objectContaining({
            type: "endpoint.stateChanged",
            ...change,
            before: "ready",
            after: "drain",
            actor: ACTOR,
            source: "admin",
          }),
        ]);

        valueOf(await control.setEndpointState("stable", 0, "maintenance", ACTOR));
        valueOf(await control.setEndpointState("stable", 0, "ready", ACTOR));
        expect(endpointOf(control, "stable", 0).state).toBe("ready");
        expect(
          control
            .events(since)
            .filter((event) => event.type === "endpoint.stateChanged")
            .map((event) => [event.before, event.after]),
        ).toEqual([
          ["ready", "drain"],
          ["drain", "maintenance"],
          ["maintenance", "ready"],
        ]);
      }));

    it("answers a state the endpoint already has without an event", () =>
      withControl("progressing", async (control) => {
        const since = lastEventId(control);
        expect(valueOf(await control.setEndpointState("canary", 0, "ready", ACTOR))).toMatchObject({
          upstream: "canary",
          index: 0,
          before: "ready",
          state: "ready",
        });
        expect(control.events(since)).toEqual([]);
      }));

    it.each([
      ["an unknown upstream", "blue", 0, "SWITCHYARD_UNKNOWN_UPSTREAM", 'no upstream named "blue"'],
      [
        "an index past the end",
        "canary",
        1,
        "SWITCHYARD_UNKNOWN_ENDPOINT",
        'upstream "canary" has no endpoint 1; its one endpoint is 0 (in the order of its endpoints list)',
      ],
    ])("answers 404 for %s, and changes nothing", (_case, upstream, index, code, message) =>
      withControl("progressing", async (control) => {
        const since = lastEventId(control);
        const before = control.status().upstreams;
        expect(errorOf(await control.setEndpointState(upstream, index, "drain", ACTOR))).toEqual({
          status: 404,
          code,
          message,
        });
        expect(control.status().upstreams).toEqual(before);
        expect(control.events(since)).toEqual([]);
      }),
    );

    it("pauses a progressing rollout and resumes it, each an event", () =>
      withControl("progressing", async (control) => {
        const since = lastEventId(control);
        expect(valueOf(await control.rolloutAction("api", "pause", ACTOR))).toMatchObject({
          phase: "paused",
          stepIndex: 1,
        });
        expect(rolloutOf(control, "api")?.phase).toBe("paused");
        expect(valueOf(await control.rolloutAction("api", "resume", ACTOR))).toMatchObject({
          phase: "progressing",
          stepIndex: 1,
        });
        expect(actionEvents(control, since)).toEqual([
          { route: "api", actor: ACTOR, phase: "paused" },
          { route: "api", actor: ACTOR, phase: "progressing" },
        ]);
      }));

    it("approves the next step, moving the split with it", () =>
      withControl("waitingApproval", async (control) => {
        const since = lastEventId(control);
        expect(valueOf(await control.rolloutAction("api", "approve", ACTOR))).toMatchObject({
          phase: "progressing",
          stepIndex: 2,
          stepPercent: 25,
        });
        expect(routeOf(control, "api")).toMatchObject({
          split: { stable: 75, canary: 25 },
          splitSource: "rollout",
        });
        expect(control.events(since).map((event) => event.type)).toEqual([
          "weights.changed",
          "rollout.action",
        ]);
        expect(actionEvents(control, since)).toEqual([
          { route: "api", actor: ACTOR, phase: "progressing" },
        ]);
      }));

    it("aborts to 0%, starts again at the first step, and promotes to 100%", () =>
      withControl("progressing", async (control) => {
        const since = lastEventId(control);
        expect(valueOf(await control.rolloutAction("api", "abort", ACTOR))).toMatchObject({
          phase: "rolledBack",
          stepPercent: 0,
        });
        expect(routeOf(control, "api")).toMatchObject({
          split: { stable: 100, canary: 0 },
          splitSource: "rollout",
        });
        expect(errorOf(await control.rolloutAction("api", "abort", ACTOR))).toMatchObject({
          status: 409,
          code: "SWITCHYARD_ROLLOUT_PHASE",
        });

        expect(valueOf(await control.rolloutAction("api", "start", ACTOR))).toMatchObject({
          phase: "progressing",
          stepIndex: 0,
          stepPercent: 5,
          failures: 0,
        });
        expect(routeOf(control, "api").split).toEqual({ stable: 95, canary: 5 });

        expect(valueOf(await control.rolloutAction("api", "promote", ACTOR))).toMatchObject({
          phase: "promoted",
          stepPercent: 100,
        });
        expect(routeOf(control, "api")).toMatchObject({
          split: { stable: 0, canary: 100 },
          splitSource: "rollout",
        });
        expect(actionEvents(control, since).map((event) => event.phase)).toEqual([
          "rolledBack",
          "progressing",
          "promoted",
        ]);
        const splits = control
          .events(since)
          .filter((event) => event.type === "weights.changed")
          .map((event) => [event.actor, event.splitSource, event.after]);
        expect(splits).toEqual([
          [ACTOR, "rollout", { stable: 100, canary: 0 }],
          [ACTOR, "rollout", { stable: 95, canary: 5 }],
          [ACTOR, "rollout", { stable: 0, canary: 100 }],
        ]);
      }));
  });
}

function valueOf<T>(result: ControlResult<T>): T {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.error)}`);
  return result.value;
}

function errorOf(result: ControlResult<unknown>): unknown {
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.value)}`);
  return result.error;
}

function routeOf(control: ControlApi, name: string) {
  const found = control.status().routes.find((route) => route.name === name);
  if (found === undefined) throw new Error(`no route ${name} in status`);
  return found;
}

function endpointOf(control: ControlApi, upstream: string, index: number): EndpointStatus {
  const found = control.status().upstreams.find((candidate) => candidate.name === upstream);
  const endpoint = found?.endpoints[index];
  if (endpoint === undefined)
    throw new Error(`no endpoint ${upstream}[${String(index)}] in status`);
  return endpoint;
}

function rolloutOf(control: ControlApi, name: string): RolloutStatus | null {
  return routeOf(control, name).rollout;
}

function lastEventId(control: ControlApi): number {
  return control.events(undefined).at(-1)?.id ?? 0;
}

/** The rollout actions recorded since `sinceId`: who moved which route into which phase. */
function actionEvents(control: ControlApi, sinceId: number): Pick<LoggedEvent, string>[] {
  return control
    .events(sinceId)
    .filter((event) => event.type === "rollout.action")
    .map(({ route, actor, phase }) => ({ route, actor, phase }));
}

/**
 * Cross-field rules of the config file (SPEC section 2) that one field's schema cannot see:
 * route names are unique, a split names known upstreams and sums to 100, rules send to known
 * upstreams, a rollout moves traffic between two upstreams of its route's split.
 *
 * They read the config defensively (as `unknown`) so they can run on a document that also has
 * field errors: an operator sees every problem in one pass, not one layer at a time.
 */
import { suggestClosest } from "./suggest.ts";
import { FULL_SPLIT_BP, percentToBp } from "./units.ts";

export type ConfigPath = readonly (string | number)[];

export interface ReferenceIssue {
  readonly path: ConfigPath;
  readonly message: string;
  /** The problem is the key itself (an upstream named in a split), not its value. */
  readonly isAtKey?: boolean;
}

/** Reads one split weight as basis points, or undefined when the field check rejects it. */
export type WeightReader = (value: unknown) => number | undefined;

/** For the file as written: weights are percentages with at most two decimals. */
export const readPercentWeight: WeightReader = (value) =>
  typeof value === "number" && value >= 0 && value <= 100 ? percentToBp(value) : undefined;

/** For a parsed config: weights are already integer basis points. */
export const readBasisPointWeight: WeightReader = (value) =>
  typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= FULL_SPLIT_BP
    ? value
    : undefined;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function findReferenceIssues(config: unknown, readWeight: WeightReader): ReferenceIssue[] {
  const root = asRecord(config);
  if (root === undefined) return [];
  const upstreams = asRecord(root["upstreams"]);
  // Without a valid upstreams block every name would look unknown: its own error says enough.
  const upstreamNames = upstreams === undefined ? undefined : new Set(Object.keys(upstreams));
  const routes = Array.isArray(root["routes"]) ? (root["routes"] as unknown[]) : [];
  const issues: ReferenceIssue[] = [];
  const routeNames = new Set<string>();
  routes.forEach((value, index) => {
    const route = asRecord(value);
    if (route === undefined) return;
    const name = route["name"];
    if (typeof name === "string") {
      if (routeNames.has(name)) {
        issues.push({
          path: ["routes", index, "name"],
          message: `route "${name}" is defined twice`,
        });
      }
      routeNames.add(name);
    }
    issues.push(...findRouteIssues(route, index, upstreamNames, readWeight));
  });
  return issues;
}

function findRouteIssues(
  route: Record<string, unknown>,
  index: number,
  upstreamNames: ReadonlySet<string> | undefined,
  readWeight: WeightReader,
): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  const split = asRecord(route["split"]);
  if (split !== undefined) {
    let sumBp = 0;
    let isSumKnown = true;
    for (const [upstreamName, weight] of Object.entries(split)) {
      const weightBp = readWeight(weight);
      if (weightBp === undefined) isSumKnown = false;
      else sumBp += weightBp;
      if (upstreamNames !== undefined && !upstreamNames.has(upstreamName)) {
        issues.push({
          path: ["routes", index, "split", upstreamName],
          message: unknownUpstreamMessage(upstreamName, upstreamNames),
          isAtKey: true,
        });
      }
    }
    // A weight that is itself wrong is reported on its own; a sum built on it would mislead.
    if (isSumKnown && Object.keys(split).length > 0 && sumBp !== FULL_SPLIT_BP) {
      issues.push({
        path: ["routes", index, "split"],
        message: `weights sum to ${sumBp / 100}, not 100`,
      });
    }
  }
  const rules = Array.isArray(route["rules"]) ? (route["rules"] as unknown[]) : [];
  rules.forEach((value, ruleIndex) => {
    const to = asRecord(value)?.["to"];
    if (typeof to === "string" && upstreamNames !== undefined && !upstreamNames.has(to)) {
      issues.push({
        path: ["routes", index, "rules", ruleIndex, "to"],
        message: unknownUpstreamMessage(to, upstreamNames),
      });
    }
  });
  const rollout = asRecord(route["rollout"]);
  if (rollout !== undefined) issues.push(...findRolloutIssues(rollout, split, index));
  return issues;
}

function findRolloutIssues(
  rollout: Record<string, unknown>,
  split: Record<string, unknown> | undefined,
  index: number,
): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  for (const key of ["target", "baseline"] as const) {
    const upstreamName = rollout[key];
    if (typeof upstreamName === "string" && split !== undefined && !(upstreamName in split)) {
      issues.push({
        path: ["routes", index, "rollout", key],
        message: `"${upstreamName}" is not in this route's split`,
      });
    }
  }
  if (typeof rollout["target"] === "string" && rollout["target"] === rollout["baseline"]) {
    issues.push({
      path: ["routes", index, "rollout", "baseline"],
      message: "target and baseline must differ",
    });
  }
  if (split !== undefined && Object.keys(split).length !== 2) {
    issues.push({
      path: ["routes", index, "split"],
      message: "a rollout needs a split of exactly its target and baseline",
    });
  }
  return issues;
}

function unknownUpstreamMessage(name: string, known: ReadonlySet<string>): string {
  const closest = suggestClosest(name, known);
  if (closest !== undefined) return `unknown upstream "${name}"; did you mean "${closest}"?`;
  return `unknown upstream "${name}" (defined: ${[...known].join(", ")})`;
}

/**
 * `switchyard weights ROUTE UPSTREAM=PCT ...` sets a route's split through the admin API, and
 * `switchyard weights ROUTE --clear` drops the admin override (SPEC section 1).
 */
import type { WeightsChange } from "../control/control-api.ts";
import {
  EXIT_USAGE_ERROR,
  resolveAdminTarget,
  withWriteScope,
  type AdminFlags,
  type LocalWriteFlags,
} from "./admin-client.ts";
import { runAdminCommand, type AdminRequest } from "./admin-command.ts";
import type { CliOutput } from "./output.ts";
import { formatTable } from "./status.ts";

export interface WeightsFlags extends AdminFlags, LocalWriteFlags {
  readonly clear?: boolean;
}

export type PairsResult =
  | { readonly ok: true; readonly weights: Record<string, number> }
  | { readonly ok: false; readonly message: string };

const PAIR_EXAMPLE = "e.g. stable=90 canary=10";

/** `stable=90 canary=10` (a trailing % is allowed) -> { stable: 90, canary: 10 }. */
export function parseWeightPairs(pairs: readonly string[]): PairsResult {
  const weights: Record<string, number> = {};
  for (const pair of pairs) {
    const found = /^([^=\s]+)=(\d{1,3}(?:\.\d{1,2})?)%?$/.exec(pair);
    const upstream = found?.[1];
    const percent = Number(found?.[2]);
    if (upstream === undefined || !(percent <= 100)) {
      const why = upstream === undefined ? "is not UPSTREAM=PCT" : "is over 100%";
      return {
        ok: false,
        message: `"${pair}" ${why} (PCT is 0..100 with at most two decimals, ${PAIR_EXAMPLE})`,
      };
    }
    if (Object.hasOwn(weights, upstream)) {
      return { ok: false, message: `upstream "${upstream}" is given twice` };
    }
    weights[upstream] = percent;
  }
  return { ok: true, weights };
}

export async function runWeights(
  route: string,
  pairs: readonly string[],
  flags: WeightsFlags,
  out: CliOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const usage = (message: string): number => {
    out.stderr(`switchyard: ${message}; see 'switchyard weights --help'`);
    return EXIT_USAGE_ERROR;
  };
  const isClear = flags.clear === true;
  if (isClear && pairs.length > 0) return usage("--clear takes no UPSTREAM=PCT pairs");
  if (!isClear && pairs.length === 0) {
    return usage(`give the split as UPSTREAM=PCT pairs (${PAIR_EXAMPLE}), or --clear`);
  }
  const parsed = parseWeightPairs(pairs);
  if (!parsed.ok) return usage(parsed.message);
  const resolved = resolveAdminTarget(flags, env);
  if (!resolved.ok) return usage(resolved.message);

  const path = withWriteScope(`/api/v1/routes/${encodeURIComponent(route)}/weights`, flags);
  const request: AdminRequest = isClear
    ? { method: "DELETE", path }
    : { method: "PUT", path, body: { weights: parsed.weights } };
  return runAdminCommand(
    resolved.target,
    request,
    {
      isExpected: isWeightsChange,
      what: "a split change",
      format: (change) => formatWeightsChange(change, isClear),
    },
    out,
  );
}

function isWeightsChange(body: unknown): body is WeightsChange {
  if (typeof body !== "object" || body === null) return false;
  const change = body as Partial<Record<keyof WeightsChange, unknown>>;
  return (
    typeof change.route === "string" &&
    typeof change.before === "object" &&
    change.before !== null &&
    typeof change.after === "object" &&
    change.after !== null
  );
}

/** The headline, then one line per upstream: before -> after. */
export function formatWeightsChange(change: WeightsChange, isClear: boolean): string[] {
  const before = change.before;
  const after = change.after;
  const upstreams = [...new Set([...Object.keys(after), ...Object.keys(before)])];
  const percent = (value: number | undefined): string => (value === undefined ? "-" : `${value}%`);
  const headline = isClear
    ? `${change.route}: admin override cleared; the split now comes from ${change.splitSource}`
    : `${change.route}: split set (source: ${change.splitSource})`;
  return [
    headline,
    ...formatTable(
      ["UPSTREAM", "BEFORE", "", "AFTER"],
      upstreams.map((upstream) => [
        upstream,
        percent(before[upstream]),
        "->",
        percent(after[upstream]),
      ]),
    ),
  ];
}

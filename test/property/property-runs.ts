/**
 * fast-check parameters for every property: a bounded number of runs with a fresh seed each
 * time (so the suite keeps exploring), and replay of a reported failure from the environment:
 *
 *   SWITCHYARD_PROPERTY_SEED=<seed> SWITCHYARD_PROPERTY_PATH=<path> npx vitest run <file> -t <name>
 *
 * `SWITCHYARD_PROPERTY_RUNS=<factor>` multiplies every run count, for a longer hunt by hand.
 */
import type { Parameters } from "fast-check";

export function propertyRuns<Ts>(numRuns: number): Parameters<Ts> {
  const factor = readNumber("SWITCHYARD_PROPERTY_RUNS") ?? 1;
  const seed = readNumber("SWITCHYARD_PROPERTY_SEED");
  const path = process.env.SWITCHYARD_PROPERTY_PATH;
  return {
    numRuns: Math.max(1, Math.round(numRuns * factor)),
    ...(seed === undefined ? {} : { seed }),
    ...(seed === undefined || path === undefined || path === "" ? {} : { path }),
  };
}

function readNumber(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === "") return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`${name}=${text} is not a number`);
  return value;
}

/** The shape of bench/results/smuggling.json (documented in bench/README.md). */
import type { MachineDescription } from "../machine.ts";
import type { CaseResult, Verdict } from "./classify.ts";
import type { CaseClass } from "./corpus.ts";

export const SMUGGLING_SCHEMA_VERSION = 1;

export type Totals = Record<Verdict, number>;

export interface SmugglingResults {
  schemaVersion: number;
  kind: "smuggling";
  machine: MachineDescription;
  settings: {
    /** The flags as given after `npm run bench:smuggling --`. */
    args: string[];
    timeoutMs: number;
    quietMs: number;
    targets: string[];
    cases: number;
  };
  classes: Partial<Record<CaseClass, string>>;
  targets: { name: string; version: string | null; totals: Totals }[];
  skipped: { name: string; reason: string }[];
  byClass: { class: CaseClass; cases: number; targets: Record<string, Totals> }[];
  cases: {
    name: string;
    class: CaseClass;
    about: string;
    /** The bytes sent, escaped (`\r`, `\n`, `\t`, `\\`, `\xNN`). */
    bytes: string;
    length: number;
    results: Record<string, CaseResult>;
  }[];
}

/**
 * Reads and checks the state file. Every failure is a value with one sentence for the log:
 * the caller decides what to do (switchyard logs it and starts with empty state, and the
 * store sets the bad file aside before it ever writes over it).
 */
import { readFile } from "node:fs/promises";
import { STATE_FORMAT_VERSION, emptyState, persistedStateSchema } from "./state-schema.ts";
import type { PersistedState } from "./state-schema.ts";

export type StateLoadFailure = "unreadable" | "corrupt" | "unsupportedVersion";

export type StateLoadResult =
  | {
      readonly ok: true;
      readonly state: PersistedState;
      /** No file yet: a first start, or state was never saved. */
      readonly isNew: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: StateLoadFailure;
      /** One sentence naming the file and what is wrong with it. */
      readonly message: string;
      /** Empty state, for a caller that carries on without the file. */
      readonly state: PersistedState;
    };

export async function readStateFile(file: string): Promise<StateLoadResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ok: true, state: emptyState(), isNew: true };
    return failure("unreadable", `cannot read the state file ${file}: ${describe(error)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return failure("corrupt", `the state file ${file} is not valid JSON (${describe(error)})`);
  }
  if (!isRecord(data) || !("version" in data)) {
    return failure("corrupt", `the state file ${file} has no format version`);
  }
  if (data.version !== STATE_FORMAT_VERSION) {
    return failure(
      "unsupportedVersion",
      `the state file ${file} has format version ${JSON.stringify(data.version)}, ` +
        `but this switchyard reads version ${String(STATE_FORMAT_VERSION)}`,
    );
  }
  const parsed = persistedStateSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`);
    return failure("corrupt", `the state file ${file} is malformed: ${problems.join("; ")}`);
  }
  return { ok: true, state: parsed.data, isNew: false };
}

function failure(reason: StateLoadFailure, message: string): StateLoadResult {
  return { ok: false, reason, message, state: emptyState() };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return error instanceof Error ? error.message : String(error);
}

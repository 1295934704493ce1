/**
 * The end of every client command: one admin call, then its failure, its JSON (`--json`) or
 * its lines on the output, and the exit code. A 2xx answer of the wrong shape (e.g. `--admin`
 * pointing at another service) is said as such rather than printed half-formatted.
 */
import { callAdmin, type AdminTarget } from "./admin-client.ts";
import type { CliOutput } from "./output.ts";

export interface AdminRequest {
  readonly method: "GET" | "PUT" | "POST" | "DELETE";
  readonly path: string;
  readonly body?: unknown;
}

export interface AnswerShape<T> {
  readonly isExpected: (body: unknown) => body is T;
  /** What the answer should be, for the message when it is not: "a switchyard status". */
  readonly what: string;
  readonly format: (body: T) => readonly string[];
  /** Print the answer's JSON as it is. */
  readonly json?: boolean | undefined;
}

export async function runAdminCommand<T>(
  target: AdminTarget,
  request: AdminRequest,
  shape: AnswerShape<T>,
  out: CliOutput,
): Promise<number> {
  const { method, path, body } = request;
  const answer = await callAdmin(target, method, path, body);
  if (!answer.ok) {
    out.stderr(`switchyard: ${answer.message}`);
    return 1;
  }
  if (shape.json === true) {
    out.stdout(JSON.stringify(answer.body, null, 2));
    return 0;
  }
  if (!shape.isExpected(answer.body)) {
    out.stderr(
      `switchyard: the answer of ${target.baseUrl}${path} is not ${shape.what}; is --admin right?`,
    );
    return 1;
  }
  for (const line of shape.format(answer.body)) out.stdout(line);
  return 0;
}

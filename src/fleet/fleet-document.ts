/**
 * The fleet's shared state document (SPEC 10): admin weight overrides, rollout records and
 * endpoint states, the same things the state file keeps (its schemas are reused, so the file
 * can be a local copy of the last fleet state). Pure encoding and validation: a corrupt
 * document in Redis is a value to report, never an exception.
 *
 * The version is not part of what a writer sends: the write script splices the version it
 * assigned in front of the body (`{"version":N,` + body without its `{`), so the stored
 * document always carries the version it was written at.
 */
import { z } from "zod";
import { endpointStateSchema, overrideSchema } from "../state/state-schema.ts";

const name = z.string().min(1);

export const fleetDocumentBodySchema = z.object({
  /** By route: the override in force, as the state file keeps it (percentages). */
  overrides: z.record(name, overrideSchema),
  /** By route: the rollout controller's record, stored as given. */
  rollouts: z.record(name, z.record(z.string(), z.unknown())),
  /** By upstream, then endpoint URL: the operators' drain and maintenance states. */
  endpointStates: z.record(name, z.record(name, endpointStateSchema)),
});

export const fleetDocumentSchema = fleetDocumentBodySchema.extend({
  /** The state version this document was written at (the `stateVersion` key's value). */
  version: z.number().int().min(1),
});

export type FleetDocumentBody = z.infer<typeof fleetDocumentBodySchema>;
export type FleetDocument = z.infer<typeof fleetDocumentSchema>;
export type FleetOverride = FleetDocumentBody["overrides"][string];
export type FleetRolloutRecord = FleetDocumentBody["rollouts"][string];
export type FleetEndpointState = FleetDocumentBody["endpointStates"][string][string];

export type DecodedDocument =
  | { readonly ok: true; readonly document: FleetDocument }
  | { readonly ok: false; readonly reason: string };

export function emptyDocumentBody(): FleetDocumentBody {
  return { overrides: {}, rollouts: {}, endpointStates: {} };
}

/** The body of `document` (its version dropped), as JSON: what the write script receives. */
export function encodeDocumentBody(document: FleetDocumentBody): string {
  const body: FleetDocumentBody = {
    overrides: document.overrides,
    rollouts: document.rollouts,
    endpointStates: document.endpointStates,
  };
  return JSON.stringify(body);
}

/** A stored document, validated; the reason names the first problem found. */
export function decodeDocument(text: string): DecodedDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${error instanceof Error ? error.message : "?"}` };
  }
  const parsed = fleetDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? "" : issue.path.map(String).join(".");
    return { ok: false, reason: `invalid document at ${where || "top"}: ${issue?.message ?? ""}` };
  }
  return { ok: true, document: parsed.data };
}

/** The body of a document: what a mutation starts from and returns. */
export function bodyOf(document: FleetDocumentBody): FleetDocumentBody {
  return {
    overrides: document.overrides,
    rollouts: document.rollouts,
    endpointStates: document.endpointStates,
  };
}

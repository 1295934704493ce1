/**
 * An operator's say over one endpoint, as HAProxy's `set server state` (SPEC 12): `ready` takes
 * requests as far as its health and ejection allow, `drain` takes no new requests but finishes
 * those in flight and keeps being health-checked, `maintenance` takes nothing and is not
 * health-checked.
 */
export const ENDPOINT_ADMIN_STATES = ["ready", "drain", "maintenance"] as const;

export type EndpointAdminState = (typeof ENDPOINT_ADMIN_STATES)[number];

export function isEndpointAdminState(value: unknown): value is EndpointAdminState {
  return (ENDPOINT_ADMIN_STATES as readonly unknown[]).includes(value);
}

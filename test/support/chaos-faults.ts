/**
 * Faults applied to a backend of a chaos run, each waiting for observable events (never for a
 * fixed time): it is killed while it holds requests and restarted on its port, or frozen until
 * the proxy has ejected it and then thawed. Each returns the tags the proxy had sent to the
 * faulty process: the only requests allowed to fail.
 */
import type { BackendProcess } from "./backend-process.ts";
import { isEndpointEjected } from "./chaos-rig.ts";
import type { ChaosRun } from "./chaos-run.ts";
import { isPostTag, isSlowBodyTag } from "./chaos-traffic.ts";
import { waitFor } from "./ports.ts";

/** Requests a backend must have served before a fault, and after it comes back. */
const REQUESTS_AROUND_FAULT = 30;
const DEADLINE_MS = 15_000;

export interface FaultOutcome {
  /** Tags of every request the proxy wrote to the faulty process. */
  sentToFaulty: Set<string>;
  /** `switchyard_retries_total` just before the fault. */
  retriesBefore: number;
}

/**
 * SIGKILLs backend `name` while it holds a POST and a body paused halfway (both die in
 * flight), waits for the proxy to retry elsewhere, restarts it on the same port and waits for
 * it to serve again.
 */
export async function killAndRestart(run: ChaosRun, name: string): Promise<FaultOutcome> {
  const victim = run.backend(name);
  const retriesBefore = await run.retries();
  await waitFor(
    () =>
      victim.requestCount >= REQUESTS_AROUND_FAULT &&
      isHolding(run, victim, isPostTag) &&
      isHolding(run, victim, isSlowBodyTag),
    { timeoutMs: DEADLINE_MS, description: `${name} holding a POST and a paused body` },
  );
  await victim.kill();
  await waitFor(async () => (await run.retries()) > retriesBefore, {
    timeoutMs: DEADLINE_MS,
    description: `retries after ${name} was killed`,
  });
  // Taken before the restart: later sends to the port go to the new process.
  const sentToFaulty = run.sends.tagsSentTo(victim.port);
  const restarted = await run.rig.restart(name);
  await waitFor(() => restarted.requestCount >= REQUESTS_AROUND_FAULT, {
    timeoutMs: DEADLINE_MS,
    description: `${name} serving again after its restart`,
  });
  return { sentToFaulty, retriesBefore };
}

/**
 * SIGSTOPs backend `name` while it holds a body paused halfway, waits until the proxy's
 * timeouts have had it ejected (so the freeze outlasted the response timeout), then SIGCONTs
 * it and waits for it to serve again.
 */
export async function freezeUntilEjected(run: ChaosRun, name: string): Promise<FaultOutcome> {
  const victim = run.backend(name);
  const retriesBefore = await run.retries();
  await waitFor(
    () => victim.requestCount >= REQUESTS_AROUND_FAULT && isHolding(run, victim, isSlowBodyTag),
    { timeoutMs: DEADLINE_MS, description: `${name} holding a paused body` },
  );
  victim.freeze();
  try {
    await waitFor(() => isEndpointEjected(run.rig.proxy.adminUrl, victim.url), {
      timeoutMs: DEADLINE_MS,
      intervalMs: 50,
      description: `${name} ejected while frozen`,
    });
  } finally {
    // Whatever the proxy sent it so far met the freeze; from now on it answers again.
    victim.thaw();
  }
  const sentToFaulty = run.sends.tagsSentTo(victim.port);
  const servedBeforeThaw = victim.requestCount;
  await waitFor(() => victim.requestCount >= servedBeforeThaw + REQUESTS_AROUND_FAULT, {
    timeoutMs: DEADLINE_MS,
    description: `${name} serving again after the thaw`,
  });
  return { sentToFaulty, retriesBefore };
}

/** Whether `backend` has received a request of this kind that has not ended yet. */
function isHolding(run: ChaosRun, backend: BackendProcess, isKind: (tag: string) => boolean) {
  return backend.receivedTags.some((tag) => isKind(tag) && run.ledger.isInFlight(tag));
}

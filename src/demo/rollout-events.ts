/**
 * Where the rollout story hears of rollout events. A lone switchyard tells its own event log's
 * listeners at once. A fleet replica only logs locally what it wrote itself, so the story reads
 * the fleet's shared log instead (through one replica, polled), whose events say which
 * replica wrote them.
 */
import type { RunningSwitchyard } from "../app.ts";
import type { LoggedEvent } from "../events/event-log.ts";

/** Often enough that a decision is printed as it happens; a demo's load on Redis. */
const FLEET_POLL_MS = 250;

/**
 * Calls `listener` with every event logged from now on; resolves the unsubscribe once
 * following (so an event written after it resolves is not missed).
 */
export async function followEvents(
  proxy: RunningSwitchyard,
  listener: (event: LoggedEvent) => void,
): Promise<() => void> {
  if (proxy.control.status().fleet === null) return proxy.events.onEvent(listener);
  return followFleetEvents(proxy, listener);
}

async function followFleetEvents(
  proxy: RunningSwitchyard,
  listener: (event: LoggedEvent) => void,
): Promise<() => void> {
  // What is already in the shared log is history: the story starts after it.
  let lastId = (await proxy.control.fleetEvents(undefined))?.at(-1)?.id ?? 0;
  let isStopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async (): Promise<void> => {
    // Undefined while Redis cannot be read: the next poll asks again.
    const events = (await proxy.control.fleetEvents(lastId)) ?? [];
    for (const event of events) {
      if (isStopped) return;
      lastId = Math.max(lastId, event.id);
      listener(event);
    }
  };
  const schedule = (): void => {
    timer = setTimeout(() => {
      poll()
        .catch(() => undefined)
        .finally(() => {
          if (!isStopped) schedule();
        });
    }, FLEET_POLL_MS);
  };
  schedule();
  return () => {
    isStopped = true;
    clearTimeout(timer);
  };
}

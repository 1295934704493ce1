/**
 * A chaos rig under steady load: the ledger of how every request ended, the proxy's own
 * account of where it sent each one, and the report a scenario prints and checks.
 */
import { REQUEST_TAG_HEADER, type BackendProcess } from "./backend-process.ts";
import { ChaosLedger } from "./chaos-ledger.ts";
import {
  connectionsAfterSettling,
  counterTotal,
  startChaosRig,
  type ChaosRig,
  type ChaosStage,
} from "./chaos-rig.ts";
import type { ChaosTrafficOptions } from "./chaos-traffic.ts";
import { startSteadyLoad, type SteadyLoad } from "./steady-load.ts";
import { watchUpstreamSends, type UpstreamSends } from "./upstream-sends.ts";

/** Clients, each on its own keep-alive connection: more than one endpoint's pool holds. */
const CLIENTS = 8;
/** A bound on the load, whatever happens: a scenario stops it well before. */
const MAX_REQUESTS = 20_000;

/** What a scenario saw, reported with its result. */
export interface ChaosReport {
  requests: number;
  retries: number;
  cutMidResponse: number;
  failedPosts: number;
  /** Connections each backend held once the load had stopped and they had settled. */
  connectionsAfter: Record<string, number>;
}

/** A chaos rig under steady load, with the ledger of every request and the proxy's sends. */
export interface ChaosRun {
  readonly rig: ChaosRig;
  readonly ledger: ChaosLedger;
  readonly load: SteadyLoad;
  readonly sends: UpstreamSends;
  /** The running backend `name`. */
  backend(name: string): BackendProcess;
  /** `switchyard_retries_total`, every route and upstream summed. */
  retries(): Promise<number>;
  /** Stops the load, waits for the backends' connections to settle and reports. */
  finish(): Promise<ChaosReport>;
  close(): Promise<void>;
}

export async function startChaosRun(
  stage: ChaosStage,
  traffic: ChaosTrafficOptions,
): Promise<ChaosRun> {
  const rig = await startChaosRig(stage);
  const sends = watchUpstreamSends(REQUEST_TAG_HEADER);
  const ledger = new ChaosLedger();
  const load = startSteadyLoad(`${rig.proxy.url}/`, {
    concurrency: CLIENTS,
    maxRequests: MAX_REQUESTS,
    ...ledger.loadOptions(traffic),
  });
  const retries = (): Promise<number> =>
    counterTotal(rig.proxy.adminUrl, "switchyard_retries_total");
  return {
    rig,
    ledger,
    load,
    sends,
    backend(name) {
      const backend = rig.backends.get(name);
      if (backend === undefined) throw new Error(`no backend ${name}`);
      return backend;
    },
    retries,
    async finish() {
      const tally = await load.stop();
      // A stats answer comes after every line written before it: each receipt is in.
      await Promise.all([...rig.backends.values()].map((backend) => backend.stats()));
      const connectionsAfter = await connectionsAfterSettling(rig.backends);
      return {
        requests: tally.total,
        retries: await retries(),
        cutMidResponse: ledger.cutMidResponse.length,
        failedPosts: ledger.failedPosts.length,
        connectionsAfter,
      };
    },
    async close() {
      sends.stop();
      await load.stop();
      await rig.close();
    },
  };
}

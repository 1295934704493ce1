/**
 * The switchyards the demo runs in its own process: one on config/demo.yaml, or with --fleet
 * two replicas, r1 and r2, on config/demo-fleet.yaml, sharing the demo's Redis. r1 listens on
 * DEMO_PROXY_LISTEN / DEMO_ADMIN_LISTEN (127.0.0.1:8080 and :9901 by default), r2 on the
 * ports after those (port 0, any free port, stays 0).
 */
import { fileURLToPath } from "node:url";
import { ListenError, startSwitchyard, type RunningSwitchyard } from "../app.ts";
import { formatProblem, loadConfigFile } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { createLogger, type Logger } from "../log/logger.ts";

// Next to the sources rather than the working directory, so the demo runs from anywhere.
const LONE_CONFIG = fileURLToPath(new URL("../../config/demo.yaml", import.meta.url));
const FLEET_CONFIG = fileURLToPath(new URL("../../config/demo-fleet.yaml", import.meta.url));
const FLEET_REPLICAS = ["r1", "r2"];
// r1's, as in both config files.
const DEFAULT_PROXY_LISTEN = "127.0.0.1:8080";
const DEFAULT_ADMIN_LISTEN = "127.0.0.1:9901";

const LONE_PORT_HINT =
  "in config/demo.yaml, listen.proxy is $DEMO_PROXY_LISTEN, e.g. DEMO_PROXY_LISTEN=127.0.0.1:0 for any free port";
const FLEET_PORT_HINT =
  "in config/demo-fleet.yaml, r1 listens on $DEMO_PROXY_LISTEN and $DEMO_ADMIN_LISTEN and r2 on the next ports; " +
  "DEMO_PROXY_LISTEN=127.0.0.1:0 DEMO_ADMIN_LISTEN=127.0.0.1:0 picks any free ones";

/** One switchyard of the demo: the lone one, or a fleet replica. */
export interface DemoSwitchyard {
  /** The replica's id with --fleet ("r1"); absent for the lone switchyard. */
  readonly replica?: string;
  readonly proxy: RunningSwitchyard;
  readonly config: Config;
  readonly proxyUrl: string;
  readonly adminUrl: string;
}

export interface DemoSetup {
  readonly v1Url: string;
  readonly v2Url: string;
  readonly logLevel: string;
  /** With --fleet: the demo's Redis, which the replicas share. */
  readonly redisUrl?: string;
}

/** The switchyards once they serve, or what to print (one sentence per problem) instead. */
export type StartedSwitchyards =
  | { readonly ok: true; readonly switchyards: DemoSwitchyard[] }
  | { readonly ok: false; readonly message: string };

/** How to start one of them. */
interface Plan {
  readonly replica?: string;
  readonly configFile: string;
  readonly env: NodeJS.ProcessEnv;
  /** Said after a port already in use. */
  readonly portHint: string;
}

/** Starts them one after the other; when one fails, those started are closed again. */
export async function startDemoSwitchyards(setup: DemoSetup): Promise<StartedSwitchyards> {
  const logger = createLogger({ level: setup.logLevel });
  const plans = setup.redisUrl === undefined ? [lonePlan(setup)] : fleetPlans(setup);
  const switchyards: DemoSwitchyard[] = [];
  for (const plan of plans) {
    const started = await startOne(plan, logger);
    if (typeof started === "string") {
      await closeSwitchyards(switchyards);
      return { ok: false, message: started };
    }
    switchyards.push(started);
  }
  return { ok: true, switchyards };
}

export async function closeSwitchyards(switchyards: readonly DemoSwitchyard[]): Promise<void> {
  await Promise.all(switchyards.map((switchyard) => switchyard.proxy.close()));
}

/** Where a local client reaches a listener: wildcard addresses mean loopback. */
export function clientUrl(host: string, port: number): string {
  const target = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return target.includes(":") ? `http://[${target}]:${port}` : `http://${target}:${port}`;
}

/** The switchyard, or the lines saying why it did not start. */
async function startOne(plan: Plan, logger: Logger): Promise<DemoSwitchyard | string> {
  const loaded = await loadConfigFile(plan.configFile, plan.env);
  if (!loaded.ok) return loaded.problems.map(formatProblem).join("\n");
  const { config } = loaded;
  let proxy;
  try {
    proxy = await startSwitchyard({
      config,
      configHash: loaded.hash,
      logger: plan.replica === undefined ? logger : logger.child({ replica: plan.replica }),
    });
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    const hint = error.code === "EADDRINUSE" ? ` (${plan.portHint})` : "";
    return `${error.message}${hint}.`;
  }
  return {
    ...(plan.replica === undefined ? {} : { replica: plan.replica }),
    proxy,
    config,
    proxyUrl: clientUrl(config.listen.proxy.host, proxy.proxyPort),
    adminUrl: clientUrl(config.listen.admin.host, proxy.adminPort),
  };
}

function lonePlan(setup: DemoSetup): Plan {
  return {
    configFile: LONE_CONFIG,
    env: { ...process.env, DEMO_V1_URL: setup.v1Url, DEMO_V2_URL: setup.v2Url },
    portHint: LONE_PORT_HINT,
  };
}

/** The same file for every replica, as one ConfigMap would be; the environment differs. */
function fleetPlans(setup: DemoSetup): Plan[] {
  const proxyBase = process.env.DEMO_PROXY_LISTEN || DEFAULT_PROXY_LISTEN;
  const adminBase = process.env.DEMO_ADMIN_LISTEN || DEFAULT_ADMIN_LISTEN;
  return FLEET_REPLICAS.map((replica, index) => ({
    replica,
    configFile: FLEET_CONFIG,
    env: {
      ...process.env,
      DEMO_V1_URL: setup.v1Url,
      DEMO_V2_URL: setup.v2Url,
      DEMO_REDIS_URL: setup.redisUrl,
      DEMO_REPLICA: replica,
      DEMO_PROXY_LISTEN: portAfter(proxyBase, index),
      DEMO_ADMIN_LISTEN: portAfter(adminBase, index),
    },
    portHint: FLEET_PORT_HINT,
  }));
}

/** "host:8080" and 1 -> "host:8081"; port 0 (any) stays 0, and text that is no address stays. */
function portAfter(address: string, offset: number): string {
  const found = /^(.*):(\d+)$/.exec(address);
  if (found === null) return address;
  const port = Number(found[2]);
  return port === 0 ? address : `${found[1] ?? ""}:${String(port + offset)}`;
}

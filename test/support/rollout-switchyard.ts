/**
 * Rollout tests against a real switchyard: an in-process instance started from a config file
 * (so the state file resolves next to it and a child process can take over the same
 * directory), a clock whose rollout ticks fall at a known point of each second, the config of
 * a stable/canary route with a rollout block, and a webhook receiver on loopback.
 *
 * Why the clock: window statistics sum whole one-second slots, the current partial one
 * included, and the rollout ticker keeps its phase within the second. A 1 s interval is then
 * judged on the part of the current second already gone when the tick fires, anywhere from 0
 * to 1000 ms of traffic depending on when the process started. The clock here places the ticks
 * about 700 ms into each second, so every 1 s decision sees about 0.7 s of traffic.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { startSwitchyard, type RunningSwitchyard } from "../../src/app.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import type { LoggedEvent } from "../../src/events/event-log.ts";
import { createSilentLogger } from "../../src/log/logger.ts";
import { SYSTEM_CLOCK, type Clock } from "../../src/time/clock.ts";
import { getEvents } from "./admin-calls.ts";
import { configText, makeConfigDir, type ConfigDir } from "./file-switchyard.ts";
import { closeServer, listenOnFreePort, originOf } from "./ports.ts";

/** Where in each second the rollout ticks fall (see the file comment). */
export const TICK_PHASE_MS = 700;

/** The system clock shifted so that, as of now, `now() % 1000` is `phaseMs`. */
export function phasedClock(phaseMs: number): Clock {
  const base = SYSTEM_CLOCK.now();
  const offsetMs = 1_000_000 + phaseMs - (base % 1000);
  return {
    now: () => SYSTEM_CLOCK.now() + offsetMs,
    wallNow: () => SYSTEM_CLOCK.wallNow(),
    setTimeout: (callback, delayMs) => SYSTEM_CLOCK.setTimeout(callback, delayMs),
  };
}

export interface CanaryRolloutOptions {
  stableUrl: string;
  canaryUrl: string;
  /** Merged over the default rollout block (1 s interval, steps 10/50/100, minRequests 20). */
  rollout?: Record<string, unknown>;
  /** Merged into the canary upstream (e.g. `breaker`). */
  canaryUpstream?: Record<string, unknown>;
  /** Merged into the top level (e.g. `state`). */
  top?: Record<string, unknown>;
}

/**
 * Canary upstream settings that keep its breaker closed and its endpoint in: a canary failing
 * less than all of its requests keeps getting them, so the rollout sees every failure.
 */
export const CANARY_ALWAYS_TRIED = {
  breaker: { errorThresholdPercentage: 100 },
  outlierDetection: { consecutiveFailures: 1000 },
};

/** Config (as a user writes it) of route `web` rolling `canary` out over `stable`. */
export function canaryRolloutConfig(options: CanaryRolloutOptions): Record<string, unknown> {
  return {
    upstreams: {
      stable: { endpoints: [options.stableUrl] },
      canary: { endpoints: [options.canaryUrl], ...options.canaryUpstream },
    },
    routes: [
      {
        name: "web",
        split: { stable: 100, canary: 0 },
        rollout: {
          target: "canary",
          baseline: "stable",
          steps: [10, 50, 100],
          interval: "1s",
          minRequests: 20,
          failureLimit: 2,
          approvalBefore: [],
          checks: [{ metric: "errorRate", max: 0.05, action: "rollback" }],
          ...options.rollout,
        },
      },
    ],
    ...options.top,
  };
}

export interface RolloutSwitchyard extends RunningSwitchyard {
  readonly url: string;
  readonly adminUrl: string;
  readonly configDir: ConfigDir;
  /** `rollout.decision` events so far, oldest first. */
  decisions(): Promise<LoggedEvent[]>;
  /** close(), then removes the config directory: for a test done with both. */
  dispose(): Promise<void>;
}

/**
 * Starts a switchyard in this process from `raw` written to `configDir` (a new temporary
 * directory by default), ticks phased as above. `close` leaves the directory (a restart may
 * use it again); `dispose` removes it too.
 */
export async function startRolloutSwitchyard(
  raw: Record<string, unknown>,
  configDir?: ConfigDir,
): Promise<RolloutSwitchyard> {
  const dir = configDir ?? (await makeConfigDir(configText(raw)));
  const loaded = await loadConfigFile(dir.configFile);
  if (!loaded.ok) throw new Error(`invalid test config: ${JSON.stringify(loaded.problems)}`);
  const running = await startSwitchyard({
    config: loaded.config,
    configHash: loaded.hash,
    configFile: dir.configFile,
    isWatchingConfig: false,
    logger: createSilentLogger(),
    clock: phasedClock(TICK_PHASE_MS),
  });
  await running.healthChecker.firstRoundDone;
  const adminUrl = originOf(running.adminPort);
  return Object.assign(running, {
    url: originOf(running.proxyPort),
    adminUrl,
    configDir: dir,
    decisions: async () =>
      (await getEvents(adminUrl)).filter((event) => event.type === "rollout.decision"),
    dispose: async () => {
      await running.close();
      await dir.remove();
    },
  });
}

/** One POST a webhook receiver got. */
export interface ReceivedHook {
  path: string;
  contentType: string | undefined;
  body: Record<string, unknown>;
  receivedAtMs: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT`: any path is received. */
  readonly origin: string;
  /** `http://127.0.0.1:PORT/hooks/deploys`. */
  readonly url: string;
  readonly received: ReceivedHook[];
  close(): Promise<void>;
}

/** A loopback HTTP server that answers 204 to every POST and keeps its JSON body. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({
        path: req.url ?? "",
        contentType: req.headers["content-type"],
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>,
        receivedAtMs: Date.now(),
      });
      res.writeHead(204).end();
    });
  });
  const port = await listenOnFreePort(server);
  return {
    origin: originOf(port),
    url: `${originOf(port)}/hooks/deploys`,
    received,
    close: () => closeServer(server),
  };
}

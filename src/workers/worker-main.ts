/**
 * A worker process (SPEC 11), forked by the primary's WorkerPool: it asks for the current
 * snapshot, serves listen.proxy on the shared port, follows each snapshot and acknowledges it,
 * reports each second, and drains on the primary's word (or its own SIGTERM, when the whole
 * process group is signalled). It exits when the primary goes away: no worker outlives it.
 */
import { createLogger } from "../log/logger.ts";
import { SYSTEM_CLOCK } from "../time/clock.ts";
import { WorkerLife } from "./worker-life.ts";
import { WORKER_ENV, type WorkerPlace } from "./worker-messages.ts";

const EXIT_GRACE_MS = 1000;

const { slot, count, port, isJoining } = JSON.parse(process.env[WORKER_ENV] ?? "{}") as WorkerPlace;
const logger = createLogger().child({ worker: slot });

// The primary reloads on SIGHUP; a terminal's hangup reaching the whole group must not kill us.
process.on("SIGHUP", () => undefined);

const life = new WorkerLife({ slot, count, port, isJoining, logger, clock: SYSTEM_CLOCK });
life.run().then(
  (code) => {
    logger.flush();
    process.exitCode = code;
    if (process.connected) process.disconnect();
    // Whatever still holds the event loop (a socket being torn down) does not keep us.
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  },
  (error: unknown) => {
    logger.fatal({ err: error }, "worker failed");
    logger.flush();
    process.exit(1);
  },
);

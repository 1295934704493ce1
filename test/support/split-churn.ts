/**
 * Control-plane churn for fault-under-load scenarios: every few tens of milliseconds, in turn,
 * a weight change through the admin API and a config rewrite followed by `POST
 * /api/v1/reload`. Each rewrite also changes a pool setting, so every reload replaces the
 * endpoints' connection pools and retires the old ones while requests are in flight on them.
 */
import { adminCall } from "./admin-calls.ts";
import type { ChaosRig, ChaosStage } from "./chaos-rig.ts";
import { configText, writeConfigByRename } from "./file-switchyard.ts";
import { sleep } from "./ports.ts";

/** Admin writes declare JSON, bodiless ones too. */
const JSON_CONTENT = { "content-type": "application/json" };
const PAUSE_MS = 25;

export interface ChurnCounts {
  /** Weight changes the admin API accepted. */
  weightChanges: number;
  /** Reloads the admin API reported as applied. */
  reloads: number;
  /** Admin answers other than 200, as "STATUS BODY" (the first few). */
  refusals: string[];
}

export interface SplitChurn {
  readonly counts: ChurnCounts;
  /** Lets the change under way finish, then resolves with the counts; idempotent. */
  stop(): Promise<ChurnCounts>;
}

/** Churns route `web` of `rig` between the `splits` given, over the stage it was started with. */
export function startSplitChurn(
  rig: ChaosRig,
  stage: ChaosStage,
  splits: readonly Record<string, number>[],
): SplitChurn {
  const counts: ChurnCounts = { weightChanges: 0, reloads: 0, refusals: [] };
  const state = { isStopping: false };
  const note = (answer: { status: number; body: string }, onOk: () => void): void => {
    if (answer.status === 200) onOk();
    else if (counts.refusals.length < 10) counts.refusals.push(`${answer.status} ${answer.body}`);
  };
  const loop = async (): Promise<void> => {
    for (let turn = 0; !state.isStopping; turn++) {
      const split = splits[turn % splits.length] ?? {};
      if (turn % 2 === 0) {
        note(await setWeights(rig, split), () => counts.weightChanges++);
      } else {
        note(await rewriteAndReload(rig, stage, split, turn), () => counts.reloads++);
      }
      await sleep(PAUSE_MS);
    }
  };
  const running = loop();
  let stopping: Promise<ChurnCounts> | undefined;
  return {
    counts,
    stop() {
      state.isStopping = true;
      stopping ??= running.then(() => counts);
      return stopping;
    },
  };
}

function setWeights(rig: ChaosRig, split: Record<string, number>) {
  return adminCall(rig.proxy.adminUrl, "PUT", "/api/v1/routes/web/weights", {
    json: { weights: split },
  });
}

/** Writes the stage with `split` and an idle timeout that differs each time, then reloads. */
async function rewriteAndReload(
  rig: ChaosRig,
  stage: ChaosStage,
  split: Record<string, number>,
  turn: number,
) {
  const timeouts = { connect: "1s", response: "5s", idle: `${String(5000 + turn)}ms` };
  const next = { ...stage, split, upstream: { ...stage.upstream, timeouts } };
  await writeConfigByRename(rig.proxy.configFile, configText(rig.configFor(next)));
  return adminCall(rig.proxy.adminUrl, "POST", "/api/v1/reload", { headers: JSON_CONTENT });
}

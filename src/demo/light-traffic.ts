/** A light, steady traffic generator for the rollout part of the demo (a few hundred req/s). */
import { Agent, request } from "undici";

export interface LightTraffic {
  readonly sent: number;
  readonly failed: number;
  stop(): Promise<void>;
}

export function startLightTraffic(url: string, workers = 8, pauseMs = 10): LightTraffic {
  const dispatcher = new Agent({ connections: workers, keepAliveTimeout: 2000 });
  const state = { sent: 0, failed: 0, isStopped: false };
  const worker = async (): Promise<void> => {
    while (!state.isStopped) {
      try {
        const response = await request(url, { dispatcher });
        await response.body.dump();
        if (response.statusCode >= 500) state.failed++;
      } catch {
        state.failed++;
      }
      state.sent++;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  const running = Promise.all(Array.from({ length: workers }, worker));
  return {
    get sent() {
      return state.sent;
    },
    get failed() {
      return state.failed;
    },
    async stop() {
      state.isStopped = true;
      await running;
      await dispatcher.close();
    },
  };
}

/** The worker's end of the control channel: typed sends that never throw once it is closed. */
import type { FromWorker, ToWorker } from "./worker-messages.ts";
import { isToWorker } from "./worker-messages.ts";

/** Sends to the primary; resolves once handed over (or at once when the channel is gone). */
export function sendToPrimary(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => {
      resolve();
    });
  });
}

export function onPrimaryMessage(handle: (message: ToWorker) => void): void {
  process.on("message", (message: unknown) => {
    if (isToWorker(message)) handle(message);
  });
}

/** Asks for the latest snapshot and resolves with it. */
export function firstSnapshot(): Promise<Extract<ToWorker, { type: "snapshot" }>["snapshot"]> {
  return new Promise((resolve) => {
    const listener = (message: unknown): void => {
      if (!isToWorker(message) || message.type !== "snapshot") return;
      process.off("message", listener);
      resolve(message.snapshot);
    };
    process.on("message", listener);
    void sendToPrimary({ type: "hello" });
  });
}

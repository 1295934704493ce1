/** The control contract against the fake that admin and CLI tests use. */
import { FakeControl } from "../admin/fake-control.ts";
import { runControlContract } from "./control-contract.ts";

runControlContract("FakeControl", (phase) => {
  const control = new FakeControl();
  const api = control.routes.find((route) => route.name === "api");
  if (api?.rollout == null) throw new Error("the fake has no api rollout");
  api.rollout.phase = phase;
  return Promise.resolve({ control, close: () => Promise.resolve() });
});

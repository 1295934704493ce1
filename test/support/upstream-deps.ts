/** Dependencies for building upstreams in tests: system clock, a shared rotation, no listener. */
import { BucketRotations } from "../../src/upstream/bucket-rotation.ts";
import type { UpstreamDeps } from "../../src/upstream/upstream-set.ts";
import { SYSTEM_CLOCK } from "../../src/time/clock.ts";

export function testUpstreamDeps(): UpstreamDeps {
  return {
    clock: SYSTEM_CLOCK,
    rotations: new BucketRotations(),
    listener: {
      onOutlierEvent: () => undefined,
      onBreakerStateChange: () => undefined,
    },
  };
}

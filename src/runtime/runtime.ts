/** The one mutable reference of the data path: the current snapshot, swapped in one step. */
import type { Snapshot } from "./snapshot.ts";

export class Runtime {
  private snapshot: Snapshot;
  /** Set once the listener has closed during a drain: answers carry Connection: close. */
  isDraining = false;

  constructor(initial: Snapshot) {
    this.snapshot = initial;
  }

  get current(): Snapshot {
    return this.snapshot;
  }

  swap(next: Snapshot): Snapshot {
    const previous = this.snapshot;
    this.snapshot = next;
    return previous;
  }
}

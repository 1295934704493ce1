/**
 * Tells whoever follows the runtime from outside the process (the workers, SPEC 11) that what
 * the data path serves changed: a snapshot swap, an endpoint state, an endpoint's health. One
 * notice per tick however many changes the tick made, so a reload goes out once.
 */
export class StateChanges {
  #listener: (() => void) | undefined;
  #isPending = false;

  follow(listener: () => void): void {
    this.#listener = listener;
  }

  changed(): void {
    if (this.#listener === undefined || this.#isPending) return;
    this.#isPending = true;
    queueMicrotask(() => {
      this.#isPending = false;
      this.#listener?.();
    });
  }
}

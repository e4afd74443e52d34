// One queue per key: work on one network waits for that network's earlier work only, never for another network's
// (research §6.7 B1: the reference's single lock made ten boot-time starts take 30 s and more).

export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` after every earlier `run` of the same key has settled; its result or rejection is passed on. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    // The queue goes on whatever this work did; its caller sees the rejection.
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running (for tests and bounds). */
  get size(): number {
    return this.#tails.size;
  }
}

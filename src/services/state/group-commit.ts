// Group commit: many changes, few writes. Every change asks for a write; the asks that arrive while a write is in
// flight (or in the same turn of the event loop) share the next one, so 100 concurrent creates cost a handful of
// fsyncs. Invariant: a promise returned by request() resolves only after a write that started after that call.

interface Batch {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A background change (an automatic failover, the sweeper) has no one awaiting its batch: the failure is reported
  // through onError once, and a caller that does await still sees the rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export class GroupCommit {
  readonly #write: () => Promise<void>;
  readonly #onError: (err: unknown) => void;
  /** Asks not yet covered by a started write. */
  #next: Batch | undefined;
  /** The write in flight. */
  #current: Batch | undefined;
  #running = false;
  #writes = 0;
  #failures = 0;

  /** `write` takes its snapshot when it starts, so it includes every change asked for before. */
  constructor(write: () => Promise<void>, onError: (err: unknown) => void) {
    this.#write = write;
    this.#onError = onError;
  }

  /** Durable writes done and failed so far (metrics, the benchmark). */
  get writes(): number {
    return this.#writes;
  }

  get failures(): number {
    return this.#failures;
  }

  /** A change happened: resolves once it is durable, rejects if the write that carries it fails. */
  request(): Promise<void> {
    if (this.#next === undefined) {
      this.#next = newBatch();
      if (!this.#running) {
        this.#running = true;
        // One macrotask later: every change made by the requests of this I/O phase joins the first write.
        setImmediate(() => void this.#drain());
      }
    }
    return this.#next.promise;
  }

  /** Resolves once everything asked for so far is durable (or rejects with the failure of the last write). */
  settled(): Promise<void> {
    return this.#next?.promise ?? this.#current?.promise ?? Promise.resolve();
  }

  async #drain(): Promise<void> {
    while (this.#next !== undefined) {
      const batch = this.#next;
      this.#next = undefined;
      this.#current = batch;
      try {
        await this.#write();
        this.#writes += 1;
        batch.resolve();
      } catch (err) {
        this.#failures += 1;
        this.#onError(err);
        batch.reject(err);
      }
    }
    this.#current = undefined;
    this.#running = false;
  }
}

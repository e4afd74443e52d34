// The reference's start-retry limit (research §6.2 step 2): starts of one network that fail (spawn error, FFmpeg
// failing within the grace) are counted in a window; at the limit further starts are refused until a cool-down after
// the last attempt, so a broken source is not re-spawned on every editor tick. A start that works, a stop or a
// DELETE clears the count.
import { BroadcastError } from '../../errors.ts';

export interface StartRetryOptions {
  /** BROADCAST_MAX_START_RETRIES */
  max: number;
  /** BROADCAST_START_RETRY_WINDOW: failures older than this (counted from the first) are forgotten. */
  windowMs: number;
  /** BROADCAST_START_RETRY_COOLDOWN: a refused network may start again this long after its last attempt. */
  cooldownMs: number;
  now?: () => number;
}

interface Attempts {
  count: number;
  first: number;
  last: number;
}

export class StartRetries {
  readonly #o: StartRetryOptions;
  readonly #now: () => number;
  readonly #attempts = new Map<string, Attempts>();

  constructor(options: StartRetryOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Throws the reference's 500 when the network is over the limit and still cooling down. */
  check(id: string): void {
    const now = this.#now();
    const a = this.#attempts.get(id);
    if (a === undefined) return;
    if (now - a.first > this.#o.windowMs || (a.count >= this.#o.max && now - a.last >= this.#o.cooldownMs)) {
      this.#attempts.delete(id);
      return;
    }
    if (a.count >= this.#o.max) {
      const left = Math.ceil((this.#o.cooldownMs - (now - a.last)) / 1000);
      throw new BroadcastError(`Exceeded max start retries for broadcast ${id}; retry allowed after ${left}s`, 'BROADCAST_START_RETRIES_EXCEEDED');
    }
  }

  failed(id: string): void {
    const now = this.#now();
    const a = this.#attempts.get(id) ?? { count: 0, first: now, last: now };
    a.count += 1;
    a.last = now;
    this.#attempts.set(id, a);
  }

  clear(id: string): void {
    this.#attempts.delete(id);
  }

  /** Forgets windows that have passed, so networks that are never started again do not stay on record. */
  prune(): void {
    const now = this.#now();
    for (const [id, a] of this.#attempts) if (now - a.first > this.#o.windowMs && now - a.last >= this.#o.cooldownMs) this.#attempts.delete(id);
  }

  get size(): number {
    return this.#attempts.size;
  }
}

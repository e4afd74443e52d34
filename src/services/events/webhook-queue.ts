// One webhook's delivery lane: a bounded queue drained by a single in-flight worker with retries (SPEC §6).
// Every webhook owns its own lane, so a slow or dead endpoint only ever delays its own events.
import type { EventType, ProxyEvent } from '../../core/events.ts';

/** A webhook as configured through POST /webhooks, already validated. */
export interface WebhookTarget {
  readonly url: string;
  readonly events: readonly EventType[];
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Retries after the first attempt: 3 means up to 4 attempts. */
  readonly retryAttempts: number;
}

/** Performs one attempt and resolves the HTTP status; must reject (not hang) once `signal` aborts. */
export type SendAttempt = (target: WebhookTarget, event: ProxyEvent, signal: AbortSignal) => Promise<number>;

export interface QueueCounters {
  delivered: number;
  /** Events given up on after the last attempt. */
  failed: number;
  /** Events pushed out of a full queue, oldest first. */
  dropped: number;
  retries: number;
}

export interface QueueOptions {
  send: SendAttempt;
  maxQueue: number;
  /** The first retry waits about this long, then 2x, 4x... (1 s in production, tiny in tests). */
  baseDelayMs: number;
  random: () => number;
  /** Told once per event that used up its attempts; for logging. */
  onFailure(target: WebhookTarget, event: ProxyEvent, reason: string, attempts: number): void;
  /** A bug in the worker itself (never an HTTP failure); reported, so the lane keeps running. */
  onError(err: unknown): void;
}

/** Longest wait between two attempts, whatever the attempt number. */
export const MAX_BACKOFF_MS = 60_000;

/** Back-off before retry n (1-based): base, 2 base, 4 base... capped, plus up to 20 % jitter so retries spread out. */
export function backoffDelayMs(retry: number, baseMs: number, random: () => number): number {
  const exp = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(exp + exp * 0.2 * random());
}

/** 2xx is success; 4xx other than 408/429 will not change on a retry, everything else might. */
function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429 || status < 200;
}

export class WebhookQueue {
  target: WebhookTarget;
  readonly counters: QueueCounters = { delivered: 0, failed: 0, dropped: 0, retries: 0 };
  readonly #opts: QueueOptions;
  #queue: ProxyEvent[] = [];
  #running = false;
  #closed = false;
  /** The attempt on the wire, so close() can abort it. */
  #inflight: AbortController | undefined;
  /** The back-off wait in progress, so close() can cut it short. */
  #backoff: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  #idleWaiters: Array<() => void> = [];

  constructor(target: WebhookTarget, options: QueueOptions) {
    this.target = target;
    this.#opts = options;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Never blocks: the event is queued (the oldest dropped when full) and the worker started if idle. */
  push(event: ProxyEvent): void {
    if (this.#closed) return;
    while (this.#queue.length >= this.#opts.maxQueue) {
      this.#queue.shift();
      this.counters.dropped += 1;
    }
    this.#queue.push(event);
    if (!this.#running) this.#start();
  }

  /** Resolves once the queue is empty and nothing is in flight (at once when idle). */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops for good: drops what is queued, aborts the attempt in flight, clears the back-off timer. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#inflight?.abort(new Error('webhook closed'));
    if (this.#backoff) {
      clearTimeout(this.#backoff.timer);
      this.#backoff.wake();
    }
  }

  #start(): void {
    this.#running = true;
    this.#run()
      .catch((err: unknown) => this.#opts.onError(err))
      .finally(() => {
        this.#running = false;
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const wake of waiters) wake();
      });
  }

  /** The single worker: one event at a time, in order. #deliver never rejects, so neither does this. */
  async #run(): Promise<void> {
    for (let event = this.#queue.shift(); event && !this.#closed; event = this.#queue.shift()) {
      await this.#deliver(event);
    }
  }

  async #deliver(event: ProxyEvent): Promise<void> {
    let reason = '';
    let attempts = 0;
    // The target is read per attempt: re-adding a webhook changes its timeout and retries for what is queued too.
    while (attempts <= this.target.retryAttempts) {
      if (attempts > 0) {
        this.counters.retries += 1;
        await this.#sleep(backoffDelayMs(attempts, this.#opts.baseDelayMs, this.#opts.random));
      }
      if (this.#closed) return;
      attempts += 1;
      const result = await this.#attempt(event);
      if (result.ok) {
        this.counters.delivered += 1;
        return;
      }
      // Aborted by close(): neither a failure to report nor a reason to retry.
      if (this.#closed) return;
      reason = result.reason;
      if (!result.retryable) break;
    }
    this.counters.failed += 1;
    this.#opts.onFailure(this.target, event, reason, attempts);
  }

  async #attempt(event: ProxyEvent): Promise<{ ok: true } | { ok: false; reason: string; retryable: boolean }> {
    const target = this.target;
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new Error(`no answer within ${target.timeoutMs} ms`));
    }, target.timeoutMs);
    this.#inflight = ac;
    try {
      const status = await this.#opts.send(target, event, ac.signal);
      if (status >= 200 && status < 300) return { ok: true };
      return { ok: false, reason: `HTTP ${status}`, retryable: isRetryable(status) };
    } catch (err) {
      // Every failure of an attempt (refused, reset, timeout, abort) is an outcome to retry or report, not a crash.
      const reason = timedOut ? `timed out after ${target.timeoutMs} ms` : err instanceof Error ? err.message : String(err);
      return { ok: false, reason, retryable: true };
    } finally {
      clearTimeout(timer);
      this.#inflight = undefined;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#backoff = undefined;
        resolve();
      };
      // Kept ref'd like the sockets of an attempt: a retry is work in progress, and close() is what ends it early.
      const timer = setTimeout(wake, ms);
      this.#backoff = { timer, wake };
    });
  }
}

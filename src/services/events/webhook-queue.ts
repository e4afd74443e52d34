// One webhook's delivery queue (SPEC §6): a bounded queue drained by a few lanes, each one attempt in flight with
// retries. Events of one stream always take the same lane, so they arrive in order; different streams go in parallel
// (issue 14: one event at a time dropped 16-34 % of events under churn). Every webhook owns its own queue, so a slow
// or dead endpoint only ever delays its own events.
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
  /** Events waiting (over all lanes) before the oldest is dropped. */
  maxQueue: number;
  /** Lanes, i.e. attempts in flight at most (default DEFAULT_CONCURRENCY). */
  concurrency?: number;
  /** The first retry waits about this long, then 2x, 4x... (1 s in production, tiny in tests). */
  baseDelayMs: number;
  random: () => number;
  /** Told once per event that used up its attempts; for logging. */
  onFailure(target: WebhookTarget, event: ProxyEvent, reason: string, attempts: number): void;
  /** A bug in the worker itself (never an HTTP failure); reported, so the lane keeps running. */
  onError(err: unknown): void;
}

/** Attempts in flight per webhook by default: enough to keep up with hundreds of churning players on one receiver. */
export const DEFAULT_CONCURRENCY = 8;

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

/** A small string hash (FNV-1a): which lane a stream's events take. */
export function laneOf(streamId: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < streamId.length; i++) {
    h ^= streamId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % lanes;
}

interface Queued {
  /** Arrival order over the whole queue, so the globally oldest event is the one a full queue drops. */
  seq: number;
  event: ProxyEvent;
}

/** One worker: a FIFO of its streams' events, one attempt on the wire at a time. */
interface Lane {
  queue: Queued[];
  running: boolean;
  /** The attempt on the wire, so close() can abort it. */
  inflight: AbortController | undefined;
  /** The back-off wait in progress, so close() can cut it short. */
  backoff: { timer: NodeJS.Timeout; wake: () => void } | undefined;
}

export class WebhookQueue {
  target: WebhookTarget;
  readonly counters: QueueCounters = { delivered: 0, failed: 0, dropped: 0, retries: 0 };
  readonly #opts: QueueOptions;
  readonly #lanes: Lane[];
  #queued = 0;
  #seq = 0;
  #running = 0;
  #closed = false;
  #idleWaiters: Array<() => void> = [];

  constructor(target: WebhookTarget, options: QueueOptions) {
    this.target = target;
    this.#opts = options;
    const lanes = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
    this.#lanes = Array.from({ length: lanes }, () => ({ queue: [], running: false, inflight: undefined, backoff: undefined }));
  }

  get queued(): number {
    return this.#queued;
  }

  /** Never blocks: the event is queued (the oldest dropped when full) and its lane's worker started if idle. */
  push(event: ProxyEvent): void {
    if (this.#closed) return;
    while (this.#queued >= this.#opts.maxQueue) {
      if (!this.#dropOldest()) break;
    }
    const lane = this.#lanes[laneOf(event.stream_id, this.#lanes.length)] as Lane;
    lane.queue.push({ seq: ++this.#seq, event });
    this.#queued += 1;
    if (!lane.running) this.#start(lane);
  }

  /** Resolves once every lane is empty and nothing is in flight (at once when idle). */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops for good: drops what is queued, aborts the attempts in flight, clears back-off timers. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#queued = 0;
    for (const lane of this.#lanes) {
      lane.queue.length = 0;
      lane.inflight?.abort(new Error('webhook closed'));
      if (lane.backoff) {
        clearTimeout(lane.backoff.timer);
        lane.backoff.wake();
      }
    }
  }

  /** Drops the oldest waiting event of any lane (a lane's head is its oldest); false when nothing waits. */
  #dropOldest(): boolean {
    let oldest: Lane | undefined;
    for (const lane of this.#lanes) {
      const head = lane.queue[0];
      if (head && (!oldest || head.seq < (oldest.queue[0] as Queued).seq)) oldest = lane;
    }
    if (!oldest) return false;
    oldest.queue.shift();
    this.#queued -= 1;
    this.counters.dropped += 1;
    return true;
  }

  #start(lane: Lane): void {
    lane.running = true;
    this.#running += 1;
    this.#run(lane)
      .catch((err: unknown) => this.#opts.onError(err))
      .finally(() => {
        lane.running = false;
        this.#running -= 1;
        if (this.#running > 0) return;
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const wake of waiters) wake();
      });
  }

  /** A lane's worker: one event at a time, in order. #deliver never rejects, so neither does this. */
  async #run(lane: Lane): Promise<void> {
    for (let next = lane.queue.shift(); next && !this.#closed; next = lane.queue.shift()) {
      this.#queued -= 1;
      await this.#deliver(lane, next.event);
    }
  }

  async #deliver(lane: Lane, event: ProxyEvent): Promise<void> {
    let reason = '';
    let attempts = 0;
    // The target is read per attempt: re-adding a webhook changes its timeout and retries for what is queued too.
    while (attempts <= this.target.retryAttempts) {
      if (attempts > 0) {
        this.counters.retries += 1;
        await this.#sleep(lane, backoffDelayMs(attempts, this.#opts.baseDelayMs, this.#opts.random));
      }
      if (this.#closed) return;
      attempts += 1;
      const result = await this.#attempt(lane, event);
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

  async #attempt(lane: Lane, event: ProxyEvent): Promise<{ ok: true } | { ok: false; reason: string; retryable: boolean }> {
    const target = this.target;
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new Error(`no answer within ${target.timeoutMs} ms`));
    }, target.timeoutMs);
    lane.inflight = ac;
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
      lane.inflight = undefined;
    }
  }

  #sleep(lane: Lane, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        lane.backoff = undefined;
        resolve();
      };
      // Kept ref'd like the sockets of an attempt: a retry is work in progress, and close() is what ends it early.
      const timer = setTimeout(wake, ms);
      lane.backoff = { timer, wake };
    });
  }
}

// Webhook delivery (SPEC §6): subscribes to the event bus and POSTs each event, signed, to every webhook that wants it.
// The bus listener only queues; the HTTP work happens in each webhook's own lane (webhook-queue.ts).
import { createHmac, randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { EventBus, EventType, ProxyEvent } from '../../core/events.ts';
import { redactUrl } from '../../core/url.ts';
import type { Logger } from '../../log.ts';
import { NO_STATE, type StateSync } from '../state/sync.ts';
import { DEFAULT_CONCURRENCY, type QueueCounters, type SendAttempt, WebhookQueue, type WebhookTarget } from './webhook-queue.ts';

export type { WebhookTarget } from './webhook-queue.ts';

/** Events waiting per webhook before the oldest are dropped (WEBHOOK_QUEUE_SIZE overrides it). */
export const DEFAULT_MAX_QUEUE = 10_000;
/** The first retry waits about 1 s, then 2 s, 4 s... */
export const DEFAULT_RETRY_BASE_MS = 1000;
/** close() waits at most this long for queued events when the caller names no bound. */
export const DEFAULT_FLUSH_MS = 2000;

export interface WebhookServiceDeps {
  bus: EventBus;
  logger: Logger;
  /** Sent as `User-Agent: m3u-proxy-webhook/<version>`. */
  version: string;
  /** WEBHOOK_SECRET: when set, every body is signed with HMAC-SHA256. */
  secret: string | undefined;
  maxQueue?: number;
  /** Attempts in flight per webhook (lanes; one stream's events keep their order). */
  concurrency?: number;
  retryBaseMs?: number;
  random?: () => number;
  now?: () => number;
  /** Replaces the HTTP attempt (tests); the default POSTs with node:http/https. */
  send?: SendAttempt;
  /** Durable state (SPEC §12): told when a webhook is added, changed or removed. */
  state?: StateSync;
}

export interface WebhookStats extends QueueCounters {
  queued: number;
}

/** What GET /webhooks shows: custom header values may hold credentials, so only their names. */
export interface WebhookView {
  url: string;
  events: EventType[];
  timeout: number;
  retry_attempts: number;
  header_names: string[];
  stats: WebhookStats;
}

export interface WebhookService {
  /** Adds the webhook, or updates the one with the same URL (its queue and counters are kept). */
  add(target: WebhookTarget): { created: boolean };
  remove(url: string): boolean;
  has(url: string): boolean;
  /** The webhooks as configured, header values included (the state file keeps them). */
  targets(): WebhookTarget[];
  /** Resolves once every add and remove so far is on disk; rejects with StateWriteError. */
  saved(): Promise<void>;
  list(): WebhookView[];
  /** Queues a test stream_started event for that webhook only and returns its event_id, or undefined when unknown. */
  test(url: string): string | undefined;
  /** Totals over all webhooks, including ones since removed, so the counters only grow. */
  stats(): WebhookStats & { webhooks: number };
  /** The shape services/metrics.ts reads. */
  metrics(): { delivered: number; failed: number; dropped: number; queued: number };
  /** Stops accepting events, lets queues drain for at most timeoutMs, then aborts whatever is left. */
  close(timeoutMs?: number): Promise<void>;
}

/** Headers that decide how the request is framed or routed: ours alone, or a custom one could corrupt the POST. */
/** A receiver's answer body is read this long and this far at most (it decides nothing), then its socket is cut. */
const ANSWER_DRAIN_MS = 10_000;
const ANSWER_DRAIN_BYTES = 64 * 1024;

const FRAMING_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);

/** `sha256=<hex>`: HMAC-SHA256 of the exact body bytes under the shared secret (X-M3U-Proxy-Signature). */
export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Request headers for one delivery; ours are set last so a custom header cannot forge the event type or signature. */
export function deliveryHeaders(
  target: WebhookTarget,
  event: ProxyEvent,
  body: Buffer,
  version: string,
  secret: string | undefined,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(target.headers)) {
    const name = k.toLowerCase();
    if (!FRAMING_HEADERS.has(name)) headers[name] = v;
  }
  headers['user-agent'] = `m3u-proxy-webhook/${version}`;
  headers['content-type'] = 'application/json';
  headers['content-length'] = body.length;
  headers['x-m3u-proxy-event'] = event.event_type;
  if (secret) headers['x-m3u-proxy-signature'] = signBody(secret, body);
  else delete headers['x-m3u-proxy-signature'];
  return headers;
}

function zeroCounters(): QueueCounters {
  return { delivered: 0, failed: 0, dropped: 0, retries: 0 };
}

function addCounters(into: QueueCounters, from: QueueCounters): void {
  into.delivered += from.delivered;
  into.failed += from.failed;
  into.dropped += from.dropped;
  into.retries += from.retries;
}

export function createWebhookService(deps: WebhookServiceDeps): WebhookService {
  const { bus, logger, version, secret } = deps;
  const now = deps.now ?? Date.now;
  const concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
  const state = deps.state ?? NO_STATE;
  const queues = new Map<string, WebhookQueue>();
  /**
   * Kept-alive pools per webhook, one socket per lane: deliveries reuse connections instead of a handshake each, one
   * webhook never waits for another's sockets, and close()/remove() destroy exactly the sockets this service opened.
   */
  // One pool per webhook URL, of that URL's protocol only: an http webhook never loads TLS (bin/lazy-builtins.ts).
  const pools = new Map<string, HttpAgent>();
  const poolFor = (url: string, tls: boolean): HttpAgent => {
    let pool = pools.get(url);
    if (!pool) {
      const options = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
      pool = tls ? new HttpsAgent(options) : new HttpAgent(options);
      pools.set(url, pool);
    }
    return pool;
  };
  const dropPool = (url: string): void => {
    const pool = pools.get(url);
    pools.delete(url);
    pool?.destroy();
  };
  /** Counters of removed webhooks, so totals stay monotonic for /metrics. */
  const retired = zeroCounters();
  let closing = false;

  const send: SendAttempt =
    deps.send ??
    ((target, event, signal) => {
      const body = Buffer.from(JSON.stringify(event));
      return postOnce(target.url, body, deliveryHeaders(target, event, body, version, secret), signal);
    });

  function postOnce(target: string, body: Buffer, headers: OutgoingHttpHeaders, signal: AbortSignal): Promise<number> {
    const url = new URL(target);
    const https = url.protocol === 'https:';
    const request = https ? httpsRequest : httpRequest;
    const pool = poolFor(target, https);
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', headers, agent: pool, signal }, (res) => {
        // Success is the status (SPEC §6): a receiver that answers 2xx and keeps its body open has its event, and
        // waiting for the end would time out and deliver it again.
        resolve(res.statusCode ?? 0);
        drainAnswer(res);
      });
      // Also after the answer: a failure of its body is only the socket's (rejecting then is a no-op).
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Reads an answer's body so its socket can go back to the pool; a long or endless one is cut instead. */
  function drainAnswer(res: IncomingMessage): void {
    let bytes = 0;
    const cut = setTimeout(() => res.destroy(), ANSWER_DRAIN_MS).unref();
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > ANSWER_DRAIN_BYTES) res.destroy();
    });
    res.once('close', () => clearTimeout(cut));
    res.on('error', () => undefined); // the delivery was settled by the status; a cut body only closes the socket
  }

  function newQueue(target: WebhookTarget): WebhookQueue {
    return new WebhookQueue(target, {
      send,
      maxQueue: deps.maxQueue ?? DEFAULT_MAX_QUEUE,
      concurrency,
      baseDelayMs: deps.retryBaseMs ?? DEFAULT_RETRY_BASE_MS,
      random: deps.random ?? Math.random,
      onFailure(t, event, reason, attempts) {
        // The URL may carry a token in its query: log it redacted.
        logger.warn('webhook delivery failed', { webhook: redactUrl(t.url, false), event: event.event_type, event_id: event.event_id, attempts, reason });
      },
      onError(err) {
        logger.error('webhook worker failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      },
    });
  }

  const unsubscribe = bus.subscribe((event) => {
    if (closing) return;
    for (const q of queues.values()) if (q.target.events.includes(event.event_type)) q.push(event);
  });

  function statsOf(q: WebhookQueue): WebhookStats {
    return { ...q.counters, queued: q.queued };
  }

  function totals(): WebhookStats {
    const sum = { ...retired, queued: 0 };
    for (const q of queues.values()) {
      addCounters(sum, q.counters);
      sum.queued += q.queued;
    }
    return sum;
  }

  return {
    add(target) {
      const existing = queues.get(target.url);
      state.changed();
      if (existing) {
        existing.target = target;
        return { created: false };
      }
      queues.set(target.url, newQueue(target));
      logger.info('webhook added', { webhook: redactUrl(target.url, false), events: target.events.join(',') });
      return { created: true };
    },

    remove(url) {
      const q = queues.get(url);
      if (!q) return false;
      queues.delete(url);
      state.changed();
      q.close();
      dropPool(url);
      addCounters(retired, q.counters);
      logger.info('webhook removed', { webhook: redactUrl(url, false) });
      return true;
    },

    has(url) {
      return queues.has(url);
    },

    targets() {
      return [...queues.values()].map((q) => q.target);
    },

    saved() {
      return state.saved();
    },

    list() {
      return [...queues.values()].map((q) => ({
        url: q.target.url,
        events: [...q.target.events],
        timeout: q.target.timeoutMs / 1000,
        retry_attempts: q.target.retryAttempts,
        header_names: Object.keys(q.target.headers),
        stats: statsOf(q),
      }));
    },

    test(url) {
      const q = queues.get(url);
      if (!q || closing) return undefined;
      // Not through the bus: a test must reach this webhook only, whatever its event filter.
      const event: ProxyEvent = {
        event_id: randomUUID(),
        event_type: 'stream_started',
        stream_id: 'test_stream',
        timestamp: new Date(now()).toISOString(),
        data: { metadata: {}, test: true, message: 'Test event from m3u-proxy' },
      };
      q.push(event);
      return event.event_id;
    },

    stats() {
      return { ...totals(), webhooks: queues.size };
    },

    metrics() {
      const { delivered, failed, dropped, queued } = totals();
      return { delivered, failed, dropped, queued };
    },

    async close(timeoutMs = DEFAULT_FLUSH_MS) {
      if (closing) return;
      closing = true;
      unsubscribe();
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.all([...queues.values()].map((q) => q.idle())), bound]);
      clearTimeout(timer);
      // Past the bound nothing waits: whatever is still queued or on the wire is abandoned.
      for (const q of queues.values()) q.close();
      for (const url of [...pools.keys()]) dropPool(url);
    },
  };
}

// The upstream side of a continuous body: reads one upstream response after another into a sink, with backpressure,
// and on an upstream failure, stall or manual switch reconnects to the URL ring without ending the body. A player's
// own session (proxy-session.ts) and a stream's shared live upstream (sharing/) both run on it.
// Not pipeline(): the body outlives each upstream response, and pipeline() would end or destroy its sink with the
// first one. A 'data' handler with pause()/resume() is the same backpressure with nothing in between.
import type { IncomingMessage } from 'node:http';
import type { StreamRecord } from '../../core/registry.ts';
import { upstreamErrorKind, watchIdle, type UpstreamErrorKind } from '../../core/upstream/client.ts';
import { buildUpstreamHeaders, parseContentLength, parseContentRange, resumeRange, first } from '../../core/upstream/headers.ts';
import { type AppError, UpstreamError, UpstreamStatusError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { StreamService } from '../streams.ts';
import { markStalled, stallTimeoutMs } from '../upstream/strict-live.ts';
import type { UpstreamStats } from '../upstream/upstream-stats.ts';
import type { AcceptResponse, OpenedUpstream } from '../upstream/upstream-open.ts';

/** What the reader was promised: an exact byte range of a file (resumable by Range), or an open-ended live stream. */
export type BodyPlan =
  | { kind: 'vod'; firstByte: number; lastByte: number; total: number | undefined }
  | { kind: 'live'; closeDelimited: boolean };

export interface FeedDeps {
  streams: StreamService;
  logger: Logger;
  stats: UpstreamStats;
  readTimeoutMs: number;
  /** DEFAULT_MAX_RETRIES: rounds over the ring of reconnects in a row that deliver no byte before the feed gives up. */
  maxRetries: number;
}

export interface FeedInput {
  deps: FeedDeps;
  stream: StreamRecord;
  /** The URL ring now: read at every reconnect, since re-creating a stream may change its failover URLs. */
  ring(): readonly string[];
  /** The `?url=` form: one URL, never a failover event. */
  fixedRing: boolean;
  userAgent: string;
  plan: BodyPlan;
  first: OpenedUpstream;
  /** Bytes of `first` the reader was given before the feed started (proxy-stream.ts sends a player's first bytes itself). */
  sentAhead?: number;
  openRing(ring: readonly string[], startIndex: number, headers: Record<string, string>, signal: AbortSignal, accept: AcceptResponse): Promise<OpenedUpstream>;
  /** Hot path: takes one chunk; false when the reader must wait until resume() is called. */
  write(chunk: Buffer): boolean;
  /** Called before the bytes of a reconnected upstream response (a new byte stream) are written. */
  onReconnect?(): void;
  /** The client id named in failover events and logs; null for a stream's shared upstream. */
  clientId: string | null;
}

/** How a feed ended: the body is complete, stop() was called, or no URL could continue it. */
export type FeedEnd = 'complete' | 'stopped' | 'failed';

export interface Feed {
  run(): Promise<FeedEnd>;
  /** The sink drained: read on. */
  resume(): void;
  /** Move to the stream's current URL now (manual failover); repeated calls before the move starts count once. */
  switchUrl(): void;
  /** Ends the feed and releases the upstream socket now. Idempotent. */
  stop(): void;
  /** Body bytes handed to write(). */
  readonly delivered: number;
}

/** Why a pump over one upstream response stopped. */
type Outcome = { kind: 'end' } | { kind: 'error'; err: unknown } | { kind: 'idle' } | { kind: 'switch' } | { kind: 'stop' };

export function createFeed(s: FeedInput): Feed {
  const { deps, stream, plan } = s;
  const { streams, stats, logger } = deps;
  let up: IncomingMessage | null = null;
  let upIndex = s.first.index;
  let delivered = s.sentAhead ?? 0;
  let waiting = false;
  let stopped = false;
  let switchPending = false;
  /** Ends the current pump; null while reconnecting. */
  let wake: ((o: Outcome) => void) | null = null;
  /** Aborts the reconnect walk in flight (and its back-off sleep). */
  let walkAc: AbortController | null = null;
  const write = s.write;

  // The byte path: no allocation, logging or string work per chunk.
  function onData(this: IncomingMessage, chunk: Buffer): void {
    delivered += chunk.length;
    if (!write(chunk)) {
      waiting = true;
      this.pause();
    }
  }

  /** The only place an upstream response is given up: destroyed, so a half-read socket never returns to the pool. */
  function releaseUpstream(): void {
    if (!up) return;
    up.off('data', onData);
    up.destroy();
    up = null;
  }

  function pump(r: IncomingMessage): Promise<Outcome> {
    return new Promise((resolve) => {
      let settled = false;
      const idle = watchIdle({
        // strict_live_ts: a live stream stalled for 2 s moves on (SPEC §3.1).
        timeoutMs: stallTimeoutMs(stream, plan.kind === 'live', deps.readTimeoutMs),
        progress: () => delivered,
        isWaiting: () => waiting,
        onIdle: () => finish({ kind: 'idle' }),
      });
      const onEnd = (): void => finish({ kind: 'end' });
      const onError = (err: unknown): void => finish({ kind: 'error', err });
      // 'close' before 'end' is a body cut short (reset, early end before Content-Length).
      const onClose = (): void => finish({ kind: 'error', err: new UpstreamError('Upstream closed the body early') });
      function finish(o: Outcome): void {
        if (settled) return;
        settled = true;
        wake = null;
        idle.stop();
        r.off('end', onEnd);
        r.off('error', onError);
        r.off('close', onClose);
        resolve(o);
      }
      wake = finish;
      r.on('data', onData);
      r.once('end', onEnd);
      r.once('error', onError);
      r.once('close', onClose);
      // The sink is still full from the previous upstream: wait for its drain before reading on.
      if (waiting) r.pause();
    });
  }

  const vodDone = (): boolean => plan.kind === 'vod' && delivered >= plan.lastByte - plan.firstByte + 1;

  /** A response that continues the body exactly where the reader is. */
  const acceptResume: AcceptResponse = (r) => {
    const status = r.statusCode ?? 0;
    if (plan.kind === 'live') return status === 200 || status === 206 ? true : new UpstreamStatusError(status);
    const next = plan.firstByte + delivered;
    const range = parseContentRange(first(r.headers['content-range']));
    if (status === 206 && range && range.start === next && range.end === plan.lastByte) {
      if (range.total === undefined || plan.total === undefined || range.total === plan.total) return true;
    }
    // Nothing sent yet and the origin ignores Range: the whole file again is still exact.
    if (status === 200 && next === 0 && parseContentLength(first(r.headers['content-length'])) === plan.lastByte + 1) return true;
    return new UpstreamStatusError(status, 'Upstream cannot resume the file at the needed byte');
  };

  /** Reconnects after a failure or a manual switch; null when every round failed or the feed stopped. */
  async function reopen(reason: 'switch' | UpstreamErrorKind): Promise<OpenedUpstream | null> {
    let why = reason;
    for (;;) {
      if (stopped) return null;
      // Manual switch: the stream's new current URL. VOD: the same URL first. Live: the next URL.
      const start = why === 'switch' ? stream.currentIndex : plan.kind === 'vod' ? upIndex : upIndex + 1;
      switchPending = false;
      const headers =
        plan.kind === 'vod'
          ? buildUpstreamHeaders({ userAgent: s.userAgent, custom: stream.headers, forwarded: { range: resumeRange(plan.firstByte + delivered, plan.lastByte, plan.total) } })
          : buildUpstreamHeaders({ userAgent: s.userAgent, custom: stream.headers });
      const ac = new AbortController();
      walkAc = ac;
      try {
        const ring = s.ring();
        return await s.openRing(ring, start % ring.length, headers, ac.signal, acceptResume);
      } catch (err) {
        if (stopped) return null;
        if (switchPending) {
          why = 'switch';
          continue;
        }
        logger.warn('upstream lost and no URL could continue it', { stream: stream.id, client: s.clientId, code: (err as AppError).code });
        return null;
      } finally {
        walkAc = null;
      }
    }
  }

  /**
   * Upstream answers in a row that ended without a byte (issue 14: an origin that answers and then stalls was reconnected
   * forever). SPEC §2 DEFAULT_MAX_RETRIES: that many rounds over the ring, then the feed gives up; a byte resets it.
   */
  let barren = 0;

  async function run(): Promise<FeedEnd> {
    try {
      let current: OpenedUpstream = s.first;
      // The bytes sent ahead came from the first response: they count for it, not against it, in the barren count.
      let deliveredBefore = 0;
      for (;;) {
        up = current.res;
        upIndex = current.index;
        const o = await pump(up);
        if (o.kind === 'stop' || stopped) return 'stopped';
        if (o.kind === 'end' && (plan.kind === 'live' ? !plan.closeDelimited : vodDone())) {
          // Complete: the upstream body was read to its end, so its socket may go back to the pool.
          up = null;
          return 'complete';
        }
        releaseUpstream();
        if (o.kind !== 'switch') barren = delivered > deliveredBefore ? 0 : barren + 1;
        if (barren >= Math.max(1, deps.maxRetries) * s.ring().length) {
          logger.warn('upstream answers but sends nothing, giving up', { stream: stream.id, client: s.clientId, attempts: barren });
          streams.recordError(stream);
          return 'failed';
        }
        let reason: 'switch' | UpstreamErrorKind = 'switch';
        if (o.kind !== 'switch') {
          reason = o.kind === 'idle' ? 'stall' : o.kind === 'end' ? 'early_end' : upstreamErrorKind(o.err);
          if (o.kind === 'idle' && plan.kind === 'live') markStalled(stream, s.ring()[upIndex] ?? '', Date.now());
          streams.recordError(stream);
          stats.recordError(reason);
          logger.info('upstream failed mid-stream, reconnecting', { stream: stream.id, client: s.clientId, reason, delivered });
        }
        const next = await reopen(reason);
        if (!next) return stopped ? 'stopped' : 'failed';
        deliveredBefore = delivered;
        stats.recordReconnect();
        if (!s.fixedRing && next.index !== stream.currentIndex) {
          if (streams.recordFailover(stream, stream.currentIndex, next.index, reason, s.clientId)) stats.recordFailover();
        }
        s.onReconnect?.();
        current = next;
      }
    } finally {
      releaseUpstream();
    }
  }

  return {
    run,
    resume() {
      if (!waiting) return;
      waiting = false;
      up?.resume();
    },
    switchUrl() {
      if (stopped || s.fixedRing || switchPending) return;
      switchPending = true;
      // Streaming: end this pump now. Reconnecting: restart the walk at the stream's new current URL.
      if (wake) wake({ kind: 'switch' });
      else walkAc?.abort();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      walkAc?.abort();
      wake?.({ kind: 'stop' });
      releaseUpstream();
    },
    get delivered() {
      return delivered;
    },
  };
}

// One player's continuous/VOD session after the answer started: pumps upstream bytes to the player with backpressure,
// and on an upstream failure, stall or manual switch reconnects to the ring without closing the player's response.
// Not pipeline(): the player's response outlives each upstream response, and pipeline() would end or destroy it with
// the first one. A 'data' handler with write()/pause()/'drain' is the same backpressure with nothing in between.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientRecord, Registry, StreamRecord } from '../../core/registry.ts';
import { upstreamErrorKind, watchIdle, type UpstreamErrorKind } from '../../core/upstream/client.ts';
import { buildUpstreamHeaders, parseContentLength, parseContentRange, resumeRange } from '../../core/upstream/headers.ts';
import { type AppError, UpstreamError, UpstreamStatusError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ConnectionTracker } from '../upstream/connections.ts';
import type { DisconnectReason, StreamService } from '../streams.ts';
import type { UpstreamStats } from '../upstream/upstream-stats.ts';
import type { AcceptResponse, OpenedUpstream } from '../upstream/upstream-open.ts';
import { markStalled, stallTimeoutMs } from '../upstream/strict-live.ts';

/** What the player was promised: an exact byte range of a file (resumable by Range), or an open-ended live stream. */
export type BodyPlan =
  | { kind: 'vod'; firstByte: number; lastByte: number; total: number | undefined }
  | { kind: 'live'; closeDelimited: boolean };

export interface SessionDeps {
  registry: Registry;
  streams: StreamService;
  connections: ConnectionTracker;
  logger: Logger;
  stats: UpstreamStats;
  readTimeoutMs: number;
  /** DEFAULT_MAX_RETRIES: rounds over the ring of reconnects in a row that deliver no byte before the session gives up. */
  maxRetries: number;
}

export interface SessionInput {
  deps: SessionDeps;
  res: ServerResponse;
  stream: StreamRecord;
  client: ClientRecord;
  /** The URL ring now: read at every reconnect, since re-creating a stream may change its failover URLs. */
  ring(): readonly string[];
  /** The `?url=` form: one URL, never a failover event. */
  fixedRing: boolean;
  userAgent: string;
  plan: BodyPlan;
  first: OpenedUpstream;
  openRing(ring: readonly string[], startIndex: number, headers: Record<string, string>, signal: AbortSignal, accept: AcceptResponse): Promise<OpenedUpstream>;
}

/** Why a pump over one upstream response stopped. */
type Outcome =
  | { kind: 'end' }
  | { kind: 'error'; err: unknown }
  | { kind: 'idle' }
  | { kind: 'switch' }
  | { kind: 'stop' };

const DISCONNECT_REASONS: ReadonlySet<string> = new Set(['closed', 'deleted', 'kicked', 'timeout', 'error', 'shutdown']);

/** Runs until the body is complete, the player leaves, the connection is aborted, or every reconnect failed. */
export async function runSession(s: SessionInput): Promise<void> {
  const { deps, res, stream, client, plan } = s;
  const { registry, streams, stats, logger } = deps;
  let up: IncomingMessage | null = null;
  let upIndex = s.first.index;
  /** Body bytes handed to res.write(); the only byte counter, shared with the registry per chunk. */
  let delivered = 0;
  let waitingDrain = false;
  let stopped = false;
  let switchPending = false;
  let endReason: DisconnectReason = 'closed';
  /** Ends the current pump; null while reconnecting. */
  let wake: ((o: Outcome) => void) | null = null;
  /** Aborts the reconnect walk in flight (and its back-off sleep). */
  let walkAc: AbortController | null = null;

  // The byte path: no allocation, logging or string work per chunk.
  function onData(this: IncomingMessage, chunk: Buffer): void {
    delivered += chunk.length;
    registry.addBytes(client, stream, chunk.length);
    if (!res.write(chunk)) {
      waitingDrain = true;
      this.pause();
    }
  }
  function onDrain(): void {
    if (!waitingDrain) return;
    waitingDrain = false;
    up?.resume();
  }

  /** Ends this connection now: player side and upstream socket (DELETE, kick, shutdown, player gone). */
  function stop(reason: DisconnectReason): void {
    if (stopped) return;
    stopped = true;
    endReason = reason;
    walkAc?.abort();
    wake?.({ kind: 'stop' });
    releaseUpstream();
    if (!res.destroyed) res.destroy();
  }

  /** The only place an upstream response is given up: destroyed, so a half-read socket never returns to the pool. */
  function releaseUpstream(): void {
    if (!up) return;
    up.off('data', onData);
    up.destroy();
    up = null;
  }

  function onPlayerClose(): void {
    if (!res.writableFinished) stop('closed');
  }

  const unregister = deps.connections.add({
    client,
    abort: (reason) => stop(DISCONNECT_REASONS.has(reason) ? (reason as DisconnectReason) : 'closed'),
    switchUrl: () => {
      if (stopped || s.fixedRing) return;
      switchPending = true;
      stats.recordManualSwitch();
      // Streaming: end this pump now. Reconnecting: restart the walk at the stream's new current URL.
      if (wake) wake({ kind: 'switch' });
      else walkAc?.abort();
    },
  });
  res.on('drain', onDrain);
  res.once('close', onPlayerClose);

  function pump(r: IncomingMessage): Promise<Outcome> {
    return new Promise((resolve) => {
      let settled = false;
      const idle = watchIdle({
        timeoutMs: stallTimeoutMs(stream, plan.kind === 'live', deps.readTimeoutMs),
        progress: () => delivered,
        isWaiting: () => waitingDrain,
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
      // The player is still full from the previous upstream: wait for its drain before reading on.
      if (waitingDrain) r.pause();
    });
  }

  const vodDone = (): boolean => plan.kind === 'vod' && delivered >= plan.lastByte - plan.firstByte + 1;

  /** A response that continues the body exactly where the player is. */
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

  /** Reconnects after a failure or a manual switch; null when every round failed or the session stopped. */
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
        logger.warn('upstream lost and no URL could continue it', { stream: stream.id, client: client.clientId, code: (err as AppError).code });
        return null;
      } finally {
        walkAc = null;
      }
    }
  }

  /**
   * Upstream answers in a row that ended without a byte (issue 14: an origin that answers and then stalls was reconnected
   * forever). SPEC §2 DEFAULT_MAX_RETRIES: that many rounds over the ring, then the player is let go; a byte resets it.
   */
  let barren = 0;

  try {
    let current: OpenedUpstream = s.first;
    for (;;) {
      up = current.res;
      upIndex = current.index;
      const deliveredBefore = delivered;
      const o = await pump(up);
      if (o.kind === 'stop' || stopped) return;
      if (o.kind === 'end' && (plan.kind === 'live' ? !plan.closeDelimited : vodDone())) {
        // Complete: the upstream body was read to its end, so its socket may go back to the pool.
        up = null;
        res.end();
        return;
      }
      releaseUpstream();
      if (o.kind !== 'switch') barren = delivered > deliveredBefore ? 0 : barren + 1;
      if (barren >= Math.max(1, deps.maxRetries) * s.ring().length) {
        logger.warn('upstream answers but sends nothing, giving up', { stream: stream.id, client: client.clientId, attempts: barren });
        streams.recordError(stream);
        stop('error');
        return;
      }
      let reason: 'switch' | UpstreamErrorKind = 'switch';
      if (o.kind !== 'switch') {
        reason = o.kind === 'idle' ? 'stall' : o.kind === 'end' ? 'early_end' : upstreamErrorKind(o.err);
        if (o.kind === 'idle' && plan.kind === 'live') markStalled(stream, s.ring()[upIndex] ?? '', Date.now());
        streams.recordError(stream);
        stats.recordError(reason);
        logger.info('upstream failed mid-stream, reconnecting', { stream: stream.id, client: client.clientId, reason, delivered });
      }
      const next = await reopen(reason);
      if (!next) {
        // Headers are sent: the only honest signal left is to cut the player's connection.
        if (!stopped) stop('error');
        return;
      }
      stats.recordReconnect();
      if (!s.fixedRing && next.index !== stream.currentIndex) {
        stats.recordFailover();
        streams.recordFailover(stream, stream.currentIndex, next.index, reason, client.clientId);
      }
      current = next;
    }
  } finally {
    releaseUpstream();
    res.off('drain', onDrain);
    res.off('close', onPlayerClose);
    unregister();
    streams.endClient(client, endReason);
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

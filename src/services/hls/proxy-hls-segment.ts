// HLS segments, keys, init sections and parts (SPEC §5.2, §5.5): plain GETs of one upstream URL share one upstream
// request and then the segment cache (hls-share.ts); HEAD, validators and ranges not in the cache go upstream per
// player, Range forwarded. Status and entity headers mirrored, bytes counted, real 502/504s before the first byte,
// and a failing upstream fails over to the same segment of the next URL (segment-failover.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { upstreamErrorKind, watchIdle } from '../../core/upstream/client.ts';
import type { StreamRecord } from '../../core/registry.ts';
import {
  buildUpstreamHeaders,
  isConditional,
  isUsableMediaStatus,
  mirrorResponseHeaders,
  parseContentLength,
  parseContentRange,
  pickPlayerHeaders,
  first,
} from '../../core/upstream/headers.ts';
import { refusePlaylistBody } from '../../core/upstream/peek.ts';
import { NotFoundError, UpstreamError, UpstreamStatusError } from '../../errors.ts';
import type { HlsDeps, HlsRequest } from './hls-context.ts';
import type { AcceptResponse, OpenedUpstream } from '../upstream/upstream-open.ts';
import { answerHeadersOnly, stillWanted } from '../upstream/upstream-open.ts';
import { createPlaylistOpener } from './proxy-hls-open.ts';
import { type ByteSpan, createSegmentFailover, type SegmentOpenRequest } from './segment-failover.ts';
import { type CachedSegment, DEFAULT_SEGMENT_TTL_MS, SEGMENT_TTL_TARGETS } from './hls-share.ts';
import { createSegmentFanout, type SegmentFanout } from './segment-fanout.ts';
import { parseByteRange } from './segment-cache.ts';
import { flightKey } from './single-flight.ts';

export interface SegmentRequest extends HlsRequest {
  /** The upstream URL, from a token (or the token-checked `?url=`). */
  url: string;
  head: boolean;
}

/** A segment of unknown length is shared up to this size even when the cache holds less (or nothing). */
const MIN_FANOUT_BYTES = 16 * 1024 * 1024;

export function createSegmentProxy(deps: HlsDeps) {
  const { config, registry, streams, stats, logger, share } = deps;
  const failover = createSegmentFailover(deps, createPlaylistOpener(deps));
  const fanoutMaxBytes = Math.max(MIN_FANOUT_BYTES, share.segmentCache.maxEntryBytes);

  function openRequest(p: SegmentRequest, player: Record<string, string>, signal: AbortSignal): SegmentOpenRequest {
    const accept: AcceptResponse = (r) => (isUsableMediaStatus(r.statusCode ?? 0, player) ? true : new UpstreamStatusError(r.statusCode ?? 0));
    const headers = buildUpstreamHeaders({ userAgent: streams.userAgentOf(p.stream), custom: p.stream.headers, forwarded: player });
    return { stream: p.stream, clientId: p.clientId, url: p.url, headers, accept, signal };
  }

  /** Opens the upstream with failover; undefined when the player left meanwhile (nothing to answer). */
  async function open(p: SegmentRequest, player: Record<string, string>): Promise<OpenedUpstream | undefined> {
    const { res, stream } = p;
    const ac = new AbortController();
    const onPlayerClose = (): void => ac.abort();
    res.once('close', onPlayerClose);
    try {
      const opened = await failover.openSegment(openRequest(p, player, ac.signal));
      // Before anything is shared or sent: a playlist where media belongs is a 502, for every viewer alike (issue 14.4).
      await refusePlaylistBody(opened.res, { signal: ac.signal, timeoutMs: config.readTimeoutMs, head: p.head }).catch((err: unknown) => {
        opened.res.destroy();
        throw err;
      });
      return stillWanted(res, opened.res, registry, stream) ? opened : undefined;
    } catch (err) {
      if (ac.signal.aborted) return undefined;
      throw err; // answered and logged once, by the error boundary
    } finally {
      res.off('close', onPlayerClose);
    }
  }

  /** `rejoined`: this request follows a flight whose leader's player left; it rejoins once, then fetches its own. */
  async function serve(p: SegmentRequest, rejoined = false): Promise<void> {
    const player = pickPlayerHeaders(p.req.headers);
    // Only plain GETs are shared; a Range is answered from a cached whole segment, else fetched as asked.
    if (p.head || isConditional(player)) return serveOwn(p, player);
    const key = flightKey(p.stream.id, p.url);
    const cached = share.segmentCache.get(key);
    if (cached) return serveCached(p, cached, player['range']);
    if (player['range'] !== undefined) return serveOwn(p, player);
    const turn = share.segments.begin(key);
    if (!turn.leader) {
      const fanout = await turn.result;
      if (fanout === 'rejoin') {
        if (p.res.destroyed) return;
        // One of the followers leads now, instead of each fetching the segment for itself.
        return rejoined ? serveOwn(p, player) : serve(p, true);
      }
      return fanout?.joinable() ? serveShared(p, fanout) : serveOwn(p, player);
    }
    let opened: OpenedUpstream | undefined;
    try {
      opened = await open(p, player);
    } finally {
      // A leader whose player left hands the flight on; one that failed leaves its followers to fetch their own.
      if (!opened) {
        if (p.res.destroyed) turn.abandon();
        else turn.end();
      }
    }
    if (!opened) return;
    const up = opened.res;
    const length = parseContentLength(first(up.headers['content-length']));
    if (up.statusCode !== 200 || (length !== undefined && length > fanoutMaxBytes)) {
      turn.end();
      return relayOwn(p, opened, player);
    }
    const fanout = createSegmentFanout(up, {
      headers: mirrorResponseHeaders(up.headers, opened.finalUrl),
      maxBytes: fanoutMaxBytes,
      readTimeoutMs: config.readTimeoutMs,
      total: length,
      // The viewers' own requests may be gone by then: the fan-out's signal says when nobody wants the rest.
      resume: (offset, total, signal) => failover.resumeSegment(openRequest(p, player, signal), opened.index, { from: offset, to: total - 1, total }),
    });
    turn.settle(fanout);
    void fanout.body.then((chunks) => {
      // Cached before the flight closes, so that no request falls between the two and fetches again.
      const size = chunks?.reduce((n, c) => n + c.length, 0) ?? 0;
      if (chunks && share.segmentCache.fits(size)) {
        share.segmentCache.set(key, { headers: fanout.headers, body: Buffer.concat(chunks, size) }, size, segmentTtlMs(p.stream));
      }
      turn.end();
      const failure = fanout.failure();
      if (failure && failure.kind !== 'abandoned') {
        streams.recordError(p.stream);
        stats.recordError(failure.kind === 'stall' ? 'stall' : upstreamErrorKind(failure.err));
      }
    });
    return serveShared(p, fanout);
  }

  function segmentTtlMs(stream: StreamRecord): number {
    const target = share.targetMs.get(stream);
    return target === undefined ? DEFAULT_SEGMENT_TTL_MS : target * SEGMENT_TTL_TARGETS;
  }

  /** Whether the player and the stream are still there to be answered; throws 404 for a stream deleted meanwhile. */
  function stillThere(p: SegmentRequest): boolean {
    if (p.res.destroyed) return false;
    if (registry.getStream(p.stream.id) !== p.stream) throw new NotFoundError(`Stream ${p.stream.id}`);
    return true;
  }

  function serveCached(p: SegmentRequest, cached: CachedSegment, range: string | undefined): void {
    if (!stillThere(p)) return;
    const { res, stream } = p;
    const client = streams.touchHlsClient(stream, p.clientId, p.info);
    const size = cached.body.length;
    let body = cached.body;
    let status = 200;
    const headers: Record<string, string> = { ...cached.headers, 'accept-ranges': 'bytes', 'content-length': String(size) };
    if (range !== undefined) {
      const r = parseByteRange(range, size);
      if (!r) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': '0' });
        res.end();
        return;
      }
      status = 206;
      body = body.subarray(r[0], r[1] + 1);
      headers['content-range'] = `bytes ${r[0]}-${r[1]}/${size}`;
      headers['content-length'] = String(body.length);
    }
    registry.addSegment(client, stream);
    registry.addBytes(client, stream, body.length);
    res.writeHead(status, headers);
    res.end(body);
  }

  async function serveShared(p: SegmentRequest, fanout: SegmentFanout): Promise<void> {
    if (!stillThere(p)) return;
    const { res, stream } = p;
    const client = streams.touchHlsClient(stream, p.clientId, p.info);
    registry.addSegment(client, stream);
    res.writeHead(200, fanout.headers);
    const viewer = fanout.serve(res, (bytes) => registry.addBytes(client, stream, bytes));
    const unregister = deps.connections.add({ client, abort: viewer.kick });
    const outcome = await viewer.done;
    unregister();
    if (outcome.kind === 'upstream' || outcome.kind === 'stall') {
      logger.info('segment cut short', { stream: stream.id, client: p.clientId, reason: outcome.kind, delivered: outcome.delivered });
    }
  }

  /** One upstream request for this player alone: HEAD, validators, ranges, and what cannot be shared. */
  async function serveOwn(p: SegmentRequest, player: Record<string, string>): Promise<void> {
    const opened = await open(p, player);
    if (opened) await relayOwn(p, opened, player);
  }

  /** The rest of a body that broke after `delivered` bytes of `span`, from a copy (issue 24.6); undefined if none. */
  async function resumeOwn(p: SegmentRequest, opened: OpenedUpstream, player: Record<string, string>, span: ByteSpan, delivered: number): Promise<IncomingMessage | undefined> {
    const ac = new AbortController();
    const onPlayerClose = (): void => ac.abort();
    p.res.once('close', onPlayerClose);
    try {
      return await failover.resumeSegment(openRequest(p, player, ac.signal), opened.index, { ...span, from: span.from + delivered });
    } catch (err) {
      // Aborted: the player left meanwhile; anything else is the cut the player would have seen anyway.
      logger.debug('segment resume failed', { stream: p.stream.id, error: String(err) });
      return undefined;
    } finally {
      p.res.off('close', onPlayerClose);
    }
  }

  async function relayOwn(p: SegmentRequest, opened: OpenedUpstream, player: Record<string, string>): Promise<void> {
    const { res, stream } = p;
    const up = opened.res;
    const client = streams.touchHlsClient(stream, p.clientId, p.info);
    const status = up.statusCode ?? 502;
    const outHeaders = mirrorResponseHeaders(up.headers, opened.finalUrl);
    if (p.head || (status !== 200 && status !== 206)) {
      answerHeadersOnly(res, up, status, outHeaders, p.head);
      return;
    }
    registry.addSegment(client, stream);
    res.writeHead(status, outHeaders);

    const span = resumableSpan(up);
    const count = (bytes: number): void => registry.addBytes(client, stream, bytes);
    let current = up;
    let delivered = 0;
    let outcome: RelayOutcome;
    for (let resumes = 0; ; resumes++) {
      const socket = current.socket;
      outcome = await relay(current, res, count, span !== undefined, (stop) => {
        const idle = watchIdle({
          timeoutMs: config.readTimeoutMs,
          // The socket's byte count moves with every packet and costs nothing per chunk; a full player is not a stall.
          progress: socket ? () => socket.bytesRead : () => 0,
          isWaiting: () => res.writableNeedDrain,
          onIdle: () => stop('stall'),
        });
        const unregister = deps.connections.add({ client, abort: () => stop('kicked') });
        return () => {
          idle.stop();
          unregister();
        };
      });
      delivered += outcome.delivered;
      if (outcome.kind === 'done' || outcome.kind === 'player' || outcome.kind === 'kicked') return;
      const next = span !== undefined && resumes < MAX_RESUMES && !res.destroyed ? await resumeOwn(p, opened, player, span, delivered) : undefined;
      if (next === undefined || res.destroyed) {
        next?.destroy();
        res.destroy();
        break;
      }
      current = next;
    }
    const kind = outcome.kind === 'upstream' ? upstreamErrorKind(outcome.err) : 'stall';
    streams.recordError(stream);
    stats.recordError(kind);
    logger.info('segment cut short', { stream: stream.id, client: p.clientId, reason: kind, delivered });
  }

  return { serve };
}

/** Resumes tried at most for one segment body. */
const MAX_RESUMES = 2;

/** The byte span a 200 or 206 answer promised, when its total length is known: what a resume must deliver. */
function resumableSpan(up: IncomingMessage): ByteSpan | undefined {
  if (up.statusCode === 200) {
    const length = parseContentLength(first(up.headers['content-length']));
    return length === undefined || length === 0 ? undefined : { from: 0, to: length - 1, total: length };
  }
  const range = up.statusCode === 206 ? parseContentRange(first(up.headers['content-range'])) : undefined;
  return range?.total === undefined ? undefined : { from: range.start, to: range.end, total: range.total };
}

type RelayOutcome =
  | { kind: 'done' | 'player' | 'kicked' | 'stall'; delivered: number }
  | { kind: 'upstream'; err: unknown; delivered: number };

/**
 * Copies one upstream body to the player with backpressure (write() false pauses the upstream, 'drain' resumes it)
 * and no per-chunk work beyond `count`. Not pipeline(): it allocates an AbortController and an Error per call, which
 * showed in the profile of 1 MiB segments. `watch` starts the stall and kick hooks and returns their cleanup.
 * On anything but a complete body the upstream is destroyed (its socket is not reused) and so is the player's
 * response, unless `keepPlayer` holds it open after an upstream failure or stall for the caller to resume.
 */
function relay(
  up: IncomingMessage,
  res: ServerResponse,
  count: (bytes: number) => void,
  keepPlayer: boolean,
  watch: (stop: (kind: 'kicked' | 'stall') => void) => () => void,
): Promise<RelayOutcome> {
  return new Promise((resolve) => {
    let delivered = 0;
    let settled = false;
    const onData = (chunk: Buffer): void => {
      delivered += chunk.length;
      count(chunk.length);
      if (!res.write(chunk)) up.pause();
    };
    const onDrain = (): void => {
      up.resume();
    };
    const onEnd = (): void => finish({ kind: 'done', delivered });
    const onError = (err: unknown): void => finish({ kind: 'upstream', err, delivered });
    const onUpClose = (): void => finish(up.complete ? { kind: 'done', delivered } : { kind: 'upstream', err: new UpstreamError('Upstream closed the segment early'), delivered });
    const onResClose = (): void => finish({ kind: res.writableFinished ? 'done' : 'player', delivered });
    const unwatch = watch((kind) => finish({ kind, delivered }));
    function finish(o: RelayOutcome): void {
      if (settled) return;
      settled = true;
      unwatch();
      up.off('data', onData);
      up.off('end', onEnd);
      up.off('error', onError);
      up.off('close', onUpClose);
      res.off('drain', onDrain);
      res.off('close', onResClose);
      if (o.kind === 'done') {
        res.end();
      } else {
        up.on('error', ignoreLateError);
        up.destroy();
        if (!keepPlayer || (o.kind !== 'upstream' && o.kind !== 'stall')) res.destroy();
      }
      resolve(o);
    }
    up.on('data', onData);
    up.once('end', onEnd);
    up.once('error', onError);
    up.once('close', onUpClose);
    res.on('drain', onDrain);
    res.once('close', onResClose);
  });
}

function ignoreLateError(): void {
  // After the relay gave the response up, its destruction may still surface an error: the outcome is already known.
}

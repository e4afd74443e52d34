// HLS segments, keys, init sections and parts (SPEC §5.2): one upstream request per player request, Range forwarded,
// status and entity headers mirrored, bytes piped with backpressure and counted; real 502/504s before the first byte.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { upstreamErrorKind, watchIdle } from '../../core/upstream/client.ts';
import { buildUpstreamHeaders, isUsableMediaStatus, mirrorResponseHeaders, pickPlayerHeaders } from '../../core/upstream/headers.ts';
import { refusePlaylistBody } from '../../core/upstream/peek.ts';
import { UpstreamError, UpstreamStatusError } from '../../errors.ts';
import type { HlsDeps, HlsRequest } from './hls-context.ts';
import type { AcceptResponse, OpenedUpstream } from '../upstream/upstream-open.ts';
import { answerHeadersOnly, stillWanted } from '../upstream/upstream-open.ts';

export interface SegmentRequest extends HlsRequest {
  /** The upstream URL, from a token (or the token-checked `?url=`). */
  url: string;
  head: boolean;
}

export function createSegmentProxy(deps: HlsDeps) {
  const { config, registry, streams, stats, logger, openFromRing } = deps;

  async function serve(p: SegmentRequest): Promise<void> {
    const { req, res, stream } = p;
    const ac = new AbortController();
    const onPlayerClose = (): void => ac.abort();
    res.once('close', onPlayerClose);
    const player = pickPlayerHeaders(req.headers);
    const accept: AcceptResponse = (r) => (isUsableMediaStatus(r.statusCode ?? 0, player) ? true : new UpstreamStatusError(r.statusCode ?? 0));
    const headers = buildUpstreamHeaders({ userAgent: streams.userAgentOf(stream), custom: stream.headers, forwarded: player });
    let opened: OpenedUpstream;
    try {
      opened = await openFromRing({ stream, ring: [p.url], startIndex: 0, headers, signal: ac.signal, accept, rounds: 1 });
    } catch (err) {
      res.off('close', onPlayerClose);
      if (ac.signal.aborted) return;
      throw err; // answered and logged once, by the error boundary
    }
    const up = opened.res;
    await refusePlaylistBody(up, { signal: ac.signal, timeoutMs: config.readTimeoutMs, head: p.head });
    res.off('close', onPlayerClose);
    if (!stillWanted(res, up, registry, stream)) return;
    const client = streams.touchHlsClient(stream, p.clientId, p.info);
    const status = up.statusCode ?? 502;
    const outHeaders = mirrorResponseHeaders(up.headers, opened.finalUrl);
    if (p.head || (status !== 200 && status !== 206)) {
      answerHeadersOnly(res, up, status, outHeaders, p.head);
      return;
    }
    registry.addSegment(client, stream);
    res.writeHead(status, outHeaders);

    const socket = up.socket;
    const outcome = await relay(up, res, (bytes) => registry.addBytes(client, stream, bytes), (stop) => {
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
    if (outcome.kind === 'done' || outcome.kind === 'player' || outcome.kind === 'kicked') return;
    const kind = outcome.kind === 'upstream' ? upstreamErrorKind(outcome.err) : 'stall';
    streams.recordError(stream);
    stats.recordError(kind);
    logger.info('segment cut short', { stream: stream.id, client: p.clientId, reason: kind, delivered: outcome.delivered });
  }

  return { serve };
}

type RelayOutcome =
  | { kind: 'done' | 'player' | 'kicked' | 'stall'; delivered: number }
  | { kind: 'upstream'; err: unknown; delivered: number };

/**
 * Copies one upstream body to the player with backpressure (write() false pauses the upstream, 'drain' resumes it)
 * and no per-chunk work beyond `count`. Not pipeline(): it allocates an AbortController and an Error per call, which
 * showed in the profile of 1 MiB segments. `watch` starts the stall and kick hooks and returns their cleanup.
 * On anything but a complete body, both sides are destroyed: the player sees a cut body, the socket is not reused.
 */
function relay(
  up: IncomingMessage,
  res: ServerResponse,
  count: (bytes: number) => void,
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
        res.destroy();
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

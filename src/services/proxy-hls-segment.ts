// HLS segments, keys, init sections and parts (SPEC §5.2): one upstream request per player request, Range forwarded,
// status and entity headers mirrored, bytes piped with backpressure and counted; real 502/504s before the first byte.
import { pipeline } from 'node:stream/promises';
import { discardResponse, upstreamErrorKind, watchIdle } from '../core/upstream/client.ts';
import { buildUpstreamHeaders, isUsableMediaStatus, mirrorResponseHeaders, pickPlayerHeaders } from '../core/upstream/headers.ts';
import { type AppError, NotFoundError, UpstreamStatusError } from '../errors.ts';
import type { HlsDeps, HlsRequest } from './proxy-hls.ts';
import type { AcceptResponse, OpenedUpstream } from './proxy-session.ts';

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
      logger.warn('segment upstream failed', { stream: stream.id, client: p.clientId, code: (err as AppError).code });
      throw err;
    }
    const up = opened.res;
    if (registry.getStream(stream.id) !== stream) {
      res.off('close', onPlayerClose);
      up.destroy();
      throw new NotFoundError(`Stream ${stream.id}`);
    }
    const client = streams.touchHlsClient(stream, p.clientId, p.info);
    const status = up.statusCode ?? 502;
    const outHeaders = mirrorResponseHeaders(up.headers, opened.finalUrl);
    if (p.head || (status !== 200 && status !== 206)) {
      res.off('close', onPlayerClose);
      res.writeHead(status, outHeaders);
      res.end();
      if (p.head) up.destroy();
      else discardResponse(up);
      return;
    }
    registry.addSegment(client, stream);
    res.writeHead(status, outHeaders);

    let delivered = 0;
    // Who ended the transfer first: pipeline() destroys both sides whichever failed, so this is decided by events.
    let cause: 'player' | 'upstream' | 'kicked' | 'stall' | null = null;
    const onUpstreamError = (): void => {
      cause ??= 'upstream';
    };
    up.once('error', onUpstreamError);
    res.off('close', onPlayerClose);
    // A response that finished also emits 'close': only a close before that is a player leaving.
    const onClose = (): void => {
      if (res.writableFinished) return;
      cause ??= 'player';
      ac.abort();
    };
    res.once('close', onClose);
    // The byte path: one counter update per chunk, nothing else.
    up.on('data', (chunk: Buffer) => {
      delivered += chunk.length;
      registry.addBytes(client, stream, chunk.length);
    });
    const idle = watchIdle({
      timeoutMs: config.readTimeoutMs,
      progress: () => delivered,
      isWaiting: () => res.writableNeedDrain,
      onIdle: () => {
        cause ??= 'stall';
        ac.abort();
      },
    });
    const unregister = deps.connections.add({
      client,
      abort: () => {
        cause ??= 'kicked';
        ac.abort();
      },
    });
    try {
      await pipeline(up, res, { signal: ac.signal });
    } catch (err) {
      // pipeline() has destroyed both sides: the player sees a cut body, the upstream socket is closed.
      if (cause === 'player' || cause === 'kicked') return;
      const kind = cause === 'stall' ? 'stall' : upstreamErrorKind(err);
      streams.recordError(stream);
      stats.recordError(kind);
      logger.info('segment cut short', { stream: stream.id, client: p.clientId, reason: kind, delivered });
    } finally {
      idle.stop();
      unregister();
      up.off('error', onUpstreamError);
      res.off('close', onClose);
    }
  }

  return { serve };
}

// HLS playlists (SPEC §5.2): fetch the upstream playlist (over the stream's ring for the master), decode it, and
// stream it rewritten so that every URI is an opaque proxy URL (§5.4). A "playlist" URL that answers media bytes is
// handed to the continuous path instead of being buffered.
import type { ServerResponse } from 'node:http';
import { type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRewriteStream, sniffPlaylist } from '../../core/m3u8/rewrite.ts';
import { createDecoder, DEFLATE_SNIFF_BYTES, parseContentEncoding } from '../../core/upstream/decode.ts';
import { upstreamErrorKind, watchIdle } from '../../core/upstream/client.ts';
import { peekBody } from '../../core/upstream/peek.ts';
import { AppError, UpstreamError, UpstreamTimeoutError } from '../../errors.ts';
import { createPlaylistOpener, type PlaylistOpenRequest } from './proxy-hls-open.ts';
import type { OpenedUpstream } from '../upstream/upstream-open.ts';
import type { HlsDeps, HlsRequest } from './hls-context.ts';
import { stillWanted } from '../upstream/upstream-open.ts';

export type PlaylistRequest = HlsRequest & PlaylistOpenRequest;

/** Up to this many rewritten bytes are held before answering: small playlists get a Content-Length, and a bad one a clean 502. */
const PREBUFFER_BYTES = 256 * 1024;

const DIRECTIVE_PARAMS = /[?&]_HLS_(?:msn|part|skip)=[^&#]*/g;

const PLAYLIST_HEADERS = { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'no-cache' } as const;

/** A body that is not #EXTM3U is still rewritten when the origin calls it a playlist (sloppy IPTV panels). */
function isPlaylistType(type: string | undefined): boolean {
  const t = (type ?? '').toLowerCase();
  return t.includes('mpegurl') || t.startsWith('text/');
}

/** Maps a failure of the playlist body to the answer a player should get (when headers are not yet sent). */
function bodyFailure(err: unknown, stalled: boolean): AppError {
  if (stalled) return new UpstreamTimeoutError('Upstream playlist stalled');
  if (err instanceof AppError) return err;
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  if (typeof code === 'string' && code.startsWith('Z_')) return new UpstreamError('Upstream sent a corrupt compressed playlist', { cause: err });
  return new UpstreamError('Upstream playlist body failed', { cause: err });
}

/**
 * The last stage: holds the first PREBUFFER_BYTES, then writes through to the player with backpressure. The only
 * place playlist bytes are counted, so the count is what the player was handed.
 */
function createPlaylistSink(res: ServerResponse, headers: Record<string, string>, count: (bytes: number) => void): Writable & { waiting(): boolean } {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let started = false;
  let waiting = false;
  const send = (chunk: Buffer, callback: (err?: Error | null) => void): void => {
    count(chunk.length);
    if (res.write(chunk)) {
      callback();
      return;
    }
    waiting = true;
    res.once('drain', () => {
      waiting = false;
      callback();
    });
  };
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (started) return send(chunk, callback);
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < PREBUFFER_BYTES) return callback();
      started = true;
      res.writeHead(200, headers);
      const all = Buffer.concat(held, heldBytes);
      held = [];
      send(all, callback);
    },
    final(callback) {
      if (started) {
        res.end();
      } else {
        const all = Buffer.concat(held, heldBytes);
        held = [];
        res.writeHead(200, { ...headers, 'content-length': String(all.length) });
        count(all.length);
        res.end(all);
      }
      callback();
    },
  });
  return Object.assign(sink, { waiting: () => waiting });
}

export function createPlaylistProxy(deps: HlsDeps) {
  const { config, registry, streams, stats, logger } = deps;

  const opener = createPlaylistOpener(deps);

  async function serve(p: PlaylistRequest): Promise<void> {
    const { res, stream } = p;
    const ac = new AbortController();
    // A response that finished also emits 'close': only a close before that is a player leaving.
    const onPlayerClose = (): void => {
      if (!res.writableFinished) ac.abort();
    };
    res.once('close', onPlayerClose);
    // Issue 14: an origin trickling a byte a second never trips the idle watch, and the player would wait for headers
    // without end. The whole answer gets one deadline: connect plus read timeout, then 504.
    let overdue = false;
    const deadline = setTimeout(() => {
      overdue = true;
      ac.abort();
    }, config.connectTimeoutMs + config.readTimeoutMs).unref();
    let opened: OpenedUpstream;
    try {
      opened = await opener.open(p, ac.signal);
    } catch (err) {
      clearTimeout(deadline);
      res.off('close', onPlayerClose);
      if (overdue) throw new UpstreamTimeoutError('Upstream playlist did not arrive in time');
      if (ac.signal.aborted) return;
      throw err; // answered and logged once, by the error boundary
    }
    const up = opened.res;
    res.off('close', onPlayerClose);
    let wanted = false;
    try {
      wanted = !overdue && stillWanted(res, up, registry, stream);
    } finally {
      if (!wanted) clearTimeout(deadline);
    }
    if (!wanted) {
      up.destroy();
      if (overdue && !res.destroyed) throw new UpstreamTimeoutError('Upstream playlist did not arrive in time');
      return;
    }
    res.once('close', onPlayerClose);
    ac.signal.addEventListener('abort', () => up.destroy(), { once: true });
    let stalled = false;
    let sinkWaiting = (): boolean => false;
    const socket = up.socket;
    const idle = watchIdle({
      timeoutMs: config.readTimeoutMs,
      // The socket's byte count moves with every packet and costs nothing per chunk.
      progress: socket ? () => socket.bytesRead : () => 0,
      isWaiting: () => sinkWaiting(),
      onIdle: () => {
        stalled = true;
        ac.abort();
      },
    });
    let unregister: (() => void) | undefined;
    try {
      const encodings = parseContentEncoding(first(up.headers['content-encoding']));
      const peeked = await peekBody(up, encodings.length > 0 ? (h) => h.length >= DEFLATE_SNIFF_BYTES : (h) => sniffPlaylist(h) !== 'undecided');
      if (peeked.head.length === 0) throw new UpstreamError('Upstream sent an empty playlist');
      if (encodings.length === 0 && sniffPlaylist(peeked.head) === 'media' && !isPlaylistType(first(up.headers['content-type']))) {
        // A short body that is neither a playlist nor a stream: nothing a player could use.
        if (peeked.body !== up) throw new UpstreamError('Upstream answered something that is not a playlist');
        // Media behind a playlist URL (an IPTV link with no extension): the continuous path takes over this response.
        idle.stop();
        clearTimeout(deadline);
        res.off('close', onPlayerClose);
        await deps.streamProxy.serveOpened({ ...p, head: false, overrideUrl: p.url }, opened);
        return;
      }
      const decoders: Transform[] = encodings.reverse().map((e) => createDecoder(e, peeked.head));
      stream.observedType = 'HLS';
      const client = streams.touchHlsClient(stream, p.clientId, p.info);
      unregister = deps.connections.add({ client, abort: () => ac.abort() });
      // LL-HLS directives change on every reload but never how a relative URI resolves: keep them out of the memo key.
      const memo = deps.memos.memoFor(stream.id, p.clientId, opened.finalUrl.replace(DIRECTIVE_PARAMS, ''));
      // A master fetched over the ring: note its variants, so that they can follow a failover (hls-variants.ts).
      const fromRing = p.url === undefined;
      const playlistUris: string[] = [];
      const rewriter = createRewriteStream({
        baseUrl: opened.finalUrl,
        proxify: deps.urls(stream.id, p.clientId),
        memo,
        onPlaylistUri: fromRing ? (u) => playlistUris.push(u) : undefined,
      });
      const headers = { ...PLAYLIST_HEADERS, 'x-stream-id': stream.id, 'x-client-id': p.clientId };
      const sink = createPlaylistSink(res, headers, (n) => registry.addBytes(client, stream, n));
      sinkWaiting = sink.waiting;
      await pipeline([peeked.body, ...decoders, rewriter, sink], { signal: ac.signal });
      if (fromRing && playlistUris.length > 0) deps.variants.recordMaster(stream, opened.index, playlistUris);
    } catch (err) {
      stalled ||= overdue;
      if (ac.signal.aborted && !stalled) {
        // The player left, or the stream was deleted: nothing to answer.
        if (!res.destroyed) res.destroy();
        return;
      }
      const failure = bodyFailure(err, stalled);
      streams.recordError(stream);
      stats.recordError(stalled ? 'stall' : upstreamErrorKind(failure));
      if (!res.headersSent) throw failure;
      logger.warn('playlist failed after its answer started', { stream: stream.id, code: failure.code });
      res.destroy();
    } finally {
      idle.stop();
      clearTimeout(deadline);
      unregister?.();
      res.off('close', onPlayerClose);
    }
  }

  return { serve };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}


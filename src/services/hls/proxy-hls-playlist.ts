// HLS playlists (SPEC §5.2): fetch the upstream playlist (over the stream's ring for the master), decode it, and
// stream it rewritten so that every URI is an opaque proxy URL (§5.4). A "playlist" URL that answers media bytes is
// handed to the continuous path instead of being buffered. Viewers of a stream share upstream fetches (hls-share.ts),
// and each fetched media playlist is noted in the segment book for segment failover.
import type { ServerResponse } from 'node:http';
import { type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRewriteStream, rewritePlaylist } from '../../core/m3u8/rewrite.ts';
import type { RewriteContext } from '../../core/m3u8/rewrite-context.ts';
import { urlRing } from '../../core/registry.ts';
import { sniffBody, type SniffResult } from '../../core/sniff.ts';
import { first } from '../../core/upstream/headers.ts';
import { createDecoder, decodeHead, parseContentEncoding } from '../../core/upstream/decode.ts';
import { upstreamErrorKind, watchIdle } from '../../core/upstream/client.ts';
import { peekBody, SNIFF_DEADLINE_MS } from '../../core/upstream/peek.ts';
import { AppError, NotFoundError, UpstreamError, UpstreamTimeoutError } from '../../errors.ts';
import { createBodyCapture } from './body-capture.ts';
import type { PlaylistAnswer } from './hls-share.ts';
import type { VariantPlace } from './hls-variants.ts';
import { readTargetDurationS } from './media-playlist.ts';
import { flightKey } from './single-flight.ts';
import { createPlaylistOpener, type OpenedPlaylist, type PlaylistOpenRequest } from './proxy-hls-open.ts';
import type { HlsDeps, HlsRequest } from './hls-context.ts';
import { stillWanted } from '../upstream/upstream-open.ts';

export type PlaylistRequest = HlsRequest &
  PlaylistOpenRequest & {
    /** The request's path below ROOT_PATH: the rewritten URIs are relative to it (SPEC §2). */
    path: string;
  };

/** Up to this many rewritten bytes are held before answering: small playlists get a Content-Length, and a bad one a clean 502. */
const PREBUFFER_BYTES = 256 * 1024;

/** A playlist body up to this size is kept for other viewers and for segment failover; bigger ones only stream. */
const CAPTURE_BYTES = 8 * 1024 * 1024;

const DIRECTIVE_PARAMS = /[?&]_HLS_(?:msn|part|skip)=[^&#]*/g;

const PLAYLIST_HEADERS = { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'no-cache' } as const;

/** A body that is not #EXTM3U is still rewritten when the origin calls it a playlist (sloppy IPTV panels). */
function isPlaylistType(type: string | undefined): boolean {
  const t = (type ?? '').toLowerCase();
  return t.includes('mpegurl') || t.startsWith('text/');
}

/** Encoded bytes read at most to judge a body (core/sniff.ts reads the first KiB of its decoded text). */
const SNIFF_MAX_BYTES = 4096;

/** What the first bytes are, decoded from a copy when the origin compressed them; undefined when they do not decode. */
function sniffHead(head: Buffer, encodings: readonly string[], final: boolean): SniffResult | undefined {
  const plain = encodings.length === 0 ? head : decodeHead(head, encodings);
  return plain === undefined ? undefined : sniffBody(plain, final);
}

/** Maps a failure of the playlist body to the answer a player should get (when headers are not yet sent). */
function bodyFailure(err: unknown, stalled: boolean): AppError {
  if (stalled) return new UpstreamTimeoutError('Upstream playlist stalled');
  if (err instanceof AppError) return err;
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  if (typeof code === 'string' && code.startsWith('Z_')) return new UpstreamError('Upstream sent a corrupt compressed playlist', { cause: err });
  return new UpstreamError('Upstream playlist body failed', { cause: err });
}

/** The chunks as one Buffer; a single chunk (a big playlist's first rewritten chunk often is) is not copied. */
function joined(chunks: readonly Buffer[], bytes: number): Buffer {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
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
      const all = joined(held, heldBytes);
      held = [];
      send(all, callback);
    },
    final(callback) {
      if (started) {
        res.end();
      } else {
        const all = joined(held, heldBytes);
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
  const { share } = deps;

  /**
   * Viewers of one stream asking for the same playlist at once share one upstream fetch, and a media playlist is
   * reused for half its target duration (issue 10 item 7); every viewer's copy is rewritten with its own tokens.
   * `rejoined`: this request followed a flight whose leader's player left; it rejoins once, then fetches its own.
   */
  async function serve(p: PlaylistRequest, rejoined = false): Promise<void> {
    // A continuous stream behind the playlist URL, already playing: its viewers join that one upstream (SPEC §5.5).
    if (p.url === undefined && deps.streamProxy.sharesNow(p.stream)) return deps.streamProxy.serve({ ...p, head: false, overrideUrl: undefined });
    // The stream's ring position is part of the key: after a failover nothing fetched before it is reused.
    const key = flightKey(p.stream.id, p.url ?? '', `${p.stream.currentIndex}:${p.directives}`);
    const cached = share.playlistCache.get(key);
    if (cached && cached.clientId !== p.clientId) return serveAnswer(p, cached);
    const turn = share.playlists.begin(key);
    if (!turn.leader) {
      const answer = await turn.result;
      if (answer !== undefined && answer !== 'rejoin') return serveAnswer(p, answer);
      if (p.res.destroyed) return;
      // The leader found a continuous stream behind the playlist URL: its viewers share that one upstream.
      if (p.url === undefined && deps.streamProxy.sharesNow(p.stream)) return deps.streamProxy.serve({ ...p, head: false, overrideUrl: undefined });
      // Its player left before it had an answer: one of the followers leads now, instead of each fetching its own.
      if (answer === 'rejoin' && !rejoined) return serve(p, true);
      await fetchAndServe(p);
      return;
    }
    // Settled as soon as the outcome is known: a playlist URL that turns out to be a continuous stream must not hold
    // the followers for as long as that stream plays.
    const settle = (answer: PlaylistAnswer | undefined): void => {
      const targetS = answer && readTargetDurationS(answer.body);
      if (answer && targetS !== undefined) {
        share.targetMs.set(p.stream, targetS * 1000);
        share.playlistCache.set(key, answer, answer.body.length, (targetS * 1000) / 2);
      }
      turn.settle(answer);
      turn.end();
    };
    try {
      const answer = await fetchAndServe(p, settle);
      if (answer === undefined && p.res.destroyed) turn.abandon();
      else settle(answer);
    } finally {
      turn.end();
    }
  }

  const limits = { maxLines: config.hlsMaxPlaylistLines, maxBytes: config.hlsMaxPlaylistBytes };

  /** How one viewer's answer is rewritten, whether its upstream body was fetched for it or for another viewer. */
  function rewriteContext(p: PlaylistRequest, from: { finalUrl: string; index: number; place?: VariantPlace | undefined }): RewriteContext {
    const { stream } = p;
    const { finalUrl, index } = from;
    // LL-HLS directives change on every reload but never how a relative URI resolves: keep them out of the memo key.
    // The memo holds whole URIs, which are relative to the request's directory: that is part of its key.
    const dir = p.path.slice(0, p.path.lastIndexOf('/') + 1);
    const memoKey = `${dir} ${finalUrl.replace(DIRECTIVE_PARAMS, '')}`;
    return {
      bySequence: deps.segmentUris.forAnswer(stream.id, p.clientId, dir, from.place, urlRing(stream).length),
      baseUrl: finalUrl,
      queryUrl: p.url ?? urlRing(stream)[index],
      ...deps.urls(stream.id, p.clientId, p.path),
      memo: deps.memos.memoFor(stream.id, p.clientId, memoKey),
      imports: p.variant ? deps.variants.importsFor(stream, p.url ?? stream.url) : undefined,
    };
  }

  /** Answers a playlist from an upstream body another viewer's request fetched. */
  function serveAnswer(p: PlaylistRequest, answer: PlaylistAnswer): void {
    const { res, stream } = p;
    if (res.destroyed) return;
    if (registry.getStream(stream.id) !== stream) throw new NotFoundError(`Stream ${stream.id}`);
    const client = streams.touchHlsClient(stream, p.clientId, p.info);
    let body: Buffer;
    try {
      body = rewritePlaylist(answer.body, rewriteContext(p, answer), limits);
    } catch (err) {
      throw bodyFailure(err, false);
    }
    res.writeHead(200, { ...PLAYLIST_HEADERS, 'x-stream-id': stream.id, 'x-client-id': p.clientId, 'content-length': String(body.length) });
    registry.addBytes(client, stream, body.length);
    res.end(body);
  }

  /** Fetches and streams one playlist; resolves with its upstream body when it was a whole playlist to share. */
  async function fetchAndServe(p: PlaylistRequest, settle?: (answer: undefined) => void): Promise<PlaylistAnswer | undefined> {
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
    let opened: OpenedPlaylist;
    try {
      opened = await opener.open(p, ac.signal);
    } catch (err) {
      clearTimeout(deadline);
      res.off('close', onPlayerClose);
      if (overdue) throw new UpstreamTimeoutError('Upstream playlist did not arrive in time');
      if (ac.signal.aborted) return undefined;
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
      return undefined;
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
      const peeked = await peekBody(up, (h) => sniffHead(h, encodings, false) !== 'undecided', SNIFF_MAX_BYTES, { timeoutMs: SNIFF_DEADLINE_MS });
      if (peeked.head.length === 0) throw new UpstreamError('Upstream sent an empty playlist');
      const kind = sniffHead(peeked.head, encodings, true) ?? 'unknown';
      // Media signatures win over the label (issue 14.4: live TS labelled as a playlist); text that is neither is
      // still a playlist when the origin says so.
      if (kind === 'media' || (kind === 'unknown' && !isPlaylistType(first(up.headers['content-type'])))) {
        // A short body that is neither a playlist nor a stream: nothing a player could use.
        if (peeked.ended && kind !== 'media') throw new UpstreamError('Upstream answered something that is not a playlist');
        // Media behind a playlist URL (an IPTV link with no extension): the continuous path takes over this response.
        idle.stop();
        clearTimeout(deadline);
        res.off('close', onPlayerClose);
        // Claimed (or joined) before the followers are let go, so that they join this channel's one upstream.
        const served = deps.streamProxy.serveMedia({ ...p, head: false, overrideUrl: p.url }, opened);
        settle?.(undefined);
        await served;
        return undefined;
      }
      const decoders: Transform[] = encodings.reverse().map((e) => createDecoder(e, peeked.head));
      stream.observedType = 'HLS';
      const client = streams.touchHlsClient(stream, p.clientId, p.info);
      unregister = deps.connections.add({ client, abort: () => ac.abort() });
      // A master fetched over the ring: note its variants, so that they can follow a failover (hls-variants.ts), and
      // its EXT-X-DEFINE variables, which its media playlists may IMPORT (rfc8216bis §4.4.2.3).
      const fromRing = p.url === undefined;
      const playlistUris: string[] = [];
      const defines = new Map<string, string>();
      const rewriter = createRewriteStream(
        {
          ...rewriteContext(p, opened),
          onPlaylistUri: fromRing ? (u) => playlistUris.push(u) : undefined,
          onDefine: fromRing ? (name, value) => defines.set(name, value) : undefined,
        },
        limits,
      );
      const headers = { ...PLAYLIST_HEADERS, 'x-stream-id': stream.id, 'x-client-id': p.clientId };
      const sink = createPlaylistSink(res, headers, (n) => registry.addBytes(client, stream, n));
      sinkWaiting = sink.waiting;
      const capture = createBodyCapture(CAPTURE_BYTES);
      await pipeline([peeked.body, ...decoders, capture, rewriter, sink], { signal: ac.signal });
      if (fromRing && playlistUris.length > 0) deps.variants.recordMaster(stream, opened.index, playlistUris, defines);
      const body = capture.captured();
      if (body === undefined) return undefined;
      // Where its segments came from, for segment failover (segment-book.ts); a master has none, and costs little.
      if (opened.place !== undefined) deps.book.record(stream, opened.place, opened.finalUrl.replace(DIRECTIVE_PARAMS, ''), body);
      return { body, finalUrl: opened.finalUrl, index: opened.index, place: opened.place, clientId: p.clientId };
    } catch (err) {
      stalled ||= overdue;
      if (ac.signal.aborted && !stalled) {
        // The player left, or the stream was deleted: nothing to answer.
        if (!res.destroyed) res.destroy();
        return undefined;
      }
      const failure = bodyFailure(err, stalled);
      streams.recordError(stream);
      stats.recordError(stalled ? 'stall' : upstreamErrorKind(failure));
      if (!res.headersSent) throw failure;
      // One line per cut playlist; a bound (PLAYLIST_TOO_LARGE) says which one in its message.
      logger.warn('playlist failed after its answer started', { stream: stream.id, code: failure.code, reason: failure.message });
      res.destroy();
      return undefined;
    } finally {
      idle.stop();
      clearTimeout(deadline);
      unregister?.();
      res.off('close', onPlayerClose);
    }
  }

  return { serve };
}


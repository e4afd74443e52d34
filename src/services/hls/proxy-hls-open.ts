// Opening the upstream of a playlist request (SPEC §5.2, §5.3): the master over the stream's URL ring, a sealed
// variant at its own URL, and, when a variant fails or its stream has moved to another URL of the ring, the same
// variant (same position among the playlist URIs) of that URL's master.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { appendQuery } from '../../core/m3u8/blocking-reload.ts';
import { rewritePlaylist } from '../../core/m3u8/rewrite.ts';
import { type StreamRecord, urlRing } from '../../core/registry.ts';
import { createDecoder, DEFLATE_SNIFF_BYTES, parseContentEncoding, PLAYLIST_ACCEPT_ENCODING } from '../../core/upstream/decode.ts';
import { buildUpstreamHeaders, first } from '../../core/upstream/headers.ts';
import { peekBody } from '../../core/upstream/peek.ts';
import { AppError, UpstreamError, UpstreamStatusError, UpstreamTimeoutError } from '../../errors.ts';
import { ringOrder } from '../upstream/failover.ts';
import type { HlsDeps } from './hls-context.ts';
import type { AcceptResponse, OpenedUpstream } from '../upstream/upstream-open.ts';
import type { VariantPlace } from './hls-variants.ts';
import { RING_MEDIA } from './segment-book.ts';

export interface PlaylistOpenRequest {
  stream: StreamRecord;
  clientId: string;
  /** A sealed variant URL, or the token-checked `?url=`; undefined: the stream's ring. */
  url?: string;
  /** True when `url` came from a p/ token, so it may fail over to its counterpart in another master. */
  variant: boolean;
  /** LL-HLS delivery directives for the origin, already encoded ('' for none). */
  directives: string;
}

/** An opened playlist and, when known, the variant place it is (so that its segments can fail over, segment-book.ts). */
export interface OpenedPlaylist extends OpenedUpstream {
  place?: VariantPlace;
}

/** A playlist the proxy reads itself (a master for its variant URLs, a media playlist for a segment's counterpart). */
const MAX_READ_PLAYLIST_BYTES = 8 * 1024 * 1024;

const acceptPlaylist: AcceptResponse = (r) => (r.statusCode === 200 ? true : new UpstreamStatusError(r.statusCode ?? 0));

export function createPlaylistOpener(deps: HlsDeps) {
  const { config, registry, streams, stats, openFromRing, variants } = deps;

  const headersFor = (stream: StreamRecord): Record<string, string> =>
    buildUpstreamHeaders({ userAgent: streams.userAgentOf(stream), custom: stream.headers, forwarded: { 'accept-encoding': PLAYLIST_ACCEPT_ENCODING } });

  const openOne = (stream: StreamRecord, url: string, signal: AbortSignal): Promise<OpenedUpstream> =>
    openFromRing({ stream, ring: [url], startIndex: 0, headers: headersFor(stream), signal, accept: acceptPlaylist, rounds: 1 });

  function recordFailover(p: PlaylistOpenRequest, from: number, to: number): void {
    if (streams.recordFailover(p.stream, from, to, 'upstream_error', p.clientId)) stats.recordFailover();
  }

  async function openMaster(p: PlaylistOpenRequest, signal: AbortSignal): Promise<OpenedPlaylist> {
    const { stream } = p;
    const fixed = p.url !== undefined;
    const ring = (fixed ? [p.url as string] : urlRing(stream)).map((u) => appendQuery(u, p.directives));
    const startIndex = fixed ? 0 : Math.min(stream.currentIndex, ring.length - 1);
    let opened: OpenedUpstream;
    try {
      // One round: a player re-asks for a playlist within seconds, so waiting out back-offs here helps no one.
      opened = await openFromRing({ stream, ring, startIndex, headers: headersFor(stream), signal, accept: acceptPlaylist, rounds: 1 });
    } catch (err) {
      if (!signal.aborted && !fixed && registry.getStream(stream.id) === stream) streams.recordFailure(stream, (err as AppError).message, p.clientId);
      throw err;
    }
    // From where the walk started, as for /stream: a manual failover meanwhile is not undone by it.
    if (!fixed && opened.index !== opened.from) recordFailover(p, opened.from, opened.index);
    return fixed ? opened : { ...opened, place: { ring: opened.index, ordinal: RING_MEDIA } };
  }

  /** A whole playlist body, decoded, bounded in time and size: for playlists read by the proxy itself. */
  async function fetchPlaylist(stream: StreamRecord, url: string, signal: AbortSignal): Promise<{ body: Buffer; finalUrl: string }> {
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(config.readTimeoutMs)]);
    const opened = await openOne(stream, url, bounded);
    const encodings = parseContentEncoding(first(opened.res.headers['content-encoding']));
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > MAX_READ_PLAYLIST_BYTES) return callback(new UpstreamError('Upstream playlist is too large'));
        chunks.push(chunk);
        callback();
      },
    });
    try {
      // Bounded from the headers on too: a master that answers and then stalls held the player and its socket for good.
      const peeked = await peekBody(opened.res, (h) => h.length >= DEFLATE_SNIFF_BYTES, undefined, { signal: bounded });
      await pipeline([peeked.body, ...encodings.reverse().map((e) => createDecoder(e, peeked.head)), collect], { signal: bounded });
    } catch (err) {
      opened.res.destroy();
      if (bounded.aborted && !signal.aborted) throw new UpstreamTimeoutError('Upstream playlist did not arrive in time', { cause: err });
      throw err;
    }
    return { body: Buffer.concat(chunks, size), finalUrl: opened.finalUrl };
  }

  /** The playlist URIs of the master at ring position `index`, fetched now; a media playlist has none. */
  async function masterUris(stream: StreamRecord, index: number, signal: AbortSignal): Promise<string[]> {
    const url = urlRing(stream)[index] ?? stream.url;
    const { body, finalUrl } = await fetchPlaylist(stream, url, signal);
    const uris: string[] = [];
    const defines = new Map<string, string>();
    rewritePlaylist(body, {
      baseUrl: finalUrl,
      queryUrl: url,
      proxify: (_kind, u) => u,
      onPlaylistUri: (u) => uris.push(u),
      onDefine: (name, value) => defines.set(name, value),
    });
    variants.recordMaster(stream, index, uris, defines);
    return uris;
  }

  /** Opens the counterpart of a variant in the master at ring position `index`; undefined when that fails too. */
  async function openCounterpart(p: PlaylistOpenRequest, place: VariantPlace, index: number, signal: AbortSignal): Promise<OpenedPlaylist | undefined> {
    const { stream } = p;
    try {
      const uris = await masterUris(stream, index, signal);
      // A media playlist in place of a master: it is the only variant there is.
      const candidate = uris.length === 0 ? urlRing(stream)[index] : uris[place.ordinal];
      if (candidate === undefined) return undefined;
      const opened = await openOne(stream, appendQuery(candidate, p.directives), signal);
      variants.replace(stream, p.url ?? '', candidate);
      return { ...opened, index, place: { ring: index, ordinal: place.ordinal } };
    } catch (err) {
      // An upstream failure (counted by the ring opener): this URL of the ring cannot carry the variant now.
      if (signal.aborted || !(err instanceof AppError)) throw err;
      return undefined;
    }
  }

  async function openVariant(p: PlaylistOpenRequest, signal: AbortSignal): Promise<OpenedPlaylist> {
    const { stream } = p;
    const original = p.url ?? stream.url;
    const effective = variants.current(stream, original);
    const place = variants.placeOf(stream, effective);
    const ringLength = urlRing(stream).length;
    // The stream moved on (a failover, manual or after an error): its players' variants follow it.
    if (place !== undefined && ringLength > 1 && place.ring !== stream.currentIndex && stream.currentIndex < ringLength) {
      const moved = await openCounterpart(p, place, stream.currentIndex, signal);
      if (moved) return moved;
    }
    try {
      return { ...(await openOne(stream, appendQuery(effective, p.directives), signal)), place };
    } catch (err) {
      if (signal.aborted || place === undefined) throw err;
      for (const index of ringOrder(ringLength, place.ring + 1)) {
        if (index === place.ring) continue;
        const moved = await openCounterpart(p, place, index, signal);
        if (!moved) continue;
        if (stream.currentIndex !== index) recordFailover(p, stream.currentIndex, index);
        return moved;
      }
      const resolved = await counterpartViaResolver(p, place, signal);
      if (resolved) return resolved;
      throw err;
    }
  }

  /**
   * No URL of the ring carries the variant: a stream with a failover resolver asks it through the master walk (which
   * records the failover), then looks the same variant up in the master the resolver named.
   */
  async function counterpartViaResolver(p: PlaylistOpenRequest, place: VariantPlace, signal: AbortSignal): Promise<OpenedUpstream | undefined> {
    if (p.stream.resolverUrl === null) return undefined;
    let master: OpenedUpstream;
    try {
      master = await openMaster({ ...p, url: undefined, variant: false, directives: '' }, signal);
    } catch (err) {
      if (signal.aborted || !(err instanceof AppError)) throw err;
      return undefined; // counted and logged by the ring opener
    }
    // Only its index is wanted here: openCounterpart reads that master's variant list itself.
    master.res.destroy();
    return master.index === place.ring ? undefined : openCounterpart(p, place, master.index, signal);
  }

  return {
    open: (p: PlaylistOpenRequest, signal: AbortSignal): Promise<OpenedPlaylist> => (p.variant ? openVariant(p, signal) : openMaster(p, signal)),
    fetchPlaylist,
    masterUris,
  };
}

// Segment failover (issue 15, SPEC §5.3): a VOD player never reloads its playlist, so a segment URL must fail over
// by itself. When a segment's upstream fails before its first byte (connect error, 5xx, timeout), the same segment
// (same media sequence number, else the same position) is fetched from the same variant of the next URL of the ring.
// After a switch, the segments of the old URL go to the new one first, as variant playlists do (proxy-hls-open.ts).
// A segment cut mid-body is resumed at the same byte from the same segment of the next URL when that copy has the
// same length (issue 24.6), as a VOD file is (SPEC §5.1); with one URL only, from the same URL.
import type { IncomingMessage } from 'node:http';
import { urlRing, type StreamRecord } from '../../core/registry.ts';
import { parseContentRange, resumeRange, first } from '../../core/upstream/headers.ts';
import { AppError, UpstreamError, UpstreamStatusError, UpstreamTimeoutError } from '../../errors.ts';
import { ringOrder } from '../upstream/failover.ts';
import type { AcceptResponse, OpenedUpstream } from '../upstream/upstream-open.ts';
import type { HlsDeps } from './hls-context.ts';
import { findCounterpart, indexMediaPlaylist } from './media-playlist.ts';
import type { createPlaylistOpener } from './proxy-hls-open.ts';
import { RING_MEDIA, type SegmentOrigin } from './segment-book.ts';

export interface SegmentOpenRequest {
  stream: StreamRecord;
  clientId: string;
  /** The upstream URL the player's token names. */
  url: string;
  headers: Record<string, string>;
  accept: AcceptResponse;
  signal: AbortSignal;
}

/** The bytes from..to (inclusive) of a body of `total` bytes. */
export interface ByteSpan {
  from: number;
  to: number;
  total: number;
}

/** OpenedUpstream.index of a segment served by the URL its token names. */
export const DIRECT = -1;

type PlaylistReader = Pick<ReturnType<typeof createPlaylistOpener>, 'fetchPlaylist' | 'masterUris'>;

/** Failures that say "this URL cannot serve now", as opposed to "this segment does not exist" (404, 403...). */
export function isFailoverWorthy(err: unknown): boolean {
  if (err instanceof UpstreamStatusError) return err.upstreamStatus >= 500 || err.upstreamStatus === 408 || err.upstreamStatus === 429;
  return err instanceof UpstreamTimeoutError || err instanceof UpstreamError;
}

export function createSegmentFailover(deps: Pick<HlsDeps, 'openFromRing' | 'streams' | 'stats' | 'book'>, playlists: PlaylistReader) {
  const { openFromRing, streams, stats, book } = deps;

  /** The URL of the variant at `ordinal` in the ring URL `ring`: the ring URL itself when it is a media playlist. */
  async function variantUrlAt(stream: StreamRecord, ring: number, ordinal: number, signal: AbortSignal): Promise<string | undefined> {
    if (ordinal === RING_MEDIA) return urlRing(stream)[ring];
    const uris = await playlists.masterUris(stream, ring, signal);
    return uris.length === 0 ? urlRing(stream)[ring] : uris[ordinal];
  }

  /**
   * The upstream URL of the segment at `origin` in the copy of its variant at ring position `ring`; undefined when
   * that copy has no such segment. A VOD copy is read once; a live one again when it does not hold the segment yet.
   * Rejects with an AppError when that copy cannot be fetched.
   */
  async function findCounterpartSegment(stream: StreamRecord, origin: SegmentOrigin, ring: number, signal: AbortSignal): Promise<string | undefined> {
    const place = { ring, ordinal: origin.place.ordinal };
    const page = book.page(stream, place);
    if (page) {
      const { index } = page;
      const byMsn = origin.msn >= index.mediaSequence ? index.segments[origin.msn - index.mediaSequence] : undefined;
      if (byMsn !== undefined) return byMsn;
      if (index.ended) return findCounterpart(index, origin);
    }
    const url = page?.url ?? (await variantUrlAt(stream, ring, origin.place.ordinal, signal));
    if (url === undefined) return undefined;
    const { body, finalUrl } = await playlists.fetchPlaylist(stream, url, signal);
    book.record(stream, place, finalUrl, body);
    const index = book.page(stream, place)?.index ?? indexMediaPlaylist(body.toString('utf8'), finalUrl);
    return findCounterpart(index, origin);
  }

  /** Opens the counterpart at ring position `ring`; undefined when there is none or it fails too. */
  async function openCounterpart(r: SegmentOpenRequest, origin: SegmentOrigin, ring: number): Promise<OpenedUpstream | undefined> {
    try {
      const url = await findCounterpartSegment(r.stream, origin, ring, r.signal);
      if (url === undefined) return undefined;
      const opened = await openOne(r, url);
      return { ...opened, index: ring };
    } catch (err) {
      // An upstream failure (counted by the ring opener): this URL of the ring cannot carry the segment now.
      if (r.signal.aborted || !(err instanceof AppError)) throw err;
      return undefined;
    }
  }

  const openOne = (r: SegmentOpenRequest, url: string): Promise<OpenedUpstream> =>
    openFromRing({ stream: r.stream, ring: [url], startIndex: 0, headers: r.headers, signal: r.signal, accept: r.accept, rounds: 1 });

  /**
   * Opens a segment's upstream, failing over to its counterparts as the file header says. The answer's `index` is the
   * ring position of the copy that served, or DIRECT for the token's own URL (located only if it breaks).
   */
  async function openSegment(r: SegmentOpenRequest): Promise<OpenedUpstream> {
    const { stream } = r;
    const ringLength = urlRing(stream).length;
    if (ringLength < 2) return { ...(await openOne(r, r.url)), index: DIRECT };
    // Looked up only when needed: most segment requests of a stream that never failed over go straight through.
    let origin: SegmentOrigin | undefined | null = null;
    const where = (): SegmentOrigin | undefined => (origin === null ? (origin = book.locate(stream, r.url)) : origin);
    let tried = -1;
    if ((stream.failoverCount > 0 || stream.currentIndex !== 0) && stream.currentIndex < ringLength) {
      const o = where();
      if (o !== undefined && o.place.ring !== stream.currentIndex) {
        tried = stream.currentIndex;
        const moved = await openCounterpart(r, o, tried);
        if (moved) return moved;
      }
    }
    try {
      return { ...(await openOne(r, r.url)), index: DIRECT };
    } catch (err) {
      if (r.signal.aborted || !isFailoverWorthy(err)) throw err;
      const o = where();
      if (o === undefined) throw err;
      for (const index of ringOrder(ringLength, o.place.ring + 1)) {
        if (index === o.place.ring || index === tried) continue;
        const moved = await openCounterpart(r, o, index);
        if (!moved) continue;
        if (stream.currentIndex !== index) {
          if (streams.recordFailover(stream, stream.currentIndex, index, 'upstream_error', r.clientId)) stats.recordFailover();
        }
        return moved;
      }
      throw err;
    }
  }

  /**
   * Bytes `want.from`..`want.to` of a segment of `want.total` bytes that broke mid-body, from the ring URL after the
   * one that served it (`served`), in ring order: only a 206 of exactly that range of a copy of the same total length
   * is taken. Undefined when no copy can give it.
   */
  async function resumeSegment(r: SegmentOpenRequest, served: number, want: ByteSpan): Promise<IncomingMessage | undefined> {
    const { stream } = r;
    const ringLength = urlRing(stream).length;
    const headers = { ...r.headers, range: resumeRange(want.from, want.to, want.total) };
    const accept: AcceptResponse = (res) => {
      const range = parseContentRange(first(res.headers['content-range']));
      if (res.statusCode === 206 && range?.start === want.from && range.end === want.to && range.total === want.total) return true;
      return new UpstreamStatusError(res.statusCode ?? 0, 'Upstream copy cannot resume the segment at the needed byte');
    };
    const resume = { ...r, headers, accept };
    if (ringLength < 2) {
      try {
        return (await openOne(resume, r.url)).res;
      } catch (err) {
        if (r.signal.aborted || !(err instanceof AppError)) throw err;
        return undefined;
      }
    }
    const origin = book.locate(stream, r.url);
    if (origin === undefined) return undefined;
    const from = served === DIRECT ? origin.place.ring : served;
    for (const index of ringOrder(ringLength, from + 1)) {
      if (index === from) continue;
      const moved = await openCounterpart(resume, origin, index);
      if (!moved) continue;
      if (stream.currentIndex !== index) {
        if (streams.recordFailover(stream, stream.currentIndex, index, 'upstream_error', r.clientId)) stats.recordFailover();
      }
      return moved.res;
    }
    return undefined;
  }

  return { openSegment, findCounterpartSegment, resumeSegment };
}

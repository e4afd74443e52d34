// Where the segments the proxy handed out came from: the last upstream body of every media playlist served, by
// stream and variant place, so that a failing segment can be found again (same media sequence number, same variant)
// in another URL's copy of the playlist (issue 15). Bodies are kept as fetched and indexed only when a failover asks;
// the book is bounded by bytes, dropping the least recently recorded playlist first. Losing a page costs only the
// failover of that playlist's segments.
import type { StreamRecord } from '../../core/registry.ts';
import type { VariantPlace } from './hls-variants.ts';
import { indexMediaPlaylist, type MediaPlaylistIndex, type SegmentPosition } from './media-playlist.ts';

/** The `ordinal` of a place whose ring URL is itself the media playlist (a stream with no master). */
export const RING_MEDIA = -1;

/** A segment's variant (its place in the stream's ring and master) and its position in that variant. */
export interface SegmentOrigin extends SegmentPosition {
  place: VariantPlace;
}

/** One media playlist as last fetched. */
export interface PlaylistPage {
  place: VariantPlace;
  /** The playlist's final URL (after redirects): the base of its URIs, and what to fetch to refresh it. */
  url: string;
  fetchedAtMs: number;
  index: MediaPlaylistIndex;
}

interface Entry {
  stream: StreamRecord;
  place: VariantPlace;
  url: string;
  body: Buffer;
  fetchedAtMs: number;
  /** Built on the first lookup: a body is parsed only when a failover needs it. */
  index?: MediaPlaylistIndex;
  positions?: Map<string, number>;
  /** Bytes charged against the bound: the body, plus the index once built. */
  bytes: number;
}

export const DEFAULT_SEGMENT_BOOK_BYTES = 32 * 1024 * 1024;
/** An index entry holds a URL string and a map slot: charged at this much per segment beyond the URL. */
const INDEX_BYTES_PER_SEGMENT = 64;

export type SegmentBook = ReturnType<typeof createSegmentBook>;

export function createSegmentBook(opts: { maxBytes?: number; now?: () => number } = {}) {
  const maxBytes = opts.maxBytes ?? DEFAULT_SEGMENT_BOOK_BYTES;
  const now = opts.now ?? Date.now;
  const byStream = new WeakMap<StreamRecord, Map<string, Entry>>();
  // Every entry, least recently recorded first: the bound drops from the front.
  const recency = new Set<Entry>();
  let bytes = 0;

  const keyOf = (place: VariantPlace): string => `${place.ring}:${place.ordinal}`;

  function drop(e: Entry): void {
    if (!recency.delete(e)) return;
    bytes -= e.bytes;
    const pages = byStream.get(e.stream);
    if (pages?.get(keyOf(e.place)) === e) pages.delete(keyOf(e.place));
  }

  function charge(e: Entry, more: number): void {
    e.bytes += more;
    bytes += more;
    for (const oldest of recency) {
      if (bytes <= maxBytes) break;
      drop(oldest);
    }
  }

  function indexed(e: Entry): MediaPlaylistIndex {
    if (e.index === undefined) {
      e.index = indexMediaPlaylist(e.body.toString('utf8'), e.url);
      if (recency.has(e)) charge(e, e.index.segments.reduce((n, u) => n + u.length * 2 + INDEX_BYTES_PER_SEGMENT, 0));
    }
    return e.index;
  }

  return {
    /** Notes the upstream body of the media playlist at `place`, as it was just served. */
    record(stream: StreamRecord, place: VariantPlace, url: string, body: Buffer): void {
      let pages = byStream.get(stream);
      if (!pages) {
        pages = new Map();
        byStream.set(stream, pages);
      }
      const old = pages.get(keyOf(place));
      if (old) drop(old);
      // A single playlist bigger than a quarter of the book would flush everything else for little gain.
      if (body.length > maxBytes / 4) return;
      const e: Entry = { stream, place, url, body, fetchedAtMs: now(), bytes: 0 };
      pages.set(keyOf(place), e);
      recency.add(e);
      charge(e, body.length);
    },

    /** Where `segmentUrl` came from, among the playlists of `stream` still in the book. */
    locate(stream: StreamRecord, segmentUrl: string): SegmentOrigin | undefined {
      for (const e of byStream.get(stream)?.values() ?? []) {
        const index = indexed(e);
        e.positions ??= new Map(index.segments.map((u, i) => [u, i]));
        const position = e.positions.get(segmentUrl);
        if (position !== undefined) return { place: e.place, msn: index.mediaSequence + position, position };
      }
      return undefined;
    },

    /** The last fetch of the playlist at `place`, indexed; undefined when it is not (or no longer) in the book. */
    page(stream: StreamRecord, place: VariantPlace): PlaylistPage | undefined {
      const e = byStream.get(stream)?.get(keyOf(place));
      if (!e) return undefined;
      return { place: e.place, url: e.url, fetchedAtMs: e.fetchedAtMs, index: indexed(e) };
    },

    /** Bytes held now, for tests. */
    bytes: (): number => bytes,
  };
}

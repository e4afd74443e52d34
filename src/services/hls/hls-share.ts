// What the viewers of one HLS stream share (issue 10 item 7, SPEC §5.5): in-flight upstream fetches of playlists
// and segments, recent live segments, and media playlists for half a target duration. Only upstream bytes are
// shared; every viewer's playlist is still rewritten with its own tokens.
import type { StreamRecord } from '../../core/registry.ts';
import type { VariantPlace } from './hls-variants.ts';
import { createByteCache, DEFAULT_SEGMENT_CACHE_BYTES } from './segment-cache.ts';
import type { SegmentFanout } from './segment-fanout.ts';
import { createSingleFlight } from './single-flight.ts';

/** A playlist's upstream answer, decoded, as the first viewer's fetch left it. */
export interface PlaylistAnswer {
  body: Buffer;
  finalUrl: string;
  /** The ring position it came from, and its variant place when known (segment-book.ts). */
  index: number;
  place: VariantPlace | undefined;
  /** The viewer whose request fetched it: its own next reload goes upstream (it asks again for a reason). */
  clientId: string;
}

/** A whole upstream segment answer (200), kept for the viewers after the first. */
export interface CachedSegment {
  /** The headers the player gets (already mirrored from the upstream's). */
  headers: Record<string, string>;
  body: Buffer;
}

/** Playlists are small; this bounds many streams' worth of them. */
const PLAYLIST_CACHE_BYTES = 16 * 1024 * 1024;
/** Without a target duration to go by (RFC 8216 §4.3.3.1), a cached segment lives this long. */
export const DEFAULT_SEGMENT_TTL_MS = 30_000;
/** A segment stays cached for this many target durations: long enough for every viewer of a live window. */
export const SEGMENT_TTL_TARGETS = 3;

export type HlsShare = ReturnType<typeof createHlsShare>;

export function createHlsShare(opts: { segmentCacheBytes?: number; now?: () => number } = {}) {
  const now = opts.now;
  const segmentCacheBytes = opts.segmentCacheBytes ?? DEFAULT_SEGMENT_CACHE_BYTES;
  return {
    playlists: createSingleFlight<PlaylistAnswer>(),
    playlistCache: createByteCache<PlaylistAnswer>({ maxBytes: PLAYLIST_CACHE_BYTES, ...(now ? { now } : {}) }),
    segments: createSingleFlight<SegmentFanout>(),
    segmentCache: createByteCache<CachedSegment>({ maxBytes: segmentCacheBytes, ...(now ? { now } : {}) }),
    /** Last EXT-X-TARGETDURATION seen per stream, in ms: how long its segments stay cached. */
    targetMs: new WeakMap<StreamRecord, number>(),
  };
}

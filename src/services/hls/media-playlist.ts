// What a media playlist says about its segments (RFC 8216 §4.3.3): their absolute URLs in order, the media sequence
// number of the first one, the target duration and whether the list has ended. Pure; used to find a segment's
// counterpart in another URL's copy of the same variant, and to time how long an upstream answer may be reused.

export interface MediaPlaylistIndex {
  /** EXT-X-MEDIA-SEQUENCE (§4.3.3.2): the media sequence number of `segments[0]`; 0 when absent. */
  mediaSequence: number;
  /** EXT-X-TARGETDURATION (§4.3.3.1) in seconds, when present. */
  targetDurationS: number | undefined;
  /** EXT-X-ENDLIST (§4.3.3.4): no segment will be added (VOD, or a live event that ended). */
  ended: boolean;
  /** Absolute URLs of the media segments (the URI lines), in playlist order; empty for a master playlist. */
  segments: string[];
}

/** Where a segment sits in its playlist: its media sequence number and its position (0-based) in the list. */
export interface SegmentPosition {
  msn: number;
  position: number;
}

const MEDIA_SEQUENCE = '#EXT-X-MEDIA-SEQUENCE:';
const TARGET_DURATION = '#EXT-X-TARGETDURATION:';

/** Reads a playlist's segments. URIs resolve as the rewriter resolves them (RFC 3986 against `baseUrl`). */
export function indexMediaPlaylist(text: string, baseUrl: string): MediaPlaylistIndex {
  const out: MediaPlaylistIndex = { mediaSequence: 0, targetDurationS: undefined, ended: false, segments: [] };
  let variantNext = false;
  // rfc8216bis §4.4.5.2: a delta update leaves out its first SKIPPED-SEGMENTS segments; the first one listed comes after.
  let skipped = 0;
  // The rewriter's line endings: LF, CRLF and a lone CR (lines.ts).
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.charCodeAt(0) === 0x23) {
      if (line.startsWith(MEDIA_SEQUENCE)) out.mediaSequence = toInt(line.slice(MEDIA_SEQUENCE.length)) ?? 0;
      else if (line.startsWith(TARGET_DURATION)) out.targetDurationS = toInt(line.slice(TARGET_DURATION.length));
      else if (line === '#EXT-X-ENDLIST') out.ended = true;
      else if (line.startsWith('#EXT-X-STREAM-INF')) variantNext = true;
      else if (line.startsWith('#EXT-X-SKIP:')) skipped = toInt(/SKIPPED-SEGMENTS=(\d+)/.exec(line)?.[1] ?? '0') ?? 0;
      continue;
    }
    // §4.3.4.2: the URI after EXT-X-STREAM-INF is a variant playlist, not a segment; a master has no segments.
    if (variantNext) {
      variantNext = false;
      continue;
    }
    const url = resolve(line, baseUrl);
    if (url !== undefined) out.segments.push(url);
  }
  out.mediaSequence += skipped;
  return out;
}

/**
 * The counterpart of a segment in another copy of its playlist: the segment with the same media sequence number,
 * or, when that copy numbers its segments differently (another encoder), the one at the same position.
 */
export function findCounterpart(index: MediaPlaylistIndex, at: SegmentPosition): string | undefined {
  const byMsn = index.segments[at.msn - index.mediaSequence];
  if (at.msn >= index.mediaSequence && byMsn !== undefined) return byMsn;
  return index.segments[at.position];
}

/** The EXT-X-TARGETDURATION of a playlist body, read from its first lines only (it must precede the segments). */
export function readTargetDurationS(body: Buffer): number | undefined {
  const head = body.subarray(0, 4096).toString('latin1');
  const at = head.indexOf(TARGET_DURATION);
  if (at === -1) return undefined;
  const rest = head.slice(at + TARGET_DURATION.length);
  const end = rest.search(/[\r\n]/);
  return toInt(end === -1 ? rest : rest.slice(0, end));
}

function toInt(value: string): number | undefined {
  const n = Number.parseInt(value.trim(), 10);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function resolve(ref: string, baseUrl: string): string | undefined {
  if (!URL.canParse(ref, baseUrl)) return undefined;
  const url = new URL(ref, baseUrl);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
}

// Content-Encoding of upstream playlists (SPEC §5.2): gzip, deflate (zlib or raw, as servers differ) and br.
// Only playlists are decoded; media is asked for with `identity` (issue 12.1), and when an origin compresses it
// anyway its bytes pass through untouched with Content-Encoding mirrored (headers.ts), so the player decodes them.
import type { Transform } from 'node:stream';
import {
  brotliDecompressSync,
  constants,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  gunzipSync,
  inflateRawSync,
  inflateSync,
} from 'node:zlib';
import { UpstreamError } from '../../errors.ts';

/** What the proxy offers when it fetches a playlist. */
export const PLAYLIST_ACCEPT_ENCODING = 'gzip, deflate, br';

/**
 * What the proxy offers when it fetches media (segments, keys, init sections, parts, /stream): RFC 9110 §12.5.3 reads
 * a missing Accept-Encoding as "any coding is acceptable", and a CDN may then gzip a key or a segment.
 */
export const MEDIA_ACCEPT_ENCODING = 'identity';

/** Bytes needed to tell zlib-wrapped deflate from raw deflate. */
export const DEFLATE_SNIFF_BYTES = 2;

/** RFC 1950 §2.2: CM = 8 in the low nibble of CMF, and CMF*256 + FLG a multiple of 31. */
function isZlibHeader(head: Buffer): boolean {
  const cmf = head[0];
  const flg = head[1];
  return cmf !== undefined && flg !== undefined && (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
}

/** The encodings of a Content-Encoding header, in the order they were applied; [] for identity. */
export function parseContentEncoding(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '' && v !== 'identity');
}

/**
 * The decoder for one encoding, or throws UpstreamError (502) for one we cannot undo. `head` is the first bytes
 * of the encoded body, used only for deflate. Strict flushing: a truncated body is an error, never a short playlist.
 */
export function createDecoder(encoding: string, head: Buffer): Transform {
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return isZlibHeader(head) ? createInflate() : createInflateRaw();
    case 'br':
      return createBrotliDecompress();
    default:
      throw new UpstreamError('Upstream playlist uses an unsupported content encoding');
  }
}

/**
 * Decoded output of a head is capped (zlib then throws rather than truncate): a few KiB of input expand at most about
 * a thousandfold, and only the first KiB feeds the sniffer (core/sniff.ts).
 */
const HEAD_DECODE_MAX_BYTES = 8 * 1024 * 1024;
/** Encoded bytes decoded at most per coding: deflate expands at most ~1032:1, so 2 KiB stays far below the cap. */
const HEAD_DECODE_INPUT_BYTES = 2048;

/**
 * The first bytes of an encoded body, decoded from a copy so that the body itself stays untouched: sync flushing
 * gives whatever a truncated input decodes to. Undefined when an encoding is unknown or the bytes are corrupt
 * (then the caller cannot tell what the body is from its head).
 */
export function decodeHead(head: Buffer, encodings: readonly string[]): Buffer | undefined {
  let out = head;
  // Content-Encoding lists codings in the order they were applied: undo them from the last.
  for (let i = encodings.length - 1; i >= 0; i--) {
    // A prefix is enough (compressed text is shorter than its first KiB), and it bounds the output below the cap.
    out = out.subarray(0, HEAD_DECODE_INPUT_BYTES);
    const opts = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: HEAD_DECODE_MAX_BYTES };
    try {
      switch (encodings[i]) {
        case 'gzip':
        case 'x-gzip':
          out = gunzipSync(out, opts);
          break;
        case 'deflate':
          out = isZlibHeader(out) ? inflateSync(out, opts) : inflateRawSync(out, opts);
          break;
        case 'br':
          out = brotliDecompressSync(out, { finishFlush: constants.BROTLI_OPERATION_FLUSH, maxOutputLength: HEAD_DECODE_MAX_BYTES });
          break;
        default:
          return undefined;
      }
    } catch (err) {
      // Only the decompressor runs here: whatever it throws means corrupt input or more output than the cap. Its
      // codes are not one family (zlib's Z_*, ERR_BUFFER_TOO_LARGE, brotli's ERR__ERROR_FORMAT_*), and a body
      // labelled with an encoding it does not have (a misconfigured CDN) must not fail its request (issue 24).
      if (err instanceof Error) return undefined;
      throw err;
    }
  }
  return out;
}

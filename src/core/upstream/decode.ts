// Content-Encoding of upstream playlists (SPEC §5.2): gzip, deflate (zlib or raw, as servers differ) and br.
// Only playlists are decoded; media bytes are never asked for compressed and pass through untouched.
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import { UpstreamError } from '../../errors.ts';

/** What the proxy offers when it fetches a playlist. */
export const PLAYLIST_ACCEPT_ENCODING = 'gzip, deflate, br';

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

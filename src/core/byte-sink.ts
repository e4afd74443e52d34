// A growing output buffer that writers append to in place: the rewriter's output, into which a sealed URI is written
// as bytes rather than built as a string first (issue 12 item 7: a 20,000-segment playlist made 60,000 short strings).

/**
 * Bytes [0, at) of `buf` are written; room(n) makes sure n more fit (it may replace `buf`). A sink that holds copies
 * (copy()) writes them out in room(), which then moves `at`: read `at` after room(), never before.
 */
export interface ByteSink {
  buf: Buffer;
  at: number;
  room(bytes: number): void;
  /**
   * Appends bytes [start, end) of `src`, which must not change while the sink is in use; it may copy later. Bytes of
   * `src` from `end` up to `final` (default: its length) must not change either: the sink may compare what is written
   * next with them and copy them instead. Below `final` is what the source has written for good; a source that still
   * writes past it (a memo recording) must say so.
   */
  copy?(src: Buffer, start: number, end: number, final?: number): void;
}

/** Appends the bytes of an ASCII or binary (one char per byte) string; chars above 0xff must not occur. */
export function writeBinary(sink: ByteSink, text: string): void {
  const n = text.length;
  sink.room(n);
  const buf = sink.buf;
  let at = sink.at;
  // A loop beats a native write for the short strings this takes (a prefix, an extension).
  for (let i = 0; i < n; i++) buf[at++] = text.charCodeAt(i);
  sink.at = at;
}

const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 'latin1');
/** Every 12-bit value as its two base64url characters, the first in the low byte: half the lookups per 3 bytes. */
const PAIRS = new Uint16Array(4096);
for (let v = 0; v < 4096; v++) PAIRS[v] = ALPHABET[v >>> 6]! | (ALPHABET[v & 63]! << 8);

/** Characters base64url without padding gives for `n` bytes. */
export function base64urlChars(n: number): number {
  return Math.floor(n / 3) * 4 + [0, 2, 3][n % 3]!;
}

/**
 * Appends bytes [from, from + n) of `src` as base64url without padding (RFC 4648 §5), exactly what
 * `src.toString('base64url', from, from + n)` gives, but with no string made.
 */
export function writeBase64url(sink: ByteSink, src: Uint8Array, from: number, n: number): void {
  sink.room(base64urlChars(n));
  const dst = sink.buf;
  let at = sink.at;
  const end = from + n;
  let i = from;
  for (; i + 3 <= end; i += 3) {
    const v = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    const hi = PAIRS[v >>> 12]!;
    const lo = PAIRS[v & 4095]!;
    dst[at] = hi;
    dst[at + 1] = hi >>> 8;
    dst[at + 2] = lo;
    dst[at + 3] = lo >>> 8;
    at += 4;
  }
  if (end - i === 1) {
    const v = src[i]!;
    dst[at++] = ALPHABET[v >>> 2]!;
    dst[at++] = ALPHABET[(v & 3) << 4]!;
  } else if (end - i === 2) {
    const v = (src[i]! << 8) | src[i + 1]!;
    dst[at++] = ALPHABET[v >>> 10]!;
    dst[at++] = ALPHABET[(v >>> 4) & 63]!;
    dst[at++] = ALPHABET[(v & 15) << 2]!;
  }
  sink.at = at;
}

/**
 * `buf` when `bytes` more fit after its first `used`, else a new Buffer (at least `min` bytes, at least twice as big)
 * holding those `used` bytes: growth by doubling, so that appending costs amortised constant copies.
 */
export function grownBuffer(buf: Buffer, used: number, bytes: number, min: number): Buffer {
  if (used + bytes <= buf.length) return buf;
  const next = Buffer.allocUnsafe(Math.max(min, 2 * buf.length, used + bytes));
  buf.copy(next, 0, 0, used);
  return next;
}

/** A ByteSink on its own growing Buffer (start size `initial`), for callers and tests that want the bytes after. */
class GrowingSink implements ByteSink {
  buf: Buffer;
  at = 0;

  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  room(bytes: number): void {
    this.buf = grownBuffer(this.buf, this.at, bytes, 0);
  }
}

export function createByteSink(initial = 1024): ByteSink {
  return new GrowingSink(initial);
}

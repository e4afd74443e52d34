// The rewriter's output: lines appended into one growing Buffer, which a sealed URI can also be written into directly.
//
// A reload mostly repeats the answer before it, which the rewrite memo keeps as bytes with the lines between its URIs.
// Bytes copied from such a buffer are not copied at once: the copy is held, and what is written next is compared
// with what followed in that buffer. While they agree the held copy just grows, so a reloaded run of EXTINF lines and
// remembered URIs becomes one copy rather than a copy per URI (issue 12 item 7).
import { grownBuffer, type ByteSink } from '../byte-sink.ts';
import type { LineEnding } from './lines.ts';

/** Shorter strings are copied by a loop; a native write costs more than that below this length. */
const LOOP_CHARS = 48;

export interface Output extends ByteSink {
  /**
   * Makes room for what one input chunk may become, at once rather than by doublings: proxy URIs are longer than
   * the references they replace (a 6-byte `seg/1.ts` line becomes a ~130-byte token URI). Sized by how much the
   * chunks so far grew, since the rewrite memo keeps the buffer, slack included. Capped: beyond it, doubling.
   */
  reserve(inputBytes: number): void;
  /** Appends a binary string (one char per byte), or with `utf8` a string to encode. */
  text(text: string, utf8: boolean): void;
  /** Appends chars [start, end) of a binary string. */
  range(text: string, start: number, end: number): void;
  eol(eol: LineEnding): void;
  /** Appends bytes [start, end) of `src`, which must not change until take(), nor those up to `final` (ByteSink). */
  copy(src: Buffer, start: number, end: number, final?: number): void;
  /** The bytes so far, handed over: the next line starts a new Buffer, so they are never overwritten. */
  take(): Buffer | undefined;
}

/**
 * Output bytes written line by line into one growing Buffer: a string of all the lines, built by `+=`, is a rope of
 * tens of thousands of pieces that Buffer.from() must flatten, which cost more than the rewriting (issue 12 item 7).
 * A class, so that its methods are the same functions in every answer (closures per answer kept V8 deoptimising).
 */
class RewriteOutput implements Output {
  buf: Buffer = Buffer.alloc(0);
  at = 0;
  /** Input bytes of the chunks before the current one, of the current one, and output bytes handed out by take(). */
  private seenIn = 0;
  private chunkIn = 0;
  private taken = 0;
  /** The held copy: bytes [heldStart, heldEnd) of `held`, not yet in `buf`. */
  private held: Buffer | undefined;
  private heldStart = 0;
  private heldEnd = 0;
  /** Bytes of `held` that will not change: the held copy may go on over them, never past them. */
  private heldFinal = 0;

  room(bytes: number): void {
    // A writer that writes into `buf` itself goes after what is held.
    this.release();
    this.grow(bytes);
  }

  reserve(inputBytes: number): void {
    // 8× for the first chunk (a playlist of short references grows about 6×), then the growth so far and a margin.
    this.release();
    this.seenIn += this.chunkIn;
    this.chunkIn = inputBytes;
    const growth = this.seenIn === 0 ? 8 : (1.125 * (this.taken + this.at)) / this.seenIn;
    this.grow(Math.min(Math.ceil(inputBytes * growth) + 1024, 4 * 1024 * 1024));
  }

  text(text: string, utf8: boolean): void {
    const n = text.length;
    if (!utf8 && n <= LOOP_CHARS) {
      this.range(text, 0, n);
      return;
    }
    this.release();
    this.grow(utf8 ? 3 * n : n);
    this.at += this.buf.write(text, this.at, utf8 ? 'utf8' : 'latin1');
  }

  range(text: string, start: number, end: number): void {
    if (this.held !== undefined) {
      if (this.follows(this.held, text, start, end)) return;
      this.release();
    }
    this.grow(end - start);
    const buf = this.buf;
    let at = this.at;
    for (let i = start; i < end; i++) buf[at++] = text.charCodeAt(i);
    this.at = at;
  }

  eol(eol: LineEnding): void {
    if (eol !== '') this.range(eol, 0, eol.length);
  }

  copy(src: Buffer, start: number, end: number, final = src.length): void {
    if (this.held === src && start === this.heldEnd) {
      this.heldEnd = end;
      this.heldFinal = Math.max(this.heldFinal, final);
      return;
    }
    this.release();
    this.held = src;
    this.heldStart = start;
    this.heldEnd = end;
    this.heldFinal = final;
  }

  take(): Buffer | undefined {
    this.release();
    if (this.at === 0) return undefined;
    const bytes = this.buf.subarray(0, this.at);
    this.taken += this.at;
    this.buf = Buffer.alloc(0);
    this.at = 0;
    return bytes;
  }

  private grow(bytes: number): void {
    this.buf = grownBuffer(this.buf, this.at, bytes, 64 * 1024);
  }

  private release(): void {
    const held = this.held;
    if (held === undefined) return;
    const n = this.heldEnd - this.heldStart;
    this.grow(n);
    held.copy(this.buf, this.at, this.heldStart, this.heldEnd);
    this.at += n;
    this.held = undefined;
  }

  /** Whether the held copy's buffer goes on with chars [start, end) of `text`; if so, the held copy takes them. */
  private follows(src: Buffer, text: string, start: number, end: number): boolean {
    const n = end - start;
    const from = this.heldEnd;
    // Only over bytes that stay as they are until take(): what this very output has written (a URI repeated within
    // one answer), or what the source said is final. Past that, bytes that match now may be overwritten before the
    // copy is made: a memo still recording writes its next URIs there (seen once in CI as a URI in an EXTINF line's place).
    if (from + n > (src === this.buf ? this.at : this.heldFinal)) return false;
    for (let i = 0; i < n; i++) if (src[from + i] !== text.charCodeAt(start + i)) return false;
    this.heldEnd = from + n;
    return true;
  }
}

export function createOutput(): Output {
  return new RewriteOutput();
}

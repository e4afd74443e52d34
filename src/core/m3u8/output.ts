// The rewriter's output: lines appended into one growing Buffer, which a sealed URI can also be written into directly.
//
// A reload mostly repeats the answer before it, which the rewrite memo keeps as bytes with the lines between its URIs.
// Bytes copied from such a buffer are not copied at once: the copy is held, and what is written next is compared
// with what followed in that buffer. While they agree the held copy just grows, so a reloaded run of EXTINF lines and
// remembered URIs becomes one copy rather than a copy per URI (issue 12 item 7).
import type { ByteSink } from '../byte-sink.ts';
import type { LineEnding } from './lines.ts';

/** Shorter strings are copied by a loop; a native write costs more than that below this length. */
const LOOP_CHARS = 48;

export interface Output extends ByteSink {
  /**
   * Makes room for what one input chunk may become, at once rather than by doublings: proxy URIs are longer than
   * the references they replace (a 6-byte `seg/1.ts` line becomes a ~130-byte token URI). Capped: beyond it, doubling.
   */
  reserve(inputBytes: number): void;
  /** Appends a binary string (one char per byte), or with `utf8` a string to encode. */
  text(text: string, utf8: boolean): void;
  /** Appends chars [start, end) of a binary string. */
  range(text: string, start: number, end: number): void;
  eol(eol: LineEnding): void;
  /** Appends bytes [start, end) of `src`, which must not change until take(). */
  copy(src: Buffer, start: number, end: number): void;
  /** The bytes so far, handed over: the next line starts a new Buffer, so they are never overwritten. */
  take(): Buffer | undefined;
}

/**
 * Output bytes written line by line into one growing Buffer: a string of all the lines, built by `+=`, is a rope of
 * tens of thousands of pieces that Buffer.from() must flatten, which cost more than the rewriting (issue 12 item 7).
 */
export function createOutput(): Output {
  // The held copy: bytes [heldStart, heldEnd) of `held`, not yet in `out.buf`.
  let held: Buffer | undefined;
  let heldStart = 0;
  let heldEnd = 0;

  const grow = (bytes: number): void => {
    if (out.at + bytes <= out.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(64 * 1024, 2 * out.buf.length, out.at + bytes));
    out.buf.copy(next, 0, 0, out.at);
    out.buf = next;
  };
  const release = (): void => {
    if (held === undefined) return;
    const n = heldEnd - heldStart;
    grow(n);
    held.copy(out.buf, out.at, heldStart, heldEnd);
    out.at += n;
    held = undefined;
  };
  /** Whether the held copy's buffer goes on with chars [start, end) of `text`; if so, the held copy takes them. */
  const follows = (src: Buffer, text: string, start: number, end: number): boolean => {
    const n = end - start;
    if (heldEnd + n > src.length) return false;
    for (let i = 0; i < n; i++) if (src[heldEnd + i] !== text.charCodeAt(start + i)) return false;
    heldEnd += n;
    return true;
  };

  const out: Output = {
    buf: Buffer.alloc(0),
    at: 0,
    room(bytes) {
      // A writer that writes into `buf` itself goes after what is held.
      release();
      grow(bytes);
    },
    reserve(inputBytes) {
      out.room(Math.min(inputBytes * 8, 4 * 1024 * 1024));
    },
    text(text, utf8) {
      const n = text.length;
      if (!utf8 && n <= LOOP_CHARS) {
        out.range(text, 0, n);
        return;
      }
      release();
      grow(utf8 ? 3 * n : n);
      out.at += out.buf.write(text, out.at, utf8 ? 'utf8' : 'latin1');
    },
    range(text, start, end) {
      if (held !== undefined) {
        if (follows(held, text, start, end)) return;
        release();
      }
      grow(end - start);
      const buf = out.buf;
      let at = out.at;
      for (let i = start; i < end; i++) buf[at++] = text.charCodeAt(i);
      out.at = at;
    },
    eol(eol) {
      if (eol !== '') out.range(eol, 0, eol.length);
    },
    copy(src, start, end) {
      if (held === src && start === heldEnd) {
        heldEnd = end;
        return;
      }
      release();
      held = src;
      heldStart = start;
      heldEnd = end;
    },
    take() {
      release();
      if (out.at === 0) return undefined;
      const bytes = out.buf.subarray(0, out.at);
      out.buf = Buffer.alloc(0);
      out.at = 0;
      return bytes;
    },
  };
  return out;
}

// The rewriter's output: lines appended into one growing Buffer, which a sealed URI can also be written into directly.
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
  /** The bytes so far, handed over: the next line starts a new Buffer, so they are never overwritten. */
  take(): Buffer | undefined;
}

/**
 * Output bytes written line by line into one growing Buffer: a string of all the lines, built by `+=`, is a rope of
 * tens of thousands of pieces that Buffer.from() must flatten, which cost more than the rewriting (issue 12 item 7).
 */
export function createOutput(): Output {
  const out: Output = {
    buf: Buffer.alloc(0),
    at: 0,
    room(bytes) {
      if (out.at + bytes <= out.buf.length) return;
      const next = Buffer.allocUnsafe(Math.max(64 * 1024, 2 * out.buf.length, out.at + bytes));
      out.buf.copy(next, 0, 0, out.at);
      out.buf = next;
    },
    reserve(inputBytes) {
      out.room(Math.min(inputBytes * 8, 4 * 1024 * 1024));
    },
    text(text, utf8) {
      const n = text.length;
      if (utf8 || n > LOOP_CHARS) {
        out.room(utf8 ? 3 * n : n);
        out.at += out.buf.write(text, out.at, utf8 ? 'utf8' : 'latin1');
        return;
      }
      out.room(n);
      const buf = out.buf;
      let at = out.at;
      for (let i = 0; i < n; i++) buf[at++] = text.charCodeAt(i);
      out.at = at;
    },
    range(text, start, end) {
      out.room(end - start);
      const buf = out.buf;
      let at = out.at;
      for (let i = start; i < end; i++) buf[at++] = text.charCodeAt(i);
      out.at = at;
    },
    eol(eol) {
      if (eol === '') return;
      out.room(2);
      if (eol === '\r\n') out.buf[out.at++] = 0x0d;
      out.buf[out.at++] = 0x0a;
    },
    take() {
      if (out.at === 0) return undefined;
      const bytes = out.buf.subarray(0, out.at);
      out.buf = Buffer.alloc(0);
      out.at = 0;
      return bytes;
    },
  };
  return out;
}

// Splitting playlist bytes into lines (RFC 8216 §4.1): LF or CRLF endings (and a lone CR, which players take as one
// too), chunk carry, leading BOM, flush, line cap.
import { Transform, type TransformCallback } from 'node:stream';
import { UpstreamError } from '../../errors.ts';

/**
 * The ending a line had in the input; '' only for a last line the origin did not terminate. A lone CR is outside
 * RFC 8216, but hls.js ends a line there too: read as one line, a CR-only playlist would reach the player with none
 * of its URIs rewritten.
 */
export type LineEnding = '\r\n' | '\n' | '\r' | '';

export interface Line {
  /** The line's bytes without its ending (and without the BOM on the first line). Never decoded, so never altered. */
  bytes: Buffer;
  eol: LineEnding;
  /** True on the first line when the input began with a UTF-8 BOM, which the consumer must write back before it. */
  bom: boolean;
}

/**
 * Receives one line, without its ending, as chars [start, end) of a binary string: one char per byte (latin1), so it
 * maps back to the exact input bytes and no UTF-8 decoding can alter or split a character. A range rather than a
 * string of its own, so that a consumer that only copies the line makes no string for it.
 */
export type LineSink = (text: string, start: number, end: number, eol: LineEnding, bom: boolean) => void;

export interface LineDecoder {
  /** Feeds a chunk; calls the sink for every line it completes. Throws UpstreamError when a line exceeds the cap. */
  push(chunk: Buffer): void;
  /** Emits the last line when it had no LF. Call once, after the last push. */
  end(): void;
}

export const MAX_LINE_BYTES = 65_536;
export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const BOM_BINARY = '\xef\xbb\xbf';

function lineTooLong(maxLineBytes: number): UpstreamError {
  return new UpstreamError(`Playlist line longer than ${maxLineBytes} bytes`);
}

/**
 * The incremental splitter both the object-mode stage and the rewriter build on. It splits on the LF byte of a
 * latin1 view of the bytes (a byte-for-byte mapping, and much cheaper in V8 than a native call per line), so a
 * chunk boundary inside a line or inside a multi-byte UTF-8 character cannot corrupt anything.
 */
export function createLineDecoder(sink: LineSink, maxLineBytes = MAX_LINE_BYTES): LineDecoder {
  // Invariant: `carry` holds the bytes of the current unterminated line (never more than the cap allows).
  let carry = '';
  let first = true;

  function emit(line: string, start: number, end: number, eol: LineEnding): void {
    let bom = false;
    if (first) {
      first = false;
      if (line.startsWith(BOM_BINARY, start)) {
        bom = true;
        start += 3;
      }
    }
    if (end - start > maxLineBytes) throw lineTooLong(maxLineBytes);
    sink(line, start, end, eol, bom);
  }

  return {
    push(chunk) {
      const text = carry.length === 0 ? chunk.toString('latin1') : carry + chunk.toString('latin1');
      let start = 0;
      let lf = text.indexOf('\n');
      let cr = text.indexOf('\r');
      for (;;) {
        if (cr !== -1 && (lf === -1 || cr < lf - 1)) {
          // A CR not right before the next LF ends a line, unless it is the last byte so far: its LF may come next.
          if (cr === text.length - 1) break;
          emit(text, start, cr, '\r');
          start = cr + 1;
          cr = text.indexOf('\r', start);
          continue;
        }
        if (lf === -1) break;
        if (lf > start && text.charCodeAt(lf - 1) === 0x0d) emit(text, start, lf - 1, '\r\n');
        else emit(text, start, lf, '\n');
        start = lf + 1;
        lf = text.indexOf('\n', start);
        if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      }
      carry = start === 0 ? text : text.slice(start);
      // +1 for a CR that may turn out to be half of a CRLF; +3 for a BOM the first line may still shed.
      if (carry.length > maxLineBytes + 1 + (first ? 3 : 0)) throw lineTooLong(maxLineBytes);
    },
    end() {
      if (carry.length === 0) return;
      const line = carry;
      carry = '';
      // A CR as the input's very last byte was held back for an LF that never came: it ended that line.
      if (line.charCodeAt(line.length - 1) === 0x0d) emit(line, 0, line.length - 1, '\r');
      else emit(line, 0, line.length, '');
    },
  };
}

/** A Transform from bytes to `Line` objects (readable side in object mode), for consumers that want whole lines. */
export function createLineSplitter(opts: { maxLineBytes?: number } = {}): Transform {
  let out: Line[] = [];
  const decoder = createLineDecoder((text, start, end, eol, bom) => {
    out.push({ bytes: Buffer.from(text.slice(start, end), 'latin1'), eol, bom });
  }, opts.maxLineBytes);
  const drain = (stream: Transform): void => {
    for (const line of out) stream.push(line);
    out = [];
  };
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        decoder.push(chunk);
      } catch (err) {
        callback(err as Error);
        return;
      }
      drain(this);
      callback();
    },
    flush(callback: TransformCallback) {
      try {
        decoder.end();
      } catch (err) {
        callback(err as Error);
        return;
      }
      drain(this);
      callback();
    },
  });
}

/** Writes lines back exactly as they came in: BOM, bytes and ending. */
export function joinLines(lines: readonly Line[]): Buffer {
  const parts: Buffer[] = [];
  for (const line of lines) {
    if (line.bom) parts.push(UTF8_BOM);
    parts.push(line.bytes, Buffer.from(line.eol, 'latin1'));
  }
  return Buffer.concat(parts);
}

// A pass-through stage that also keeps the bytes it passed, up to a bound: the upstream body of a playlist, kept for
// the segment book and for other viewers' reloads, while the first viewer's copy streams on unchanged.
import { Transform, type TransformCallback } from 'node:stream';

export interface BodyCapture extends Transform {
  /** The whole body once the stream ended; undefined when it grew past the bound (then nothing is held). */
  captured(): Buffer | undefined;
}

export function createBodyCapture(maxBytes: number): BodyCapture {
  let chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  const capture = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (!overflow) {
        size += chunk.length;
        if (size > maxBytes) {
          overflow = true;
          chunks = [];
        } else chunks.push(chunk);
      }
      callback(null, chunk);
    },
  });
  return Object.assign(capture, {
    captured: (): Buffer | undefined => (overflow ? undefined : Buffer.concat(chunks, size)),
  });
}

// Looking at the first bytes of a body without consuming them: the HLS route decides "playlist or media" from them.
import { Readable } from 'node:stream';

export interface Peeked {
  /** The bytes read so far (possibly fewer than wanted when the body was shorter). */
  head: Buffer;
  /** The body to read from now on, starting with `head` again. */
  body: Readable;
}

/**
 * Reads until `enough(head)` is true or the body ends, then puts the bytes back. Rejects when the body errors or is
 * destroyed first (e.g. by the caller's abort). `maxBytes` bounds what is held while undecided.
 */
export function peekBody(stream: Readable, enough: (head: Buffer) => boolean, maxBytes = 4096): Promise<Peeked> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const cleanup = (): void => {
      settled = true;
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (!settled && (chunk = stream.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        size += chunk.length;
        const head = chunks.length === 1 ? chunk : Buffer.concat(chunks, size);
        if (size >= maxBytes || enough(head)) {
          cleanup();
          // Not ended yet, so unshift is allowed: the next reader sees the body from its first byte.
          stream.unshift(head);
          resolve({ head, body: stream });
        }
      }
    };
    const onEnd = (): void => {
      if (settled) return;
      cleanup();
      // unshift() after 'end' is an error: the whole (short) body is served from memory instead.
      const head = Buffer.concat(chunks, size);
      resolve({ head, body: Readable.from(head.length > 0 ? [head] : []) });
    };
    const onError = (err: Error): void => {
      if (settled) return;
      cleanup();
      reject(err);
    };
    const onClose = (): void => onError(Object.assign(new Error('Upstream body closed early'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

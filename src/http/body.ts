// Reading request bodies: JSON only, with a size cap, so a client cannot make us buffer without bound.
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, InvalidJsonError, UnsupportedMediaTypeError } from '../errors.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

/** True when the request announces a body (a Content-Length above 0, or a chunked one). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length.trim() !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * 415 unless a request with a body says `Content-Type: application/json` (SPEC §4). A browser sends that type
 * cross-site only after a preflight, which the management API refuses; text/plain and form posts it sends without.
 */
export function requireJsonBody(req: IncomingMessage): void {
  if (!hasBody(req)) return;
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new UnsupportedMediaTypeError('A request body must be sent as Content-Type: application/json');
}

/**
 * Resolves the parsed JSON body, or undefined when the request has no body. Past the cap it rejects with 413 and
 * leaves the request flowing (dropping what still comes), so the answer can be written before the connection ends.
 */
export async function readJson(req: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    // Not a byte of it is wanted: drop it as it comes; the server bounds how long (http/linger.ts).
    req.resume();
    throw new BodyTooLargeError(limitBytes);
  }
  const chunks: Buffer[] = [];
  const size = await new Promise<number>((resolve, reject) => {
    let total = 0;
    const finish = (err: Error | undefined): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (err) reject(err);
      else resolve(total);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limitBytes) {
        chunks.length = 0;
        // Keep the request flowing with no listener: the rest is dropped, not buffered (unlike breaking a
        // for-await loop, which destroys the socket before the 413 can be read).
        finish(new BodyTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    const onError = (err: Error): void => finish(err);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
  });
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks, size).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidJsonError('Request body is not valid JSON', { cause: err });
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

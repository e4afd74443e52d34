// Reading request bodies: JSON only, with a size cap, so a client cannot make us buffer without bound.
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, InvalidJsonError } from '../errors.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Resolves the parsed JSON body, or undefined when the request has no body. */
export async function readJson(req: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    // Stop reading at once; the server closes the connection after answering.
    req.resume();
    throw new BodyTooLargeError(limitBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw new BodyTooLargeError(limitBytes);
    chunks.push(chunk);
  }
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

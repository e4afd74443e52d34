// Transcode stream ids (defect D1): two profiles of one channel are two streams, so the id hashes the rendered
// arguments (input URL masked) beside the URL and the output kind; the same request always gives the same id.
import { createHash } from 'node:crypto';

export const INPUT_MARK = '<input>';

/** `args` with the input URL replaced by INPUT_MARK: what metadata, webhooks and logs may show. */
export function maskInput(args: readonly string[], inputIndex: number): string[] {
  return args.map((a, i) => (i === inputIndex ? INPUT_MARK : a));
}

/** Lowercase hex MD5 of `url|transcode|kind|sha256(masked args)`, 32 chars like every stream id. */
export function transcodeStreamId(url: string, kind: string, maskedArgs: readonly string[]): string {
  const argsHash = createHash('sha256').update(maskedArgs.join('\0')).digest('hex');
  return createHash('md5').update(`${url}|transcode|${kind}|${argsHash}`).digest('hex');
}

/** Resolver streams: the program and its arguments take the place of the FFmpeg arguments. */
export function resolverStreamId(url: string, resolver: string, args: readonly string[]): string {
  return transcodeStreamId(url, `resolver:${resolver}`, args);
}

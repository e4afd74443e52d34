// Lingering close (as nginx does it): after answering a request whose body was not read (413, 415, 401...), keep
// reading and dropping it for a bounded time and byte count, so that a client that writes its whole body before
// reading still gets the answer instead of a reset; past either bound the connection is cut.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface LingerLimits {
  ms: number;
  bytes: number;
}

export const DEFAULT_LINGER: LingerLimits = { ms: 2_000, bytes: 4 * 1024 * 1024 };

/** Call once the answer is written: drops the rest of an unread body within `limits`, then destroys the socket. */
export function lingerUnreadBody(req: IncomingMessage, limits: LingerLimits = DEFAULT_LINGER): void {
  if (req.complete || req.destroyed) return;
  let seen = 0;
  const done = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', done);
    req.off('close', done);
  };
  const cut = (): void => {
    done();
    req.socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen > limits.bytes) cut();
  };
  const timer = setTimeout(cut, limits.ms);
  timer.unref();
  req.on('data', onData);
  // The body ended within the bounds: the connection stays usable for the next request.
  req.once('end', done);
  req.once('close', done);
  req.resume();
}

/** Runs `fn` once the answer is fully handed to the socket (now, when it already is). */
export function afterAnswer(res: ServerResponse, fn: () => void): void {
  if (res.writableFinished) fn();
  else res.once('finish', fn);
}

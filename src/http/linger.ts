// Lingering close (as nginx does it): after answering a request whose body was not read (413, 415, 401...), keep
// reading and dropping it for a bounded time and byte count, so that a client that writes its whole body before
// reading still gets the answer instead of a reset; past either bound the connection is cut.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface LingerLimits {
  ms: number;
  bytes: number;
}

export const DEFAULT_LINGER: LingerLimits = { ms: 2_000, bytes: 4 * 1024 * 1024 };

/**
 * Call before an answer is written to a request whose body is unread: the socket must outlive the answer, or a client
 * that asked for `Connection: close` gets the answer and then a reset that throws it away (Node destroys such a
 * socket as soon as the answer is out, while the body still arrives). Answers whether the client asked to close.
 */
export function keepSocketForLinger(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.complete || res.headersSent) return false;
  const closeAfter = !res.shouldKeepAlive;
  res.shouldKeepAlive = true;
  return closeAfter;
}

/**
 * Call once the answer is written: drops the rest of an unread body within `limits`, then destroys the socket. With
 * `closeAfter` (the client asked to close), a body that ends within the bounds is followed by a clean close (FIN).
 */
export function lingerUnreadBody(req: IncomingMessage, limits: LingerLimits = DEFAULT_LINGER, closeAfter = false): void {
  if (req.complete || req.destroyed) {
    if (closeAfter) req.socket.end();
    return;
  }
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
  // The body ended within the bounds: the connection stays usable for the next request, or closes cleanly.
  req.once('end', () => {
    done();
    if (closeAfter) req.socket.end();
  });
  req.once('close', done);
  req.resume();
}

/** Runs `fn` once the answer is fully handed to the socket (now, when it already is). */
export function afterAnswer(res: ServerResponse, fn: () => void): void {
  if (res.writableFinished) fn();
  else res.once('finish', fn);
}

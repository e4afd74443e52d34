// A player's first bytes leave at once (issue 24.8). Node corks a response's socket on every write and uncorks it on
// the next tick, so that headers, chunk framing and body go out in one writev; everything else queued for that tick
// runs first. For a short file that was the whole session's teardown (its end, the client record, the events), about
// 60 µs between the first write and the wire. Uncorking right after the first write still sends all of it in one
// writev; Node's own uncork on the next tick then finds nothing corked, and later writes batch as before.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/** Sends what the response has written so far now instead of on the next tick. Call after its first write only. */
export function sendNow(res: ServerResponse): void {
  const socket = res.socket;
  if (socket !== null && socket.writableCorked > 0) socket.uncork();
}

/**
 * A player's first bytes before its session is set up (issue 24.8): what `body` holds already (the bytes a sniff read
 * and put back) is written to `res`, whose head is written, and sent at once. Returns those bytes, or undefined when
 * none were held. Whoever reads `body` on must attach in the same tick: a complete body read out ends on the next.
 */
export function sendHeld(res: ServerResponse, body: Readable): Buffer | undefined {
  if (body.readableLength === 0) return undefined;
  // Paused and without an encoding, read() hands over the held chunk itself (a concatenation only if there are more).
  const chunk = body.read() as Buffer | null;
  if (chunk === null) return undefined;
  return sendFirst(res, chunk);
}

/** Writes a player's first bytes, already read from its body, to `res` (head written) and sends them at once. */
export function sendFirst(res: ServerResponse, chunk: Buffer): Buffer {
  res.write(chunk);
  sendNow(res);
  return chunk;
}

// Looking at the first bytes of a body without consuming them: the HLS and /stream routes decide "playlist or media"
// from them (core/sniff.ts), and the same response then goes on to whoever serves it, from its first byte.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { PlaylistAsMediaError } from '../../errors.ts';
import type { CloseSource, PlayerGone } from '../cancel.ts';
import { type BodyKind, sniffBody } from '../sniff.ts';
import { decodeHead, parseContentEncoding } from './decode.ts';

export interface Peeked {
  /** The bytes read so far (possibly fewer than wanted when the body was shorter). */
  head: Buffer;
  /** The body to read from now on, starting with `head` again. The stream itself whenever it was not ended. */
  body: Readable;
  /** True when `head` is the whole body. */
  ended: boolean;
}

export interface PeekOptions {
  /** Stop waiting after this long and settle with the bytes already read (a trickling origin). */
  timeoutMs?: number;
  /** Aborting settles at once with the bytes already read; the caller then checks whether it still wants them. */
  signal?: AbortSignal;
  /**
   * The same for this emitter's 'close' (the player's response: the player left). Listened to only while waiting, so
   * a body whose first bytes came with the headers costs no AbortController (issue 24.8).
   */
  until?: CloseSource;
}

/** An IncomingMessage is `complete` once its whole body arrived; other streams only say so by 'end'. */
function isComplete(stream: Readable): boolean {
  return (stream as Partial<Pick<IncomingMessage, 'complete'>>).complete === true;
}

/**
 * Reads until `enough(head)` is true, `maxBytes` are held, the body is complete, or the options stop the wait; then
 * puts the bytes back. Rejects when the body errors or is destroyed first (e.g. by the caller's abort).
 *
 * Invariant: the bytes are put back (unshift) in the same tick as the last read(), so a complete IncomingMessage does
 * not emit 'end' before its new reader has the bytes. An empty complete body is not read at all, for the same reason.
 */
export function peekBody(stream: Readable, enough: (head: Buffer) => boolean, maxBytes = 4096, opts: PeekOptions = {}): Promise<Peeked> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onStop);
      opts.until?.off('close', onStop);
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const headNow = (): Buffer => (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    const settle = (ended: boolean): void => {
      cleanup();
      const head = headNow();
      // Not ended yet, so unshift is allowed: the next reader sees the body from its first byte.
      if (head.length > 0) stream.unshift(head);
      resolve({ head, body: stream, ended });
    };
    const drain = (): void => {
      if (settled) return;
      if (isComplete(stream) && stream.readableLength === 0 && size === 0) {
        // Empty body: reading would schedule 'end' before anyone listens.
        settle(true);
        return;
      }
      let chunk: Buffer | null;
      while ((chunk = stream.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        size += chunk.length;
        let done: boolean;
        try {
          done = size >= maxBytes || enough(headNow());
        } catch (err) {
          // In a 'readable' handler: a failing judge fails this peek, not the process.
          onError(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (done) {
          settle(isComplete(stream) && stream.readableLength === 0);
          return;
        }
      }
      if (isComplete(stream)) settle(true);
    };
    function onReadable(): void {
      drain();
    }
    function onStop(): void {
      if (!settled) settle(false);
    }
    function onEnd(): void {
      if (settled) return;
      cleanup();
      // unshift() after 'end' is an error: the whole (short) body is served from memory instead.
      const head = Buffer.concat(chunks, size);
      resolve({ head, body: Readable.from(head.length > 0 ? [head] : []), ended: true });
    }
    function onError(err: Error): void {
      if (settled) return;
      cleanup();
      reject(err);
    }
    function onClose(): void {
      onError(Object.assign(new Error('Upstream body closed early'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    }
    if (opts.signal?.aborted === true) {
      resolve({ head: Buffer.alloc(0), body: stream, ended: false });
      return;
    }
    if (isComplete(stream) || stream.readableLength > 0) {
      // Bytes are buffered already (the whole body, or the first packet that came with the headers): decide now,
      // without waiting a tick for 'readable' (issue 24.8: every step before a player's first byte counts).
      drain();
      if (settled) return;
    }
    opts.signal?.addEventListener('abort', onStop, { once: true });
    opts.until?.once('close', onStop);
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(onStop, opts.timeoutMs);
      timer.unref();
    }
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

/** Encoded bytes read at most to judge a body: a compressed playlist's first KiB of text fits in far less. */
const SNIFF_MAX_BYTES = 4096;

/**
 * Longest a player's answer waits on the sniff (issue 24.5): an origin that trickles its first bytes is judged on what
 * arrived by then, instead of holding back the response until the read timeout. A real origin's first packet decides.
 */
export const SNIFF_DEADLINE_MS = 1_000;

/**
 * What an upstream response body is, judged from its first bytes (decoded from a copy when the origin compressed
 * it), without consuming them: the response stays readable from its first byte. Waits at most `timeoutMs` for
 * those bytes, then judges what it has. A body that errors before it was judged is 'unknown' (its reader sees why).
 */
export async function sniffResponse(up: IncomingMessage, opts: PeekOptions & { timeoutMs: number }): Promise<BodyKind> {
  const encodings = parseContentEncoding(Array.isArray(up.headers['content-encoding']) ? up.headers['content-encoding'][0] : up.headers['content-encoding']);
  const plain = (head: Buffer): Buffer | undefined => (encodings.length === 0 ? head : decodeHead(head, encodings));
  let peeked: Peeked;
  try {
    peeked = await peekBody(up, (h) => {
      const decoded = plain(h);
      return decoded === undefined || sniffBody(decoded) !== 'undecided';
    }, SNIFF_MAX_BYTES, { ...opts, timeoutMs: Math.min(opts.timeoutMs, SNIFF_DEADLINE_MS) });
  } catch (err) {
    // The body failed or was destroyed while being judged: whoever reads it next sees the same failure.
    if (up.destroyed) return 'unknown';
    throw err;
  }
  const decoded = plain(peeked.head);
  if (decoded === undefined) return 'unknown';
  const kind = sniffBody(decoded, true);
  return kind === 'undecided' ? 'unknown' : kind;
}

/**
 * The sniff's verdict from the bytes the response holds already, with no wait and no promise (issue 24.8: the first
 * packet usually comes with the headers); undefined when they do not decide, or the body is compressed, and the
 * caller then waits (sniffResponse). The bytes are put back in the same tick, so the body still reads from its first.
 */
export function sniffHeld(up: IncomingMessage): BodyKind | undefined {
  const held = readHeld(up);
  if (held === undefined) return undefined;
  const kind = heldKind(up, held);
  up.unshift(held);
  return kind;
}

/** What the response holds, read out; undefined when nothing is held or the body is compressed (no verdict from it). */
function readHeld(up: IncomingMessage): Buffer | undefined {
  if (up.readableLength === 0 || up.headers['content-encoding'] !== undefined) return undefined;
  // Paused and without an encoding, read() hands over the held chunk itself (a concatenation only if there are more).
  return (up.read() as Buffer | null) ?? undefined;
}

/** The verdict on `held`, just read out of `up`; undefined while more bytes could still change it. */
function heldKind(up: IncomingMessage, held: Buffer): BodyKind | undefined {
  const head = held.length > SNIFF_MAX_BYTES ? held.subarray(0, SNIFF_MAX_BYTES) : held;
  // The same stop and the same final verdict as sniffResponse's wait.
  const whole = up.complete && up.readableLength === 0;
  if (!whole && head.length < SNIFF_MAX_BYTES && sniffBody(head) === 'undecided') return undefined;
  const kind = sniffBody(head, true);
  return kind === 'undecided' ? 'unknown' : kind;
}

export interface MediaCheckOptions extends PeekOptions {
  timeoutMs: number;
  /** A HEAD request: no body reaches the player, so there is nothing to judge. */
  head?: boolean;
  /** The player's response: its 'close' (the player left) ends the wait, as `signal` would. */
  player?: PlayerGone;
}

/**
 * True when a 200/206 answer to a media request (a segment URL, /stream) is really a playlist (issues 12.2, 14.2):
 * relayed raw, it would hand the player every provider URL in it. The body stays unread either way.
 */
export async function isPlaylistBody(up: IncomingMessage, opts: MediaCheckOptions): Promise<boolean> {
  return playlistBodyNow(up, opts.head === true) ?? (await waitForPlaylistVerdict(up, opts));
}

/** isPlaylistBody's answer when it needs no wait (a HEAD, another status, or bytes held that decide); else undefined. */
export function playlistBodyNow(up: IncomingMessage, head: boolean): boolean | undefined {
  if (head || (up.statusCode !== 200 && up.statusCode !== 206)) return false;
  const kind = sniffHeld(up);
  return kind === undefined ? undefined : kind === 'playlist';
}

/**
 * playlistBodyNow for a caller that relays the body itself: the bytes that decided come back read out, not put back,
 * for its first write (one read of the first chunk, instead of a read, a put-back and a read again; issue 24.8). The
 * caller owns them: it writes them, or destroys the response, and whoever reads the body on attaches in the same tick
 * (a complete body read out ends on the next). Undefined when there is no verdict yet; nothing was taken then.
 */
export function takePlaylistVerdict(up: IncomingMessage, head: boolean): { playlist: boolean; held?: Buffer } | undefined {
  if (head || (up.statusCode !== 200 && up.statusCode !== 206)) return { playlist: false };
  const held = readHeld(up);
  if (held === undefined) return undefined;
  const kind = heldKind(up, held);
  if (kind !== undefined) return { playlist: kind === 'playlist', held };
  up.unshift(held);
  return undefined;
}

/** isPlaylistBody's answer once the bytes that decide it have come, when playlistBodyNow had none yet. */
export async function waitForPlaylistVerdict(up: IncomingMessage, opts: MediaCheckOptions): Promise<boolean> {
  const player = opts.player;
  if (player === undefined) return (await sniffResponse(up, opts)) === 'playlist';
  if (player.destroyed) return false;
  return (await sniffResponse(up, { ...opts, until: player })) === 'playlist';
}

/** The single check of the segment route: a playlist body is refused with a JSON 502 (its response destroyed). */
export async function refusePlaylistBody(up: IncomingMessage, opts: MediaCheckOptions): Promise<void> {
  if (!(await isPlaylistBody(up, opts))) return;
  up.destroy();
  throw new PlaylistAsMediaError();
}

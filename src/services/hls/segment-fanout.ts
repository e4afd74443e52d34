// One upstream segment body for every viewer that asks for it while it arrives (issue 10 item 7). The fan-out owns
// the upstream response: it reads at the upstream's pace and keeps every chunk (the whole segment, bounded by the
// cache's per-entry cap), and each viewer copies from those chunks at its own pace with its own cursor. So a slow
// viewer never slows the upstream or another viewer, and the complete body can go to the segment cache at the end.
// A body cut short is resumed at the byte where it broke (issue 24.6) when the caller can find the same segment, of the
// same length, elsewhere: viewers wait and then go on reading, so a player that never retries loses nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { watchIdle } from '../../core/upstream/client.ts';
import { UpstreamError } from '../../errors.ts';

/** How one viewer's copy ended. */
export type ViewerOutcome =
  | { kind: 'done' | 'player' | 'kicked'; delivered: number }
  | { kind: 'upstream' | 'stall'; err: unknown; delivered: number };

export interface SegmentFanout {
  /** The headers every viewer gets (mirrored from the upstream answer). */
  headers: Record<string, string>;
  /** False once the body failed: a viewer arriving then fetches for itself. */
  joinable(): boolean;
  /** Copies the body to `res` (whose headers the caller has written). `count` sees every byte handed to `res`. */
  serve(res: ServerResponse, count: (bytes: number) => void): { done: Promise<ViewerOutcome>; kick(): void };
  /** Resolves once the upstream body ended: with its chunks (whole), or undefined when it failed or outgrew the cap. */
  body: Promise<readonly Buffer[] | undefined>;
  /** Why the body failed, once it did: an upstream failure (to count once, not per viewer), or every viewer left. */
  failure(): { kind: 'upstream' | 'stall' | 'abandoned'; err: unknown } | undefined;
}

/**
 * Reopens the segment from byte `offset` of its `total` (a 206 of exactly the rest, checked by the caller); undefined
 * when no copy can. Aborted by `signal` once every viewer left.
 */
export type ResumeSegment = (offset: number, total: number, signal: AbortSignal) => Promise<IncomingMessage | undefined>;

export interface FanoutOptions {
  headers: Record<string, string>;
  /** Bodies beyond this many bytes fail: the bound on what one segment can hold in memory. */
  maxBytes: number;
  readTimeoutMs: number;
  /** The body's whole length (Content-Length of a 200): needed to resume it. */
  total?: number;
  resume?: ResumeSegment;
  /** Resumes tried at most for one body. */
  maxResumes?: number;
}

export function createSegmentFanout(first: IncomingMessage, opts: FanoutOptions): SegmentFanout {
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  let failure: { kind: 'upstream' | 'stall' | 'abandoned'; err: unknown } | undefined;
  let viewers = 0;
  let up = first;
  let resumes = 0;
  let resuming = false;
  const gone = new AbortController();
  /** Viewers waiting for the next chunk (or the end). */
  const waiting = new Set<() => void>();
  let resolveBody!: (body: readonly Buffer[] | undefined) => void;
  const body = new Promise<readonly Buffer[] | undefined>((r) => (resolveBody = r));

  const wake = (): void => {
    const all = [...waiting];
    waiting.clear();
    for (const w of all) w();
  };
  let idle = watch(up);

  function watch(r: IncomingMessage): { stop(): void } {
    const socket = r.socket;
    return watchIdle({
      timeoutMs: opts.readTimeoutMs,
      progress: socket ? () => socket.bytesRead : () => 0,
      // The fan-out never pauses the upstream, so no wait is the player's.
      isWaiting: () => false,
      onIdle: () => broke('stall', new UpstreamError('Upstream segment stalled')),
    });
  }
  function attach(r: IncomingMessage): void {
    up = r;
    idle = watch(r);
    r.on('data', onData);
    r.once('end', onEnd);
    r.once('error', onError);
    r.once('close', onClose);
  }
  function settle(): void {
    idle.stop();
    up.off('data', onData);
    up.off('end', onEnd);
    up.off('error', onError);
    up.off('close', onClose);
  }
  function drop(r: IncomingMessage): void {
    r.on('error', ignoreLateError);
    r.destroy();
  }
  function fail(kind: 'upstream' | 'stall' | 'abandoned', err: unknown): void {
    if (ended || failure) return;
    failure = { kind, err };
    if (!resuming) {
      settle();
      drop(up);
    }
    gone.abort();
    resolveBody(undefined);
    wake();
  }
  /** The body broke mid-way: resumed elsewhere when it can be, else failed for every viewer. */
  function broke(kind: 'upstream' | 'stall', err: unknown): void {
    if (ended || failure || resuming) return;
    const total = opts.total;
    if (opts.resume === undefined || total === undefined || size >= total || resumes >= (opts.maxResumes ?? 2)) return fail(kind, err);
    resumes++;
    resuming = true;
    settle();
    drop(up);
    opts.resume(size, total, gone.signal).then(
      (next) => {
        resuming = false;
        if (failure) {
          if (next) drop(next);
        } else if (next) attach(next);
        else fail(kind, err);
      },
      (resumeErr: unknown) => {
        resuming = false;
        fail(kind, resumeErr);
      },
    );
  }
  function onData(chunk: Buffer): void {
    size += chunk.length;
    if (size > opts.maxBytes) return fail('upstream', new UpstreamError('Upstream segment is too large to share'));
    chunks.push(chunk);
    wake();
  }
  function onEnd(): void {
    if (failure) return;
    ended = true;
    settle();
    resolveBody(chunks);
    wake();
  }
  const onError = (err: unknown): void => broke('upstream', err);
  const onClose = (): void => {
    if (!up.complete) broke('upstream', new UpstreamError('Upstream closed the segment early'));
  };
  up.on('data', onData);
  up.once('end', onEnd);
  up.once('error', onError);
  up.once('close', onClose);

  function serve(res: ServerResponse, count: (bytes: number) => void): { done: Promise<ViewerOutcome>; kick(): void } {
    viewers++;
    let next = 0;
    let delivered = 0;
    let finished = false;
    let resolveDone!: (o: ViewerOutcome) => void;
    const done = new Promise<ViewerOutcome>((r) => (resolveDone = r));
    const finish = (o: ViewerOutcome): void => {
      if (finished) return;
      finished = true;
      waiting.delete(pump);
      res.off('drain', pump);
      res.off('close', onResClose);
      if (o.kind === 'done') res.end();
      else res.destroy();
      // The last viewer gone before the body is: nobody needs the rest of it now.
      if (--viewers === 0 && !ended) fail('abandoned', undefined);
      resolveDone(o);
    };
    function pump(): void {
      if (finished) return;
      while (next < chunks.length) {
        const chunk = chunks[next++] as Buffer;
        delivered += chunk.length;
        count(chunk.length);
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (ended) finish({ kind: 'done', delivered });
      else if (failure) finish({ kind: failure.kind === 'stall' ? 'stall' : 'upstream', err: failure.err, delivered });
      else waiting.add(pump);
    }
    const onResClose = (): void => finish({ kind: res.writableFinished ? 'done' : 'player', delivered });
    res.once('close', onResClose);
    pump();
    return { done, kick: () => finish({ kind: 'kicked', delivered }) };
  }

  return { headers: opts.headers, joinable: () => failure === undefined, serve, body, failure: () => failure };
}

function ignoreLateError(): void {
  // After the fan-out gave the response up, its destruction may still surface an error: the outcome is already known.
}

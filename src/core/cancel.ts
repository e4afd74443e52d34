// Stopping a wait when the player leaves, without an AbortController per request (issue 24.8): making one and
// listening on its EventTarget cost a cold player request ~40 µs before its first byte, where listening once to
// the player's response 'close' costs ~1 µs. An AbortSignal is still taken (reconnect walks own one), and made
// from the player only on the rare paths whose APIs need a real signal (a back-off sleep, a resolver's request).

/** What a wait listens to for "the player left": a ServerResponse's 'close'. */
export interface CloseSource {
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/** A player's response: emits 'close' once when the player left, and is `destroyed` from then on. */
export interface PlayerGone extends CloseSource {
  readonly destroyed: boolean;
}

/** What ends a wait: the signal's abort, or the player leaving. Either may be absent. */
export interface Cancel {
  signal?: AbortSignal;
  player?: PlayerGone;
}

export function isCancelled(c: Cancel): boolean {
  return c.signal?.aborted === true || c.player?.destroyed === true;
}

/** The error a cancelled wait rejects with: the signal's reason, else an AbortError. */
export function cancelReason(c: Cancel): Error {
  const reason: unknown = c.signal?.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('The operation was aborted', 'AbortError');
}

/** Calls `fn` (at most once per source) when the wait is cancelled; the returned function stops listening. */
export function onCancel(c: Cancel, fn: () => void): () => void {
  const { signal, player } = c;
  signal?.addEventListener('abort', fn, { once: true });
  player?.once('close', fn);
  return () => {
    signal?.removeEventListener('abort', fn);
    player?.off('close', fn);
  };
}

/**
 * A real AbortSignal for an API that needs one: the wait's own signal, or one made now that aborts when the player
 * leaves. `done()` stops following the player. Undefined when nothing can cancel the wait.
 */
export function signalFor(c: Cancel): { signal: AbortSignal | undefined; done(): void } {
  const { player } = c;
  if (c.signal !== undefined || player === undefined) return { signal: c.signal, done: () => undefined };
  const ac = new AbortController();
  if (player.destroyed) ac.abort();
  const abort = (): void => ac.abort();
  player.once('close', abort);
  return { signal: ac.signal, done: () => player.off('close', abort) };
}

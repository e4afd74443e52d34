// The URL ring walk (SPEC §5.3): current URL, then each failover in order, wrapping, for a bounded number of rounds.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Cancel, cancelReason, isCancelled, signalFor } from '../../core/cancel.ts';
import { AppError, UpstreamError } from '../../errors.ts';

/** Back-off before round `round` (1-based for the second round): 100 ms, 200 ms, 400 ms... capped. */
export function backoffMs(round: number, baseMs = 100, capMs = 2_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, round - 1));
}

/** DEFAULT_MAX_RETRIES counts rounds over the ring; even 0 tries every URL once. */
export function roundsFor(maxRetries: number): number {
  return Math.max(1, Math.floor(maxRetries));
}

/** Ring positions in the order they are tried within one round, starting at `start`. */
export function ringOrder(length: number, start: number): number[] {
  const out: number[] = [];
  const s = length > 0 ? ((start % length) + length) % length : 0;
  for (let i = 0; i < length; i++) out.push((s + i) % length);
  return out;
}

/** Cancelling (the signal aborts, the player leaves) stops the walk, also during a back-off; it then rejects with the reason. */
export interface RingWalk<T> extends Cancel {
  ringLength: number;
  startIndex: number;
  rounds: number;
  /** One try at ring position `index`; rejects with an AppError to move on. */
  attempt(index: number): Promise<T>;
  /** Called for every failed try (counters, logs); never for an abort. */
  onError(err: AppError, index: number): void;
  /** After a failed try: a ring position to try at once, before the rest of the order (a failover resolver's answer). */
  next?(failedIndex: number, err: AppError): Promise<number | undefined>;
  /** Positions left out of this walk (strict_live_ts: a URL that stalled lately). */
  skip?(index: number): boolean;
}

/** Resolves with the first try that succeeds, or rejects with the last failure once every round failed. */
export async function walkRing<T>(walk: RingWalk<T>): Promise<{ value: T; index: number }> {
  // Created only when needed: an Error captures a stack, and this runs for every player request.
  let last: AppError | undefined;
  const all = ringOrder(walk.ringLength, walk.startIndex);
  const kept = walk.skip ? all.filter((i) => !walk.skip?.(i)) : all;
  // Every URL skipped: trying them is better than giving up.
  const order = kept.length > 0 ? kept : all;
  for (let round = 0; round < walk.rounds; round++) {
    if (round > 0) await backOff(walk, round);
    for (const first of order) {
      let index: number | undefined = first;
      while (index !== undefined) {
        if (isCancelled(walk)) throw cancelReason(walk);
        try {
          return { value: await walk.attempt(index), index };
        } catch (err) {
          if (isCancelled(walk)) throw err;
          last = err instanceof AppError ? err : new UpstreamError('Upstream request failed', { cause: err });
          walk.onError(last, index);
          index = walk.next ? await walk.next(index, last) : undefined;
        }
      }
    }
  }
  throw last ?? new UpstreamError('No upstream URL to try');
}

/** The pause before another round, cut short (rejecting) when the walk is cancelled. */
async function backOff(walk: Cancel, round: number): Promise<void> {
  const cancel = signalFor(walk);
  try {
    await sleep(backoffMs(round), undefined, { signal: cancel.signal });
  } finally {
    cancel.done();
  }
}

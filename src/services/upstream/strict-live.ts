// strict_live_ts (SPEC §3.1, the reference's "circuit breaker"): on a live TS stream a stall of 2 s fails over at
// once, and the URL that stalled is left out of the stream's ring walks for 60 s (unless it is the only one left).
import type { StreamRecord } from '../../core/registry.ts';

export const STRICT_STALL_MS = 2_000;
export const STRICT_COOLDOWN_MS = 60_000;

/** The stall (idle-read) timeout of one live or VOD session of this stream. */
export function stallTimeoutMs(stream: StreamRecord, live: boolean, readTimeoutMs: number): number {
  return stream.strictLiveTs && live ? Math.min(STRICT_STALL_MS, readTimeoutMs) : readTimeoutMs;
}

/** Called when a live session of a strict stream stalled on `url`. */
export function markStalled(stream: StreamRecord, url: string, now: number): void {
  if (!stream.strictLiveTs) return;
  stream.stalledUntil.set(url, now + STRICT_COOLDOWN_MS);
}

/** True while `url` is cooling down after a stall; forgets cooldowns that are over. */
export function isStalled(stream: StreamRecord, url: string, now: number): boolean {
  const until = stream.stalledUntil.get(url);
  if (until === undefined) return false;
  if (until > now) return true;
  stream.stalledUntil.delete(url);
  return false;
}

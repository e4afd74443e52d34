// What the broadcast manager is built with: the settings of SPEC §14 (README "Networks (broadcast)") and the knobs
// tests shrink.
import type { ChildSet } from '../../core/process/child-set.ts';
import type { Logger } from '../../log.ts';

export interface BroadcastManagerOptions {
  ffmpegPath: string;
  ffprobePath: string;
  broadcastDir: string;
  dvrDir: string;
  /** BROADCAST_ALLOWED_DIRS: where an output_dir may have put a network's files. */
  allowedDirs: readonly string[];
  startGraceMs: number;
  callbackTimeoutMs: number;
  /** API_TOKEN: sent as X-API-Token with DVR callbacks, which m3u-editor's DVR receiver checks. */
  apiToken?: string;
  /** Waits before retrying a refused callback (tests shrink them). */
  callbackBackoffMs?: readonly number[];
  children: ChildSet;
  logger: Logger;
  /** How long a finished (not DVR) entry stays listed (B7). */
  finishedTtlMs?: number;
  /** Directory poll period (tests shrink it). */
  watchIntervalMs?: number;
  /** No new segment for this long kills FFmpeg (tests shrink it); default 3 × segment_duration + 20 s (B3). */
  stallMs?: number;
  /** BROADCAST_MAX_START_RETRIES, …_WINDOW, …_COOLDOWN (reference defaults 3, 300 s, 15 s). */
  startRetries?: { max: number; windowMs: number; cooldownMs: number };
  /** HLS_GC_AGE_THRESHOLD: an unlisted, unread broadcast directory idle this long is removed; undefined = never. */
  gcAgeMs?: number;
}

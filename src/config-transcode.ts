// Settings of transcoding and the resolvers (SPEC §13, research §7): the type and its defaults, kept beside config.ts
// so that a Config built without them (tests, older callers) still gets working values.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fail, Raw } from './config-values.ts';

export interface TranscodeConfig {
  /** Programs: a name found on PATH, or a path. */
  readonly ffmpegPath: string;
  readonly streamlinkPath: string;
  readonly ytdlpPath: string;
  readonly streamlinkEnabled: boolean;
  readonly ytdlpEnabled: boolean;
  /** Processes running at once (transcodes and resolvers); 0: no limit. */
  readonly maxProcesses: number;
  /** A new process must produce its first byte within this, or the viewer gets 504. */
  readonly startTimeoutMs: number;
  /** The last viewer leaving stops the process this much later (a viewer back within it reuses the process). */
  readonly graceMs: number;
  /** Base of the per-stream HLS output directories (`m3u_proxy_hls_<id>`). */
  readonly hlsDir: string;
  /** How long a playlist request waits for a new HLS transcode's first playlist. */
  readonly hlsWaitMs: number;
  /** The only directory `cookies_path` may name files in; undefined: cookies files are refused. */
  readonly cookiesDir: string | undefined;
  /** HW_ACCEL_AVAILABLE / _TYPE / _DEVICE as given (they override the detection /info reports); absent: detect. */
  readonly hwAccel?: Readonly<{ available?: string; type?: string; device?: string }>;
}

export const DEFAULT_TRANSCODE_CONFIG: TranscodeConfig = Object.freeze({
  ffmpegPath: 'ffmpeg',
  streamlinkPath: 'streamlink',
  ytdlpPath: 'yt-dlp',
  streamlinkEnabled: true,
  ytdlpEnabled: true,
  maxProcesses: 8,
  startTimeoutMs: 15_000,
  graceMs: 3_000,
  hlsDir: tmpdir(),
  hlsWaitMs: 10_000,
  cookiesDir: undefined,
});

/** The HLS base default: the system temp dir, or HLS_TEMP_DIR. */
export function hlsBaseDir(value: string | undefined): string {
  return value === undefined || value.trim() === '' ? tmpdir() : join(value.trim());
}

/** TRANSCODE_MAX_PROCESSES: a whole number, 0 for no limit; absent: the default. */
export function parseProcessLimit(r: Raw | undefined, fail: Fail): number {
  if (r === undefined) return DEFAULT_TRANSCODE_CONFIG.maxProcesses;
  const v = r.value.trim();
  if (!/^\d{1,6}$/.test(v)) return fail(r, 'must be a whole number (0: no limit)');
  return Number(v);
}

// Shared pieces of the broadcast tests: the editor's start payload (research §6.4), the callbacks a receiver got,
// bounded waiting on async conditions, whether a process still exists, and scratch directories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Receiver } from './webhook-receiver.ts';

const scratch: string[] = [];
// Once every test of the file is over: a test's own hooks run in the order they were added and stop at the first that
// throws, so a removal placed before the proxy's stop met FFmpeg still writing (ENOTEMPTY) and left the proxy running.
after(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

/** A fresh directory for a proxy's broadcasts or media, removed after the file's last test. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

export interface BroadcastCallback {
  network_id: string;
  event: string;
  timestamp: string;
  dvr_mode: boolean;
  hls_dir: string | null;
  data: Record<string, unknown>;
}

/** What NetworkBroadcastService::startViaProxy sends, with the editor-ahead fields and output_dir null. */
export function editorPayload(streamUrl: string, callbackUrl: string | null, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    stream_url: streamUrl,
    seek_seconds: 0,
    duration_seconds: 0,
    segment_start_number: 0,
    add_discontinuity: false,
    segment_duration: 1,
    hls_list_size: 5,
    transcode: false,
    video_bitrate: null,
    audio_bitrate: 192,
    video_resolution: null,
    video_codec: null,
    audio_codec: null,
    preset: null,
    hwaccel: null,
    preferred_audio_language: null,
    subtitles_enabled: false,
    subtitle_url: null,
    subtitle_language: null,
    subtitle_seek_seconds: 0,
    callback_url: callbackUrl,
    next_stream_config: null,
    output_dir: null,
    ...overrides,
  };
}

/** The broadcast callbacks a receiver accepted, in arrival order. */
export function callbacksOf(receiver: Receiver): BroadcastCallback[] {
  return receiver.deliveries.map((d) => JSON.parse(d.raw) as BroadcastCallback);
}

/** Polls `condition` every 50 ms until it holds; fails after `timeoutMs`. */
export async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True while a process with this pid exists (signal 0 only checks). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // ESRCH: no such process; EPERM would mean it exists under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// Shared pieces of the broadcast tests: the editor's start payload (research §6.4), the callbacks a receiver got,
// bounded waiting on async conditions, and whether a process still exists.
import type { Receiver } from './webhook-receiver.ts';

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

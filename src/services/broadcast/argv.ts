import { join } from 'node:path';
import { headersArg } from './request.ts';
import type { SubtitlePlan } from './subtitles.ts';

/** How a programme is encoded and fetched: the same fields in a start's input and in the FFmpeg command's. */
export interface EncodingFields {
  transcode: boolean;
  videoCodec: string | null;
  audioCodec: string | null;
  preset: string | null;
  videoBitrate: string | null;
  audioBitrate: number;
  videoResolution: string | null;
  hwaccel: string | null;
  headers: Record<string, string> | null;
}

/** What the broadcast FFmpeg command is built from (already validated and normalised). */
export interface BroadcastArgvInput extends EncodingFields {
  url: string;
  offset: number | null;           // from a `#range=<n>-` suffix
  seekSeconds: number;
  durationSeconds: number;         // 0 = to the end of the input
  startNumber: number;
  addDiscontinuity: boolean;
  segmentDuration: number;
  listSize: number;
  dvr: boolean;
  audioMap: string;                // `0:a:0?` unless a preferred audio track was resolved
  subtitle: SubtitlePlan | null;   // a text subtitle stream to write as WebVTT (live_vtt.m3u8), if any
  readrate: boolean;               // FFmpeg >= 6.1: `-readrate 1 -readrate_initial_burst` instead of `-re` (B14)
  dir: string;
}

/** The command of research §6.3, in its order, with `temp_file` so a player never reads a half-written segment. */
export function broadcastArgv(o: BroadcastArgvInput): string[] {
  const a: string[] = ['-y'];
  if (o.transcode && o.hwaccel !== null && o.hwaccel !== '' && o.hwaccel !== 'none') a.push('-hwaccel', o.hwaccel);
  if (o.seekSeconds > 0) a.push('-ss', String(o.seekSeconds));
  if (o.readrate) a.push('-readrate', '1', '-readrate_initial_burst', String(Math.max(1, o.segmentDuration)));
  else a.push('-re');
  const remote = o.url.includes('://') && !o.url.startsWith('file://');
  if (remote) a.push('-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', '10');
  if (remote && o.headers !== null && Object.keys(o.headers).length > 0) a.push('-headers', headersArg(o.headers));
  if (remote && o.offset !== null) a.push('-offset', String(o.offset));
  a.push('-i', o.url);
  const sub = o.subtitle;
  if (sub !== null && sub.url !== null) {
    if (sub.seekSeconds > 0) a.push('-ss', String(sub.seekSeconds));
    a.push('-i', sub.url);
  }
  // After every input: an option before a later -i would belong to that input.
  if (o.durationSeconds > 0) a.push('-t', String(o.durationSeconds));
  // A seeked input keeps the cues that began before the seek point, with negative times; the WebVTT muxer then
  // shifts the whole track later by that much. Output `-ss 0` drops them (copy mode then starts the video at the
  // next key frame, a fraction of a segment later).
  if (sub !== null && (o.seekSeconds > 0 || sub.seekSeconds > 0)) a.push('-ss', '0');
  a.push('-map', '0:v:0?', '-map', o.audioMap);
  if (sub !== null) a.push('-map', sub.map);
  if (o.transcode) {
    a.push('-c:v', o.videoCodec ?? 'libx264', '-preset', o.preset ?? 'veryfast');
    if (o.videoBitrate !== null && o.videoBitrate !== '') a.push('-b:v', `${o.videoBitrate}k`);
    if (o.videoResolution !== null && o.videoResolution !== '') a.push('-vf', `scale=${o.videoResolution}`);
    a.push('-c:a', o.audioCodec ?? 'aac', '-b:a', `${o.audioBitrate}k`, '-ar', '48000', '-ac', '2');
  } else {
    a.push('-c:v', 'copy', '-c:a', 'copy');
  }
  if (sub !== null) a.push('-c:s', 'webvtt');
  const flags = [
    ...(o.dvr ? [] : ['delete_segments']),
    'program_date_time', 'omit_endlist', 'independent_segments', 'temp_file',
    ...(o.addDiscontinuity ? ['discont_start'] : []),
  ];
  a.push(
    '-f', 'hls', '-hls_time', String(o.segmentDuration), '-hls_list_size', String(o.dvr ? 0 : o.listSize),
    '-start_number', String(o.startNumber), '-hls_flags', flags.join('+'),
    '-hls_segment_filename', join(o.dir, 'live%06d.ts'), join(o.dir, 'live.m3u8'),
  );
  return a;
}

/** `preferred_audio_language` given as digits is a track index; anything else needs a probe (null here). */
export function audioMapFromIndex(preferred: string | null): string | null {
  if (preferred === null || preferred === '') return '0:a:0?';
  return /^\d+$/.test(preferred) ? `0:a:${preferred}?` : null;
}

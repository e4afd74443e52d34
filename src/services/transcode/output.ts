// What a rendered FFmpeg command produces, judged on its output part only (everything after the last input; defect
// D19: the source URL's `.m3u8` must not make a TS profile "HLS"). One detector for the stream id, the process mode
// and the answer.

/** `ts`: a self-synchronising byte stream viewers can join mid-way (shared); `file`: a container that cannot be
 * joined (one process per viewer); `hls`: playlist and segments written to the stream's directory. */
export type OutputKind = 'ts' | 'file' | 'hls';

export interface OutputInfo {
  kind: OutputKind;
  /** The muxer named by the last output `-f`, or undefined when none. */
  format: string | undefined;
  contentType: string;
}

const TYPES: Record<string, string> = {
  mpegts: 'video/mp2t',
  mp4: 'video/mp4',
  mov: 'video/mp4',
  matroska: 'video/x-matroska',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
  mpeg: 'video/mpeg',
  flv: 'video/x-flv',
  ogg: 'video/ogg',
  mp3: 'audio/mpeg',
  adts: 'audio/aac',
  hls: 'application/vnd.apple.mpegurl',
};

/** Muxers whose bytes a decoder can pick up anywhere: shared by all viewers through the fan-out. */
const JOINABLE = new Set(['mpegts', 'adts', 'mp3']);

/** Index of the first argument after the last `-i X` pair (0 when there is none). */
export function outputStart(args: readonly string[]): number {
  let start = 0;
  for (let i = 0; i < args.length - 1; i++) if (args[i] === '-i') start = i + 2;
  return start;
}

export function detectOutput(args: readonly string[]): OutputInfo {
  const out = args.slice(outputStart(args));
  let format: string | undefined;
  let hlsOption = false;
  for (let i = 0; i < out.length; i++) {
    const a = out[i]!;
    if (a === '-f' && i + 1 < out.length) format = out[i + 1]!.toLowerCase();
    if (a.startsWith('-hls_')) hlsOption = true;
  }
  if (format === 'hls' || hlsOption) return { kind: 'hls', format: 'hls', contentType: TYPES['hls']! };
  const f = format ?? 'mpegts';
  return { kind: JOINABLE.has(f) ? 'ts' : 'file', format, contentType: TYPES[f] ?? 'application/octet-stream' };
}

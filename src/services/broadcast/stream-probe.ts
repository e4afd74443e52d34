// One ffprobe of a broadcast input's audio or subtitle streams (research §6.5): what a preferred audio language or a
// subtitle choice is decided from. Bounded in time and output; any failure is an empty answer, never a thrown error,
// because a broadcast without the preferred track still plays.
import { spawnChild } from '../../core/process/child.ts';
import type { ChildSet } from '../../core/process/child-set.ts';
import { headersArg } from './request.ts';

const PROBE_TIMEOUT_MS = 10_000;
/** ffprobe's JSON for a file with dozens of streams is a few KiB; more than this is not an answer. */
const MAX_PROBE_OUTPUT = 1024 * 1024;

export interface StreamProbeInput {
  ffprobePath: string;
  url: string;
  headers: Record<string, string> | null;
  offset: number | null;
  children: ChildSet;
  timeoutMs?: number;
}

/** ffprobe's streams of one type (`a` audio, `s` subtitles), in order, as JSON text ('' when it could not answer in time). */
export async function probeStreams(o: StreamProbeInput, select: 'a' | 's'): Promise<string> {
  const args = ['-v', 'error', '-select_streams', select, '-show_entries', 'stream=index,codec_name:stream_tags=language', '-of', 'json'];
  if (o.headers !== null && Object.keys(o.headers).length > 0) args.push('-headers', headersArg(o.headers));
  if (o.offset !== null) args.push('-offset', String(o.offset));
  args.push(o.url);
  const child = o.children.add(spawnChild({ command: o.ffprobePath, args, stdout: 'pipe', keepLines: 5 }));
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (text: string) => {
    if (out.length < MAX_PROBE_OUTPUT) out += text;
  });
  const timer = setTimeout(() => child.kill(), o.timeoutMs ?? PROBE_TIMEOUT_MS);
  timer.unref();
  const exit = await child.exited.finally(() => clearTimeout(timer));
  return exit.code === 0 ? out : '';
}

/** The `streams` array of ffprobe's JSON, or [] when the text is not such an answer (cut short, empty). */
export function probedStreams(probeJson: string): unknown[] {
  let streams: unknown;
  try {
    streams = (JSON.parse(probeJson) as { streams?: unknown }).streams;
  } catch (error) {
    // Not JSON (ffprobe cut short or not run): nothing is known about the streams.
    if (error instanceof SyntaxError) return [];
    throw error;
  }
  return Array.isArray(streams) ? streams : [];
}

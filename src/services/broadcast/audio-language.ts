// preferred_audio_language given as a language (research §6.5, E18): probe the input's audio streams once with
// ffprobe and map the first whose language tag matches, else the first audio stream. `-map 0:a:m:language:X?`
// alone would give no audio at all when nothing matches.
import { spawnChild } from '../../core/process/child.ts';
import type { ChildSet } from '../../core/process/child-set.ts';
import { headersArg } from './request.ts';

export const FIRST_AUDIO = '0:a:0?';
const PROBE_TIMEOUT_MS = 10_000;
/** ffprobe's JSON for a file with dozens of streams is a few KiB; more than this is not an answer. */
const MAX_PROBE_OUTPUT = 1024 * 1024;

/** ISO 639-1 ↔ 639-2 (both the B and T forms) for the languages media servers commonly tag. */
const EQUIVALENT: readonly (readonly string[])[] = [
  ['en', 'eng'], ['ja', 'jpn'], ['de', 'deu', 'ger'], ['fr', 'fra', 'fre'], ['es', 'spa'], ['it', 'ita'], ['pt', 'por'],
  ['ru', 'rus'], ['zh', 'zho', 'chi'], ['ko', 'kor'], ['nl', 'nld', 'dut'], ['sv', 'swe'], ['no', 'nor'], ['da', 'dan'],
  ['fi', 'fin'], ['pl', 'pol'], ['cs', 'ces', 'cze'], ['el', 'ell', 'gre'], ['tr', 'tur'], ['ar', 'ara'], ['he', 'heb'],
  ['hi', 'hin'], ['hu', 'hun'], ['ro', 'ron', 'rum'], ['uk', 'ukr'], ['th', 'tha'], ['vi', 'vie'], ['id', 'ind'],
];

function sameLanguage(a: string, b: string): boolean {
  const x = a.trim().toLowerCase();
  const y = b.trim().toLowerCase();
  if (x === y) return true;
  return EQUIVALENT.some((group) => group.includes(x) && group.includes(y));
}

/** The map for `wanted` among ffprobe's audio streams (in order), e.g. `0:a:1?`; the first audio stream when none matches. */
export function audioMapFor(wanted: string, probeJson: string): string {
  let streams: unknown;
  try {
    streams = (JSON.parse(probeJson) as { streams?: unknown }).streams;
  } catch (error) {
    // Not JSON (ffprobe cut short): no language is known, the first audio stream it is.
    if (error instanceof SyntaxError) return FIRST_AUDIO;
    throw error;
  }
  if (!Array.isArray(streams)) return FIRST_AUDIO;
  const index = streams.findIndex((s: { tags?: { language?: unknown } }) => typeof s?.tags?.language === 'string' && sameLanguage(s.tags.language, wanted));
  return index < 0 ? FIRST_AUDIO : `0:a:${index}?`;
}

export interface AudioProbeInput {
  ffprobePath: string;
  url: string;
  headers: Record<string, string> | null;
  offset: number | null;
  children: ChildSet;
  timeoutMs?: number;
}

/** ffprobe's audio streams of the input as JSON text ('' when it could not be run or said nothing in time). */
export async function probeAudioStreams(o: AudioProbeInput): Promise<string> {
  const args = ['-v', 'error', '-select_streams', 'a', '-show_entries', 'stream=index:stream_tags=language', '-of', 'json'];
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

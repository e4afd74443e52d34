// preferred_audio_language given as a language (research §6.5, E18): probe the input's audio streams once with
// ffprobe and map the first whose language tag matches, else the first audio stream. `-map 0:a:m:language:X?`
// alone would give no audio at all when nothing matches.
import { probedStreams } from './stream-probe.ts';

export const FIRST_AUDIO = '0:a:0?';

/** ISO 639-1 ↔ 639-2 (both the B and T forms) for the languages media servers commonly tag. */
const EQUIVALENT: readonly (readonly string[])[] = [
  ['en', 'eng'], ['ja', 'jpn'], ['de', 'deu', 'ger'], ['fr', 'fra', 'fre'], ['es', 'spa'], ['it', 'ita'], ['pt', 'por'],
  ['ru', 'rus'], ['zh', 'zho', 'chi'], ['ko', 'kor'], ['nl', 'nld', 'dut'], ['sv', 'swe'], ['no', 'nor'], ['da', 'dan'],
  ['fi', 'fin'], ['pl', 'pol'], ['cs', 'ces', 'cze'], ['el', 'ell', 'gre'], ['tr', 'tur'], ['ar', 'ara'], ['he', 'heb'],
  ['hi', 'hin'], ['hu', 'hun'], ['ro', 'ron', 'rum'], ['uk', 'ukr'], ['th', 'tha'], ['vi', 'vie'], ['id', 'ind'],
];

/** Same language, also across ISO 639-1/639-2 forms (`ja` = `jpn`); case and spaces ignored. */
export function sameLanguage(a: string, b: string): boolean {
  const x = a.trim().toLowerCase();
  const y = b.trim().toLowerCase();
  if (x === y) return true;
  return EQUIVALENT.some((group) => group.includes(x) && group.includes(y));
}

/** The map for `wanted` among ffprobe's audio streams (in order), e.g. `0:a:1?`; the first audio stream when none matches. */
export function audioMapFor(wanted: string, probeJson: string): string {
  const streams = probedStreams(probeJson);
  const index = (streams as { tags?: { language?: unknown } }[]).findIndex((s) => typeof s?.tags?.language === 'string' && sameLanguage(s.tags.language, wanted));
  return index < 0 ? FIRST_AUDIO : `0:a:${index}?`;
}

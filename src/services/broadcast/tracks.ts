// Which audio and subtitle streams a programme maps (research §6.5, E18): decided before FFmpeg starts, from
// ffprobe answers when the request names a language or asks for subtitles. The probes run in parallel.
import type { ChildSet } from '../../core/process/child-set.ts';
import type { Logger } from '../../log.ts';
import { audioMapFromIndex } from './argv.ts';
import { audioMapFor, FIRST_AUDIO } from './audio-language.ts';
import type { ProgrammeInput } from './start-input.ts';
import { probeStreams } from './stream-probe.ts';
import { subtitlePlan, type SubtitlePlan } from './subtitles.ts';

export interface TrackDeps {
  ffprobePath: string;
  children: ChildSet;
  logger: Logger;
}

export async function chooseTracks(id: string, p: ProgrammeInput, deps: TrackDeps): Promise<{ audioMap: string; subtitle: SubtitlePlan | null }> {
  const [audioMap, subtitle] = await Promise.all([chooseAudio(id, p, deps), chooseSubtitles(id, p, deps)]);
  return { audioMap, subtitle };
}

/** Digits name a track; a language is looked up with ffprobe, the first audio track when it is not there. */
async function chooseAudio(id: string, p: ProgrammeInput, deps: TrackDeps): Promise<string> {
  const map = audioMapFromIndex(p.preferredAudio);
  if (map !== null || p.preferredAudio === null) return map ?? FIRST_AUDIO;
  const json = await probeStreams({ ffprobePath: deps.ffprobePath, url: p.streamUrl, headers: p.headers, offset: p.offset, children: deps.children }, 'a');
  const chosen = audioMapFor(p.preferredAudio, json);
  deps.logger.info('broadcast audio track chosen', { network_id: id, language: p.preferredAudio, map: chosen, probed: json !== '' });
  return chosen;
}

/** Subtitles as WebVTT when asked for and a text stream exists (the subtitle file, else the source); else none. */
async function chooseSubtitles(id: string, p: ProgrammeInput, deps: TrackDeps): Promise<SubtitlePlan | null> {
  const wanted = p.subtitles;
  if (wanted === null) return null;
  // The media server's subtitle URL carries its key in the query; the Plex headers are for the media, not it.
  const input = wanted.url === null ? { url: p.streamUrl, headers: p.headers, offset: p.offset } : { url: wanted.url, headers: null, offset: null };
  const json = await probeStreams({ ffprobePath: deps.ffprobePath, ...input, children: deps.children }, 's');
  const plan = subtitlePlan(wanted, json);
  if (plan === null) {
    deps.logger.warn('broadcast subtitles skipped: no text subtitle stream', { network_id: id, from: wanted.url === null ? 'source' : 'subtitle_url', probed: json !== '' });
  } else {
    deps.logger.info('broadcast subtitles mapped', { network_id: id, map: plan.map });
  }
  return plan;
}

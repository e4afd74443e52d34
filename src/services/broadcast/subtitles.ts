// Subtitles of a broadcast (research §6.5): m3u-editor asks for a toggleable WebVTT rendition, never burn-in. It
// synthesises a master playlist pointing at `live_vtt.m3u8`, which FFmpeg's HLS muxer writes (with `live<N>.vtt`
// segments) when a subtitle stream is mapped with `-c:s webvtt`. The track is either a second input (`subtitle_url`,
// the media server's own text subtitle) or one of the source's embedded streams. Only text subtitles can become
// WebVTT: a bitmap one (PGS, DVB, VobSub) would make FFmpeg exit, so the choice is made from an ffprobe answer and
// an input without a text subtitle stream plays without subtitles.
import { sameLanguage } from './audio-language.ts';
import { probedStreams } from './stream-probe.ts';

/** What the start payload asked for; null when `subtitles_enabled` is not true. */
export interface SubtitleRequest {
  /** The media server's subtitle file (http or https), a second FFmpeg input; null = an embedded stream. */
  url: string | null;
  /** A language (`eng`, `ja`) or, as digits, the position among the source's subtitle streams. */
  language: string | null;
  /** `-ss` before the subtitle input (0 when the media server already seeked it). */
  seekSeconds: number;
}

/** What reaches the argv once a text stream was found. */
export interface SubtitlePlan {
  /** The second input, or null when the stream is the source's own. */
  url: string | null;
  seekSeconds: number;
  /** `-map` value, e.g. `0:s:1` or `1:s:0`. */
  map: string;
}

/** FFmpeg decoders of text subtitles (what its webvtt encoder can take). */
const TEXT_CODECS = new Set([
  'subrip', 'srt', 'ass', 'ssa', 'webvtt', 'mov_text', 'text', 'subviewer', 'subviewer1', 'microdvd', 'mpl2',
  'jacosub', 'pjs', 'realtext', 'sami', 'stl', 'vplayer', 'eia_608',
]);

interface ProbedSubtitle {
  codec_name?: unknown;
  tags?: { language?: unknown };
}

function isText(s: ProbedSubtitle): boolean {
  return typeof s.codec_name === 'string' && TEXT_CODECS.has(s.codec_name);
}

/**
 * The type-relative index of the subtitle stream to map, or null when there is no text one. Digits name a position
 * among all subtitle streams (bitmap ones count, as in the editor's track list); a language picks the first text
 * stream tagged with it; otherwise, or when the wanted one is not text, the first text stream (as the editor does).
 */
export function subtitleIndexFor(wanted: string | null, probeJson: string): number | null {
  const streams = probedStreams(probeJson) as ProbedSubtitle[];
  const want = wanted?.trim() ?? '';
  if (/^\d+$/.test(want)) {
    const n = Number(want);
    const s = streams[n];
    if (s !== undefined && isText(s)) return n;
  } else if (want !== '') {
    const n = streams.findIndex((s) => isText(s) && typeof s.tags?.language === 'string' && sameLanguage(s.tags.language, want));
    if (n >= 0) return n;
  }
  const first = streams.findIndex(isText);
  return first < 0 ? null : first;
}

/** The plan for a request given ffprobe's subtitle streams of the input that carries them (null: play without). */
export function subtitlePlan(request: SubtitleRequest, probeJson: string): SubtitlePlan | null {
  // A subtitle file has one stream: any language preference was already applied by the media server.
  const index = subtitleIndexFor(request.url === null ? request.language : null, probeJson);
  if (index === null) return null;
  return request.url === null
    ? { url: null, seekSeconds: 0, map: `0:s:${index}` }
    : { url: request.url, seekSeconds: request.seekSeconds, map: `1:s:${index}` };
}

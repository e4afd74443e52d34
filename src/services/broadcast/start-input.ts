// The body of POST /broadcast/{id}/start (research §6.2, §6.5) as typed input, or a 422 naming the field.
// Every value that reaches FFmpeg's argv is checked against a narrow pattern: a filter or codec option built from
// client text could otherwise make FFmpeg read local files (e.g. `scale=1,movie=/etc/passwd`).
import { parseHttpUrl } from '../../core/url.ts';
import { ValidationError } from '../../errors.ts';
import { checkOutputDir, intField, normaliseHeaders, splitRangeSuffix } from './request.ts';
import type { EncodingFields } from './argv.ts';
import type { SubtitleRequest } from './subtitles.ts';

/** What one programme needs: the start fields that `next_stream_config` repeats. */
export interface ProgrammeInput extends EncodingFields {
  /** Without a `#range=` suffix; `offset` holds its byte offset. */
  streamUrl: string;
  offset: number | null;
  seekSeconds: number;
  durationSeconds: number;
  segmentDuration: number;
  listSize: number;
  preferredAudio: string | null;
  /** Null unless `subtitles_enabled` is true. */
  subtitles: SubtitleRequest | null;
  callbackUrl: string | null;
}

export interface StartInput extends ProgrammeInput {
  segmentStartNumber: number;
  addDiscontinuity: boolean;
  dvr: boolean;
  metadata: Record<string, unknown> | null;
  /** Resolved directory that holds broadcast_<id>, or null for the default one. */
  outputDir: string | null;
  /** Started when this programme ends with exit 0 (never chained: its own next is ignored). */
  next: ProgrammeInput | null;
}

export interface StartInputLimits {
  broadcastDir: string;
  allowedDirs: readonly string[];
}

const WORD = /^[A-Za-z0-9_.-]{1,32}$/;
const RESOLUTION = /^\d{1,5}x\d{1,5}$/;
const BITRATE = /^\d{1,7}$/;
const DEFAULT_SEGMENT_SECONDS = 6;
const DEFAULT_LIST_SIZE = 20;
const MAX_SEGMENT_SECONDS = 60;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function boolField(body: Record<string, unknown>, name: string): boolean {
  const v = body[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new ValidationError(`${name} must be a boolean`);
  return v;
}

/** Seconds may be fractional (FFmpeg's -ss/-t take them), never negative. */
function secondsField(body: Record<string, unknown>, name: string): number {
  const v = body[name];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValidationError(`${name} must be a non-negative number of seconds`);
  return v;
}

function patternField(body: Record<string, unknown>, name: string, pattern: RegExp): string | null {
  let v = body[name];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'number' && Number.isInteger(v)) v = String(v);
  if (typeof v !== 'string' || !pattern.test(v)) throw new ValidationError(`${name} has an unsupported value`);
  return v;
}

function urlField(body: Record<string, unknown>, name: string, required: boolean): string | null {
  const v = body[name];
  if ((v === undefined || v === null || v === '') && !required) return null;
  if (typeof v !== 'string' || parseHttpUrl(v) === undefined) throw new ValidationError(`${name} must be an http or https URL`);
  return v;
}

function subtitlesField(body: Record<string, unknown>): SubtitleRequest | null {
  if (!boolField(body, 'subtitles_enabled')) return null;
  const language = body['subtitle_language'];
  if (language !== undefined && language !== null && typeof language !== 'string') throw new ValidationError('subtitle_language must be a string');
  return {
    url: urlField(body, 'subtitle_url', false),
    language: typeof language === 'string' && language.trim() !== '' ? language.trim() : null,
    seekSeconds: secondsField(body, 'subtitle_seek_seconds'),
  };
}

function programme(body: Record<string, unknown>, dvr: boolean): ProgrammeInput {
  const raw = urlField(body, 'stream_url', true) ?? '';
  const { url, offset } = splitRangeSuffix(raw);
  const segmentDuration = intField(body, 'segment_duration', DEFAULT_SEGMENT_SECONDS);
  if (segmentDuration < 1 || segmentDuration > MAX_SEGMENT_SECONDS) throw new ValidationError(`segment_duration must be from 1 to ${MAX_SEGMENT_SECONDS}`);
  // 0 keeps every segment: only a DVR recording may grow without bound, a live window stays bounded on disk.
  const listSize = intField(body, 'hls_list_size', DEFAULT_LIST_SIZE);
  const preferred = body['preferred_audio_language'];
  if (preferred !== undefined && preferred !== null && typeof preferred !== 'string') throw new ValidationError('preferred_audio_language must be a string');
  return {
    streamUrl: url,
    offset,
    seekSeconds: secondsField(body, 'seek_seconds'),
    durationSeconds: secondsField(body, 'duration_seconds'),
    segmentDuration,
    listSize: dvr ? 0 : listSize === 0 ? DEFAULT_LIST_SIZE : listSize,
    transcode: boolField(body, 'transcode'),
    videoCodec: patternField(body, 'video_codec', WORD),
    audioCodec: patternField(body, 'audio_codec', WORD),
    preset: patternField(body, 'preset', WORD),
    videoBitrate: patternField(body, 'video_bitrate', BITRATE),
    audioBitrate: intField(body, 'audio_bitrate', 192),
    videoResolution: patternField(body, 'video_resolution', RESOLUTION),
    hwaccel: patternField(body, 'hwaccel', WORD),
    headers: normaliseHeaders(body['headers']),
    preferredAudio: typeof preferred === 'string' && preferred.trim() !== '' ? preferred.trim() : null,
    subtitles: subtitlesField(body),
    callbackUrl: urlField(body, 'callback_url', false),
  };
}

export function parseStartInput(body: unknown, limits: StartInputLimits): StartInput {
  if (!isObject(body)) throw new ValidationError('Body must be a JSON object with a stream_url');
  const dvr = boolField(body, 'dvr_mode');
  const metadata = body['metadata'];
  if (metadata !== undefined && metadata !== null && !isObject(metadata)) throw new ValidationError('metadata must be an object');
  const next = body['next_stream_config'];
  if (next !== undefined && next !== null && !isObject(next)) throw new ValidationError('next_stream_config must be an object');
  return {
    ...programme(body, dvr),
    segmentStartNumber: intField(body, 'segment_start_number', 0),
    addDiscontinuity: boolField(body, 'add_discontinuity'),
    dvr,
    metadata: isObject(metadata) ? metadata : null,
    outputDir: checkOutputDir(body['output_dir'], limits.broadcastDir, limits.allowedDirs),
    next: isObject(next) ? programme(next, dvr) : null,
  };
}

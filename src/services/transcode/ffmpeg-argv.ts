// The FFmpeg command line for a transcode (research §5.2 and §7): our fixed options first, the stream's User-Agent
// and headers right before the one input, the template's own arguments, then the output we decide (stdout, or the
// stream's own HLS directory). Anything in a template that would read or write a local file is refused with 400.
import { BadRequestError } from '../../errors.ts';
import { detectOutput, type OutputInfo, outputStart } from './output.ts';
import type { Rendered } from './template.ts';

/** Before every template: no stdin (a TTY must not steer it), warnings only, progress key=value lines on stderr. */
export const FFMPEG_PREFIX = ['-nostdin', '-hide_banner', '-loglevel', 'warning', '-nostats', '-progress', 'pipe:2'] as const;
/** The input may only be fetched over the network: an HLS source cannot point FFmpeg at local files. */
const INPUT_PROTOCOLS = 'http,https,tcp,tls,crypto,httpproxy';
export const HLS_PLAYLIST = 'index.m3u8';
/** Segments kept on disk at most (hls_list_size 0 would keep every segment): disk stays bounded. */
const MAX_HLS_LIST = 100;

/** Options that read or write a file named in the template, or that we set ourselves. */
const REFUSED_OPTIONS = new Set(['-attach', '-dump_attachment', '-vstats_file', '-passlogfile', '-sdp_file', '-progress', '-protocol_whitelist']);

const isPipe = (a: string): boolean => a === 'pipe:1' || a === 'pipe:' || a === '-';

/** 400 for what would reach the file system: `file:` URLs, absolute or `..` paths, extra non-http inputs, *_script options. */
export function checkTemplateArgs(r: Rendered): void {
  r.args.forEach((a, i) => {
    if (i === r.inputIndex) return;
    if (/file:/i.test(a)) throw new BadRequestError('Templates may not name file: URLs');
    if (a === '-i' && i + 1 !== r.inputIndex && !/^https?:\/\//i.test(r.args[i + 1] ?? '')) {
      throw new BadRequestError('A second input must be an http(s) URL: templates may not read local files');
    }
    if (REFUSED_OPTIONS.has(a) || (a.startsWith('-') && a.endsWith('_script'))) throw new BadRequestError(`Templates may not use ${a}`);
    if (/(^|[=:,;])a?movie=/.test(a)) throw new BadRequestError('Templates may not use the movie filters (they read files)');
    if (namesLocalPath(a)) throw new BadRequestError('Templates may not name absolute or parent paths');
  });
}

/** Where an absolute path may start inside one argument: its start, or after a filter's or muxer's separators. */
const PATH_START = /(^|[=:,;|[\]'"\s])\//;
/** A render node (VA-API templates name it: -vaapi_device /dev/dri/renderD128, vaapi=va:/dev/dri/renderD128) is a device. */
const RENDER_NODES = /\/dev\/dri\/(renderD|card)\d{1,3}(?![\w/])/g;
/** `scheme://`: a URL (http inputs, rtmp outputs), not a path; file: URLs are refused on their own. */
const SCHEMES = /[a-z][a-z0-9+.-]*:\/\//gi;

/**
 * An absolute or parent path anywhere in an argument: not only an output named `/x`, but a path inside a filter's or a
 * muxer's own argument (drawtext=textfile=/etc/..., subtitles=/..., -f tee [f=mpegts]/...), which FFmpeg reads or
 * writes as well. Relative paths stay in the process's own directory.
 */
function namesLocalPath(arg: string): boolean {
  const rest = arg.replace(SCHEMES, '').replace(RENDER_NODES, '');
  return PATH_START.test(rest) || /(^|[^.])\.\.([/\\]|$)/.test(rest);
}

export interface ArgvInput {
  rendered: Rendered;
  url: string;
  userAgent: string;
  headers: Readonly<Record<string, string>>;
  /** HLS output: the stream's directory (the process runs there). */
  hlsDir?: string;
}

/**
 * The argv after `ffmpeg`. `url` replaces the rendered input (failover restarts the same args on another URL).
 * Stdout kinds end in `pipe:1`; HLS ends in `<dir>/index.m3u8` with segment deletion merged into `-hls_flags`.
 */
export function buildFfmpegArgv(input: ArgvInput): { argv: string[]; output: OutputInfo } {
  const { rendered } = input;
  const args = [...rendered.args];
  const output = detectOutput(args);
  const before: string[] = ['-user_agent', input.userAgent];
  const headerLines = Object.entries(input.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  if (headerLines !== '') before.push('-headers', headerLines);
  before.push('-protocol_whitelist', INPUT_PROTOCOLS);
  const at = rendered.inputIndex - 1; // the '-i'
  const head = args.slice(0, at);
  let tail = args.slice(at + 2);
  // Without -map FFmpeg picks one stream of each kind by its own rules; the reference maps the first of each, optional.
  if (!args.includes('-map')) tail = ['-map', '0:v:0?', '-map', '0:a:0?', ...tail];
  const last = tail.length - 1;
  if (output.kind === 'hls') {
    if (input.hlsDir === undefined) throw new Error('HLS output needs its directory');
    if (last >= outputStart(tail) && (isPipe(tail[last]!) || tail[last]!.endsWith('.m3u8'))) tail.pop();
    tail = mergeHlsFlags(tail);
    tail.push(`${input.hlsDir}/${HLS_PLAYLIST}`);
  } else if (last >= 0 && isPipe(tail[last]!)) {
    tail[last] = 'pipe:1';
    // MP4 to a pipe must be fragmented, or FFmpeg refuses the non-seekable output (research §5.3).
    if ((output.format === 'mp4' || output.format === 'mov') && !tail.includes('-movflags')) tail.splice(last, 0, '-movflags', 'frag_keyframe+empty_moov');
  } else {
    if (!tail.includes('-f')) tail.push('-f', 'mpegts');
    tail.push('pipe:1');
  }
  return { argv: [...FFMPEG_PREFIX, ...head, ...before, '-i', input.url, ...tail], output };
}

/** delete_segments and temp_file added to the template's -hls_flags; hls_list_size 0 (keep all) bounded. */
function mergeHlsFlags(tail: string[]): string[] {
  const out = [...tail];
  const f = out.indexOf('-hls_flags');
  if (f >= 0 && f + 1 < out.length) {
    const flags = out[f + 1]!.replace(/^\+/, '').split('+').filter((x) => x !== '');
    for (const want of ['delete_segments', 'temp_file']) if (!flags.includes(want)) flags.push(want);
    out[f + 1] = flags.join('+');
  } else {
    out.push('-hls_flags', 'delete_segments+temp_file');
  }
  const n = out.indexOf('-hls_list_size');
  if (n >= 0 && (out[n + 1] === '0' || Number(out[n + 1]) > MAX_HLS_LIST)) out[n + 1] = String(MAX_HLS_LIST);
  const seg = out.indexOf('-hls_segment_filename');
  if (seg >= 0 && /[\\/]/.test(out[seg + 1] ?? '')) throw new BadRequestError('-hls_segment_filename must be a plain file name');
  return out;
}

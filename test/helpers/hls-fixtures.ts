// Real HLS for e2e tests: ffmpeg-encoded media playlists and segments on disk, served by the test origin as
// files (VOD) or through a sliding live window, and a reader for the URIs of a proxied playlist.
import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Behaviour } from './origin.ts';
import { runOk } from './ffmpeg.ts';

export interface EncodedHls {
  dir: string;
  /** The media playlist ffmpeg wrote (index.m3u8), as text. */
  playlist: string;
  /** Segment file names in playlist order, with their EXTINF durations in seconds. */
  segments: { name: string; duration: number }[];
  targetDuration: number;
}

/**
 * Encodes `seconds` of test pattern and tone as H.264/AAC HLS in `dir`: one-second segments seg000.ts... (a
 * keyframe every second) and index.m3u8 with relative URIs. `keyInfoFile` encrypts them (AES-128, RFC 8216 §4.3.2.4).
 */
export async function encodeHls(t: TestContext, dir: string, opts: { seconds: number; keyInfoFile?: string }): Promise<EncodedHls> {
  mkdirSync(dir, { recursive: true });
  const s = opts.seconds;
  await runOk(t, 'ffmpeg', [
    '-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=25:duration=${s}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${s}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '64k', '-shortest',
    '-f', 'hls', '-hls_time', '1', '-hls_list_size', '0', '-hls_playlist_type', 'vod',
    ...(opts.keyInfoFile ? ['-hls_key_info_file', opts.keyInfoFile] : []),
    '-hls_segment_filename', 'seg%03d.ts', 'index.m3u8',
  ], { cwd: dir });
  const playlist = readFileSync(join(dir, 'index.m3u8'), 'utf8');
  const segments: { name: string; duration: number }[] = [];
  let duration = 0;
  for (const line of playlist.split('\n').map((l) => l.trim())) {
    const inf = /^#EXTINF:([\d.]+)/.exec(line);
    if (inf) duration = Number(inf[1]);
    else if (line !== '' && !line.startsWith('#')) segments.push({ name: line, duration });
  }
  const target = /#EXT-X-TARGETDURATION:(\d+)/.exec(playlist);
  if (segments.length === 0 || !target) throw new Error(`ffmpeg wrote no usable playlist:\n${playlist}`);
  return { dir, playlist, segments, targetDuration: Number(target[1]) };
}

const TYPES: Record<string, string> = { '.m3u8': 'application/vnd.apple.mpegurl', '.ts': 'video/mp2t' };

/** Every file under `dir` as an origin file route at `prefix/relative/path` (Range and Content-Length included). */
export function fileRoutes(dir: string, prefix: string, routes: Record<string, Behaviour> = {}): Record<string, Behaviour> {
  // A plain walk: Dirent.parentPath needs Node 20.12, and engines allow any Node 20.
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name);
    if (entry.isDirectory()) fileRoutes(file, `${prefix}/${entry.name}`, routes);
    else if (entry.isFile()) {
      routes[`${prefix}/${entry.name}`] = { kind: 'file', body: readFileSync(file), contentType: TYPES[extname(file)] ?? 'application/octet-stream' };
    }
  }
  return routes;
}

export interface LiveWindow {
  /** The origin route serving the live media playlist. */
  behaviour: Behaviour;
  /** Index of the last segment in the window the first player saw: later indexes appeared while it played. */
  readonly lastIndexAtStart: number;
  /** Times the playlist was served. */
  readonly served: number;
}

/**
 * A live media playlist (no EXT-X-ENDLIST, RFC 8216 §6.2.1) over pre-encoded segments: `windowSize` segments
 * whose EXT-X-MEDIA-SEQUENCE advances by one every `advanceMs` of wall time. The live clock starts at the first
 * playlist request, so the first player always sees segments 0..windowSize-1 and every later one is new to it.
 * The window stops at the last segment and never ends the list (a player waiting beyond it hits its deadline).
 */
export function liveWindow(media: EncodedHls, opts: { windowSize: number; advanceMs: number }): LiveWindow {
  let startedAt: number | undefined;
  let served = 0;
  const maxFirst = media.segments.length - opts.windowSize;
  return {
    behaviour: {
      kind: 'handler',
      handle(_req, res) {
        startedAt ??= performance.now();
        const first = Math.min(maxFirst, Math.floor((performance.now() - startedAt) / opts.advanceMs));
        const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${media.targetDuration}`, `#EXT-X-MEDIA-SEQUENCE:${first}`];
        for (const seg of media.segments.slice(first, first + opts.windowSize)) lines.push(`#EXTINF:${seg.duration.toFixed(6)},`, seg.name);
        const body = Buffer.from(lines.join('\n') + '\n');
        served++;
        res.writeHead(200, { 'content-type': TYPES['.m3u8'] ?? '', 'content-length': String(body.length), 'cache-control': 'no-cache' });
        res.end(body);
      },
    },
    lastIndexAtStart: opts.windowSize - 1,
    get served() {
      return served;
    },
  };
}

export interface PlaylistUri {
  /** 'p' after EXT-X-STREAM-INF or in EXT-X-MEDIA/I-FRAME tags, else 's' (SPEC §5.2: decided by the tag). */
  expectedKind: 'p' | 's';
  /** The tag carrying the URI in an attribute, or 'line' for a URI line. */
  tag: string;
  /** The URI as written, and resolved against the playlist's URL. */
  raw: string;
  url: string;
}

const PLAYLIST_TAGS = new Set(['#EXT-X-MEDIA', '#EXT-X-I-FRAME-STREAM-INF', '#EXT-X-RENDITION-REPORT']);

/** Every URI of a playlist (URI lines and URI="..." attributes) in order, resolved against `playlistUrl`. */
export function playlistUris(text: string, playlistUrl: string): PlaylistUri[] {
  const uris: PlaylistUri[] = [];
  let variantNext = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) {
      const tag = line.split(':')[0] ?? line;
      if (tag === '#EXT-X-STREAM-INF') variantNext = true;
      const attr = /URI="([^"]*)"/.exec(line);
      if (attr?.[1] !== undefined) {
        uris.push({ expectedKind: PLAYLIST_TAGS.has(tag) ? 'p' : 's', tag, raw: attr[1], url: new URL(attr[1], playlistUrl).href });
      }
    } else if (line.trim() !== '') {
      uris.push({ expectedKind: variantNext ? 'p' : 's', tag: 'line', raw: line, url: new URL(line, playlistUrl).href });
      variantNext = false;
    }
  }
  return uris;
}

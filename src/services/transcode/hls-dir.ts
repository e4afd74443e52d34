// The per-stream directories HLS transcodes write into (SPEC §13): one per stream id under HLS_TEMP_DIR, private to
// the proxy user, emptied at each start, removed with the process; leftovers of a previous run removed at start-up.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { listDir } from '../../core/callback-fs.ts';

const PREFIX = 'm3u_proxy_hls_';
const OURS = /^m3u_proxy_hls_[0-9a-f]{32}$/;

export function hlsDirOf(base: string, streamId: string): string {
  return join(base, PREFIX + streamId);
}

/** A fresh, empty directory for a new process. */
export async function freshHlsDir(base: string, streamId: string): Promise<string> {
  const dir = hlsDirOf(base, streamId);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export function removeHlsDir(base: string, streamId: string): Promise<void> {
  return rm(hlsDirOf(base, streamId), { recursive: true, force: true });
}

/** Start-up: no process survives a restart, so every directory of ours is a leftover. Returns how many went. */
export async function removeLeftoverHlsDirs(base: string): Promise<number> {
  let names: string[];
  try {
    names = await listDir(base);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0; // no base yet: nothing left over
    throw err;
  }
  const ours = names.filter((n) => OURS.test(n));
  await Promise.all(ours.map((n) => rm(join(base, n), { recursive: true, force: true })));
  return ours.length;
}

/** Names a playlist of ours may point at: one path segment, no dot first (so no `..`), nothing else. */
export const SAFE_FILE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

const TYPES: Record<string, string> = {
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  vtt: 'text/vtt',
  aac: 'audio/aac',
  m3u8: 'application/vnd.apple.mpegurl',
};

export function hlsFileType(name: string): string {
  return TYPES[name.slice(name.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * FFmpeg's playlist with every URI made `t/<name>` (relative to /hls/{id}/playlist.m3u8): media lines and
 * `URI="…"` attributes. A URI that is not a plain file name of the directory is dropped, never passed on. `query`
 * (e.g. `?client_id=x`) goes after each, so a player keeps its client id through the segments.
 */
export function rewriteHlsOutput(text: string, query = ''): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const l = line.replace(/\r$/, '');
    if (l.startsWith('#')) {
      out.push(l.replace(/URI="([^"]*)"/g, (m, uri: string) => (SAFE_FILE.test(uri) ? `URI="t/${uri}${query}"` : m.replace(uri, ''))));
      continue;
    }
    if (l.trim() === '') {
      out.push(l);
      continue;
    }
    if (SAFE_FILE.test(l.trim())) out.push(`t/${l.trim()}${query}`);
  }
  return out.join('\n');
}

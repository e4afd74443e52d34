import { readdir } from 'node:fs/promises';

/** Names a player may fetch from a network's directory: no separators, nothing but what FFmpeg writes there. */
const SAFE_NAME = /^[A-Za-z0-9._-]+$/;
const SERVED = /^(live\.m3u8|live_vtt\.m3u8|live\d+\.ts|[A-Za-z0-9_-]+\.vtt)$/;
const SEGMENT = /^live(\d+)\.ts$/;

/** Whether a requested file name may be served from a network's directory (`..` and hidden names excluded). */
export function servableName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.startsWith('.') && SERVED.test(name);
}

/** The highest segment number on disk (what `stop` answers as final_segment_number), null when none. */
export async function lastSegmentNumber(dir: string): Promise<number | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    // ENOENT: the directory was never made or was deleted; no segment then
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let last: number | null = null;
  for (const name of names) {
    const m = SEGMENT.exec(name);
    if (m !== null) last = Math.max(last ?? 0, Number(m[1]));
  }
  return last;
}

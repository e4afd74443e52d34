// Watches one running programme's directory once a second: counts the bytes of each new segment (B5), notices when
// FFmpeg stops producing (B3: decided by output, not by stderr text), and deletes the previous programme's segments
// once the new playlist no longer lists them and they are older than the window (B11), so disk stays bounded.
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const SEGMENT = /^live(\d+)\.ts$/;
/** Video segments and the WebVTT ones FFmpeg writes beside them when subtitles are mapped (`live12.vtt`). */
const MEDIA = /^live(\d+)\.(?:ts|vtt)$/;
const PLAYLISTS = ['live.m3u8', 'live_vtt.m3u8'];

export interface DirWatchOptions {
  dir: string;
  /** This programme's first segment number: lower numbers belong to earlier programmes. */
  startNumber: number;
  /** Seconds of segments a playlist lists (hls_list_size × segment_duration): older leftovers may go. */
  windowMs: number;
  /** DVR keeps every segment. */
  keepAll: boolean;
  /** Earlier programmes' segments the served playlist still lists (B12): kept until they slide out. */
  retained?: () => ReadonlySet<string>;
  /** No new segment for this long: onStall (once). */
  stallMs: number;
  intervalMs?: number;
  onStall(): void;
  onError(error: unknown): void;
  now?: () => number;
}

export class DirWatch {
  bytesWritten = 0;
  lastSegment: number | null = null;
  readonly #o: DirWatchOptions;
  readonly #now: () => number;
  readonly #seen = new Set<string>();
  #lastNewAt: number;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #stalled = false;

  constructor(options: DirWatchOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#lastNewAt = this.#now();
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.tick(), this.#o.intervalMs ?? 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One look at the directory; overlapping calls are skipped (a slow disk must not pile them up). */
  async tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      await this.#look();
    } catch (error) {
      // ENOENT: DELETE removed the directory between two looks; the watch is stopped right after.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.#o.onError(error);
    } finally {
      this.#busy = false;
    }
  }

  async #look(): Promise<void> {
    const names = await readdir(this.#o.dir);
    const present = new Set<string>();
    const older: string[] = [];
    for (const name of names) {
      const media = MEDIA.exec(name);
      if (media !== null && Number(media[1]) < this.#o.startNumber) {
        older.push(name);
        continue;
      }
      const m = SEGMENT.exec(name);
      if (m === null) continue;
      const n = Number(m[1]);
      present.add(name);
      if (this.#seen.has(name)) continue;
      this.#seen.add(name);
      this.#lastNewAt = this.#now();
      this.lastSegment = Math.max(this.lastSegment ?? n, n);
      this.bytesWritten += await sizeOf(join(this.#o.dir, name));
    }
    // Names FFmpeg deleted (delete_segments) are forgotten, so the set stays as small as the window.
    for (const name of this.#seen) if (!present.has(name)) this.#seen.delete(name);
    if (!this.#o.keepAll && older.length > 0) await this.#pruneOlder(older);
    if (!this.#stalled && this.#now() - this.#lastNewAt > this.#o.stallMs) {
      this.#stalled = true;
      this.#o.onStall();
    }
  }

  async #pruneOlder(names: string[]): Promise<void> {
    const listed = await playlistNames(this.#o.dir);
    for (const name of this.#o.retained?.() ?? []) listed.add(name);
    const cutoff = this.#now() - this.#o.windowMs;
    for (const name of names) {
      if (listed.has(name)) continue;
      const path = join(this.#o.dir, name);
      const info = await stat(path).catch(() => undefined); // gone meanwhile: nothing to prune
      if (info !== undefined && info.mtimeMs < cutoff) await unlink(path).catch(() => undefined); // gone meanwhile
    }
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    // FFmpeg's delete_segments can remove a segment between our readdir and stat: it counted for nothing.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/** The segment names live.m3u8 and live_vtt.m3u8 list now (empty when there are none yet). */
export async function playlistNames(dir: string): Promise<Set<string>> {
  const listed = new Set<string>();
  for (const playlist of PLAYLISTS) {
    let text: string;
    try {
      text = await readFile(join(dir, playlist), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const line of text.split(/\r?\n/)) if (MEDIA.test(line.trim())) listed.add(line.trim());
  }
  return listed;
}

/**
 * Transition clean-up (research §6.2 step 1): segments and temp files neither the current playlist nor `keep` (what
 * the served playlist still carries over, B12) lists.
 */
export async function deleteUnlisted(dir: string, keep: ReadonlySet<string> = new Set()): Promise<void> {
  const listed = await playlistNames(dir);
  for (const name of keep) listed.add(name);
  const names = await readdir(dir).catch(() => [] as string[]); // no directory: nothing to delete
  for (const name of names) {
    if ((MEDIA.test(name) && !listed.has(name)) || name.endsWith('.tmp')) await unlink(join(dir, name)).catch(() => undefined); // gone meanwhile
  }
}

/** Fresh start: every playlist, segment and temp file of an earlier broadcast in the directory. */
export async function deleteMedia(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]); // no directory: nothing to delete
  for (const name of names) {
    if (/\.(ts|m3u8|vtt|tmp)$/.test(name)) await unlink(join(dir, name)).catch(() => undefined); // gone meanwhile
  }
}

// Abandoned broadcast directories (research §6.3 GC, §6.5 DVR): a `broadcast_<id>` directory that no listed network
// uses and that nothing has written or read for longer than a bound is removed, on start-up and on the sweeper's
// timer. m3u-editor DELETEs its networks' directories itself; this catches the ones it never comes back for (a
// network deleted in the editor, a proxy that was down during the editor's boot recovery). DVR directories are kept
// at least a day: the editor downloads a recording after it ends.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listDir } from '../../core/callback-fs.ts';

const DIR_NAME = /^broadcast_([A-Za-z0-9_-]{1,64})$/;
export const DVR_MIN_AGE_MS = 24 * 3600_000;

export interface DirGcInput {
  /** Bases that hold `broadcast_<id>` directories with their minimum age: HLS_BROADCAST_DIR, allowed dirs, DVR. */
  bases: ReadonlyArray<{ dir: string; minAgeMs: number }>;
  /** True while the network is listed or was read recently: its directory stays whatever its age. */
  inUse(id: string): boolean;
  /** Removes one directory (under the network's lock, re-checking `inUse`); resolves true when removed. */
  remove(id: string, dir: string, minAgeMs: number): Promise<boolean>;
  onError(dir: string, error: unknown): void;
}

/** One pass over every base; resolves with the directories removed. */
export async function sweepBroadcastDirs(o: DirGcInput): Promise<string[]> {
  const removed: string[] = [];
  for (const base of o.bases) {
    let names: string[];
    try {
      names = await listDir(base.dir);
    } catch (error) {
      // ENOENT: nothing was ever written there
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') o.onError(base.dir, error);
      continue;
    }
    for (const name of names) {
      const id = DIR_NAME.exec(name)?.[1];
      if (id === undefined || o.inUse(id)) continue;
      const dir = join(base.dir, name);
      try {
        if (await o.remove(id, dir, base.minAgeMs)) removed.push(dir);
      } catch (error) {
        o.onError(dir, error);
      }
    }
  }
  return removed;
}

/**
 * Milliseconds since anything in the directory changed: the newest mtime of the directory and of its files (a
 * file written in place changes only its own mtime). Undefined when it is not a directory.
 */
export async function idleMs(dir: string, now: number): Promise<number | undefined> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (info === undefined || !info.isDirectory()) return undefined;
  let newest = info.mtimeMs;
  for (const name of await readdir(dir)) {
    const file = await stat(join(dir, name)).catch(() => undefined); // deleted meanwhile: it changed nothing since
    if (file !== undefined) newest = Math.max(newest, file.mtimeMs);
  }
  return now - newest;
}

/** Removes `dir` when it has been idle for at least `minAgeMs`; true when it did. */
export async function removeIfIdle(dir: string, minAgeMs: number, now: number): Promise<boolean> {
  const idle = await idleMs(dir, now);
  if (idle === undefined || idle < minAgeMs) return false;
  await rm(dir, { recursive: true, force: true });
  return true;
}

// Where each network's files are (research §6.5 output_dir, B6): the directory it last used, else (after a restart,
// when the proxy no longer knows) the first base holding a `broadcast_<id>` directory. Also when players last read
// them, since a stopped network's playlist is still served from disk and such a directory is in use.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DVR_MIN_AGE_MS } from './dir-gc.ts';

export interface DirBases {
  broadcastDir: string;
  /** BROADCAST_ALLOWED_DIRS: where an output_dir may have put a network's files. */
  allowedDirs: readonly string[];
  dvrDir: string;
}

export class DirBook {
  readonly #bases: DirBases;
  readonly #dirs = new Map<string, string>();
  readonly #lastRead = new Map<string, number>();

  constructor(bases: DirBases) {
    this.#bases = bases;
  }

  remember(id: string, dir: string): void {
    this.#dirs.set(id, dir);
  }

  forget(id: string): void {
    this.#dirs.delete(id);
    this.#lastRead.delete(id);
  }

  /** After the clean-up removed `dir`: forgotten unless the network has moved elsewhere meanwhile. */
  removed(id: string, dir: string): void {
    if (this.#dirs.get(id) === dir) this.#dirs.delete(id);
  }

  /** Every directory the network may have written to (DELETE removes them all). */
  all(id: string): string[] {
    const known = this.#dirs.get(id);
    return [...new Set([...(known === undefined ? [] : [known]), ...this.#candidates(id)])];
  }

  /** The directory to serve from (`running`: the process's own); a read that finds one is remembered. */
  async find(id: string, running: string | undefined): Promise<string> {
    const known = running ?? this.#dirs.get(id);
    if (known !== undefined) {
      this.#lastRead.set(id, Date.now());
      return known;
    }
    const candidates = this.#candidates(id);
    for (const dir of candidates) {
      if (await isDirectory(dir)) {
        // Only directories that exist are remembered: a player asking for random ids adds nothing.
        this.#lastRead.set(id, Date.now());
        return dir;
      }
    }
    return candidates[0] ?? join(this.#bases.broadcastDir, `broadcast_${id}`);
  }

  /** Read within `ageMs`; older reads are forgotten here, so the map holds only recent ones. */
  readWithin(id: string, ageMs: number, now: number): boolean {
    const at = this.#lastRead.get(id);
    if (at === undefined) return false;
    if (now - at < ageMs) return true;
    this.#lastRead.delete(id);
    return false;
  }

  pruneReads(ageMs: number, now: number): void {
    for (const [id, at] of this.#lastRead) if (now - at >= ageMs) this.#lastRead.delete(id);
  }

  /** The bases the clean-up looks in, each with its minimum idle age (DVR recordings: at least a day). */
  gcBases(ageMs: number): Array<{ dir: string; minAgeMs: number }> {
    const live = [this.#bases.broadcastDir, ...this.#bases.allowedDirs].map((dir) => ({ dir, minAgeMs: ageMs }));
    return [...live, { dir: this.#bases.dvrDir, minAgeMs: Math.max(ageMs, DVR_MIN_AGE_MS) }];
  }

  #candidates(id: string): string[] {
    const b = this.#bases;
    return [b.broadcastDir, ...b.allowedDirs, b.dvrDir].map((base) => join(base, `broadcast_${id}`));
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    // ENOENT/ENOTDIR: not there; anything else (EACCES) is worth an error answer.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
}

// The state file on disk (SPEC §12). A save is atomic and durable: temp file, fsync, rename over the old file,
// fsync of the directory, so a kill at any moment leaves the old or the new file, never a torn one. The version
// replaced is kept beside it as <file>.bak: the last good state, should the file ever be damaged from outside.
// node:fs's callback API (core/callback-fs.ts): the first save is made at start-up, and node:fs/promises would stay.
import { dirname, resolve } from 'node:path';
import { fileOps, readText } from '../../core/callback-fs.ts';
import { decodeState, encodeState } from '../../core/state/state-file.ts';
import { StateError } from '../../errors.ts';
import type { StateStore } from './store.ts';

function codeOf(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** For removals that may find nothing to remove. */
function unlessMissing(err: unknown): void {
  if (codeOf(err) !== 'ENOENT') throw err;
}

async function exists(path: string): Promise<boolean> {
  try {
    await fileOps.stat(path);
    return true;
  } catch (err) {
    unlessMissing(err);
    return false;
  }
}

/** fsync of a directory makes the rename in it durable (rename(2) alone may sit in the page cache). */
async function syncDirectory(dir: string): Promise<void> {
  const fd = await fileOps.open(dir, 'r');
  try {
    await fileOps.fsync(fd);
  } finally {
    await fileOps.close(fd);
  }
}

export function createFileStateStore(path: string, now: () => number = Date.now): StateStore {
  const file = resolve(path);
  const dir = dirname(file);
  const tmp = `${file}.tmp`;
  const bak = `${file}.bak`;
  const bakTmp = `${file}.bak.tmp`;
  let dirReady = false;

  /** The file about to be replaced becomes <file>.bak (a hard link: no copy), itself replaced atomically. */
  async function keepPrevious(): Promise<void> {
    await fileOps.unlink(bakTmp).catch(unlessMissing);
    try {
      await fileOps.link(file, bakTmp);
    } catch (err) {
      if (codeOf(err) === 'ENOENT') return; // first save: nothing to keep yet
      // Filesystems without hard links (some network and FUSE mounts): a copy does the same job.
      await fileOps.copyFile(file, bakTmp);
    }
    await fileOps.rename(bakTmp, bak);
  }

  return {
    where: file,

    async load() {
      let text: string;
      try {
        text = await readText(file);
      } catch (err) {
        if (codeOf(err) === 'ENOENT') return undefined; // first start: nothing saved yet
        throw new StateError('STATE_UNREADABLE', `cannot read the state file ${file} (${reason(err)})`, { cause: err });
      }
      try {
        return decodeState(text);
      } catch (err) {
        if (!(err instanceof StateError)) throw err;
        const backup = (await exists(bak)) ? `; the previous good state is in ${bak}` : '';
        throw new StateError(
          err.code,
          `the state file ${file} ${err.message}; it was left untouched${backup} (move it away to start empty, or set STATE_FILE= to run without state)`,
          { cause: err },
        );
      }
    },

    async save(snapshot) {
      const text = encodeState(snapshot, now());
      if (!dirReady) {
        // 0700: the file holds provider URLs, upstream headers and the playback key.
        await fileOps.mkdir(dir, { recursive: true, mode: 0o700 });
        dirReady = true;
      }
      const fd = await fileOps.open(tmp, 'w', 0o600);
      try {
        await fileOps.writeFile(fd, text, 'utf8');
        await fileOps.fsync(fd);
      } finally {
        await fileOps.close(fd);
      }
      await keepPrevious();
      await fileOps.rename(tmp, file);
      await syncDirectory(dir);
    },
  };
}

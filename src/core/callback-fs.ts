// File system calls through node:fs's callback API, for those a server makes at start-up (the state file's load and
// its first save, the sweeps' directory listings). The bundle loads node:fs/promises at its first use
// (bin/lazy-builtins.ts); used here, it would stay loaded in every server for these few calls, with what it pulls in
// (readline, fs watchers, directory handles): ~1.7 MiB of an idle server's RSS (issue 24.7).
import { close, copyFile, fsync, link, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs';
import { promisify } from 'node:util';

export const listDir = (dir: string): Promise<string[]> => promisify(readdir)(dir);
export const readText = (file: string): Promise<string> => promisify(readFile)(file, 'utf8');

/** The calls of an atomic, durable file replacement (services/state/file-store.ts). */
export const fileOps = {
  open: promisify(open),
  writeFile: promisify(writeFile),
  fsync: promisify(fsync),
  close: promisify(close),
  mkdir: promisify(mkdir),
  rename: promisify(rename),
  link: promisify(link),
  copyFile: promisify(copyFile),
  unlink: promisify(unlink),
  stat: promisify(stat),
};

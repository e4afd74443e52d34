// Netscape cookies.txt files for the resolvers (research §3.3, SPEC §13): read only inside COOKIES_DIR, at most
// 1 MiB, never echoed; the content a request sends is written to a private (0600) temp file per process.
import { lstat, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, sep } from 'node:path';

export const MAX_COOKIES_FILE_BYTES = 1024 * 1024;

export interface Cookie {
  name: string;
  value: string;
}

/** Cookie lines (7 tab-separated fields; `#HttpOnly_` lines are cookies, other `#` lines comments). */
export function parseNetscapeCookies(text: string): Cookie[] {
  const out: Cookie[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.startsWith('#HttpOnly_') ? raw.slice('#HttpOnly_'.length) : raw;
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split('\t');
    if (f.length !== 7 || f[5] === '') continue;
    out.push({ name: f[5]!, value: f[6]! });
  }
  return out;
}

export type CookiesCheck = { valid: true; message: string; path: string } | { valid: false; message: string };

/** Whether `path` names a usable cookies file inside `dir`; the message never quotes the file. */
export async function checkCookiesFile(dir: string | undefined, path: string | null): Promise<CookiesCheck> {
  if (path === null || path === '') return { valid: false, message: 'path is required' };
  if (dir === undefined) return { valid: false, message: 'COOKIES_DIR is not configured on the proxy: cookies files are refused' };
  if (!isAbsolute(path)) return { valid: false, message: 'path must be absolute' };
  let real: string;
  let base: string;
  try {
    base = await realpath(dir);
    real = await realpath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { valid: false, message: code === 'ENOENT' ? 'File not found' : `File cannot be read (${code ?? 'error'})` };
  }
  // Symlinks resolved first: a link inside the directory cannot lead out of it.
  if (!real.startsWith(base + sep)) return { valid: false, message: 'path is outside COOKIES_DIR' };
  const info = await lstat(real);
  if (!info.isFile()) return { valid: false, message: 'path is not a regular file' };
  if (info.size > MAX_COOKIES_FILE_BYTES) return { valid: false, message: 'File is larger than 1 MiB' };
  let text: string;
  try {
    text = await readFile(real, 'utf8');
  } catch (err) {
    return { valid: false, message: `File cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  const n = parseNetscapeCookies(text).length;
  if (n === 0) return { valid: false, message: 'No Netscape-format cookie lines found' };
  return { valid: true, message: `Cookies file is readable (${n} cookies)`, path: real };
}

/** A private temp file holding `content`; `remove()` deletes it and its directory. */
export async function writeCookiesTemp(content: string): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'm3u_proxy_cookies_'));
  const path = join(dir, 'cookies.txt');
  await writeFile(path, content, { mode: 0o600, flag: 'wx' });
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

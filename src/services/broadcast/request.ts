import { resolve } from 'node:path';
import { BadRequestError, ValidationError, echoInput } from '../../errors.ts';

/** The editor's Network uuid (or DVR recording uuid): it names a directory, so nothing that can leave it. */
const NETWORK_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Emby "rewritten static" URLs end with `#range=<bytes>-` (research §6.5): an initial byte offset. */
const RANGE_SUFFIX = /#range=(\d+)-$/;

export function checkNetworkId(id: string): string {
  if (!NETWORK_ID.test(id)) throw new BadRequestError(`Invalid network_id: ${echoInput(id)}`, 'INVALID_NETWORK_ID');
  return id;
}

/** The stream URL without the `#range=` fragment and the byte offset it carried (null when none). */
export function splitRangeSuffix(url: string): { url: string; offset: number | null } {
  const m = RANGE_SUFFIX.exec(url);
  if (m === null) return { url, offset: null };
  return { url: url.slice(0, m.index), offset: Number(m[1]) };
}

/**
 * Headers as FFmpeg's `-headers` wants them: names and values trimmed, scalars only (research §6.2: else 422),
 * CR/LF refused so a value cannot add a header of its own.
 */
export function normaliseHeaders(value: unknown): Record<string, string> | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError('headers must be an object');
  const out: Record<string, string> = {};
  for (const [rawName, raw] of Object.entries(value as Record<string, unknown>)) {
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      throw new ValidationError(`headers.${rawName} must be a string, number or boolean`);
    }
    const name = rawName.trim();
    const text = String(raw).trim();
    // NUL too: a process argument cannot hold one (spawn would throw).
    if (name === '' || /[\r\n\0:]/.test(name) || /[\r\n\0]/.test(text)) {
      throw new ValidationError(`headers.${rawName} is not a valid header`);
    }
    out[name] = text;
  }
  return out;
}

/** `-headers` value: one `Name: value\r\n` line per header. */
export function headersArg(headers: Record<string, string>): string {
  return Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
}

/**
 * output_dir is honoured only when it is the broadcast directory itself or one of BROADCAST_ALLOWED_DIRS
 * (the reference wrote wherever the caller said). Null means the default directory. A well-formed but
 * disallowed directory is a 400 (research §6.5, E17); m3u-editor shows the `detail` whatever the status, so it
 * names the setting to change.
 */
export function checkOutputDir(value: unknown, broadcastDir: string, allowed: readonly string[]): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw new ValidationError('output_dir must be a string');
  const wanted = resolve(value);
  const ok = [broadcastDir, ...allowed].some((dir) => resolve(dir) === wanted);
  if (!ok) throw new BadRequestError(`output_dir is not an allowed directory: ${echoInput(value)} (add it to BROADCAST_ALLOWED_DIRS)`, 'OUTPUT_DIR_NOT_ALLOWED');
  return wanted;
}

/** A non-negative integer field with its default (the editor sends ints; strings of digits are accepted). */
export function intField(body: Record<string, unknown>, name: string, fallback: number): number {
  const v = body[name];
  if (v === undefined || v === null) return fallback;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new ValidationError(`${name} must be a non-negative integer`);
  }
  return n;
}

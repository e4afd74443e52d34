// One parser per kind of setting value (ports, seconds, sizes, lists, booleans): each reads a raw value and either
// returns it typed or calls `fail`, which throws the one-line ConfigError naming the setting and where it came from.
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import type { LogFormat, LogLevel } from './log.ts';

/** A raw value and where it came from, for error messages ("--port", "PORT", "PORT in .env"). */
export interface Raw {
  value: string;
  from: string;
}

/** Whose X-Forwarded-* headers count: any peer, none, or peers on loopback/private/unique-local addresses. */
export type TrustProxy = boolean | 'private';

export type Fail = (r: Raw, why: string) => never;

/** A host name: dot-separated labels of letters, digits and hyphens. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function parseHost(r: Raw | undefined, fail: Fail): string {
  if (r === undefined) return '0.0.0.0';
  const v = r.value.trim();
  // Checked here, so that `0.0.0.0:8085` or `http://localhost` is one line and exit 2, not a failed listen later.
  const bare = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
  if (isIP(bare) === 0 && !HOST_NAME.test(v)) return fail(r, 'must be a host name or IP address (no port, no scheme)');
  return bare;
}

export function parseStateFile(r: Raw | undefined, def: string): string | undefined {
  if (r === undefined) return def;
  const v = r.value.trim();
  return v === '' ? undefined : v;
}

export function parseMebibytes(r: Raw | undefined, def: number, fail: Fail): number {
  const v = r === undefined ? String(def) : r.value.trim();
  if (r !== undefined && (!/^\d{1,7}$/.test(v))) return fail(r, 'must be a whole number of MiB, 0 or more');
  return Number(v) * 1024 * 1024;
}

export function parsePort(r: Raw | undefined, fail: Fail): number {
  if (r === undefined) return 8085;
  const v = r.value.trim();
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) return fail(r, 'must be an integer from 0 to 65535');
  return Number(v);
}

/** Python's level names (the reference's LOG_LEVEL=INFO, WARNING, CRITICAL) are accepted for drop-in compatibility. */
const LEVEL_NAMES: Record<string, LogLevel> = { error: 'error', critical: 'error', warn: 'warn', warning: 'warn', info: 'info', debug: 'debug' };

export function parseLogLevel(r: Raw | undefined, fail: Fail): LogLevel {
  if (r === undefined) return 'info';
  return LEVEL_NAMES[r.value.trim().toLowerCase()] ?? fail(r, 'must be error, warn, info or debug');
}

export function parseLogFormat(r: Raw | undefined, fail: Fail): LogFormat {
  if (r === undefined) return 'text';
  const v = r.value.trim().toLowerCase();
  if (v === 'text' || v === 'json') return v;
  return fail(r, 'must be text or json');
}

/** '' or '/a/b': leading slash added, trailing slashes dropped; segments limited to RFC 3986 unreserved characters. */
export function parseRootPath(r: Raw | undefined, fail: Fail): string {
  if (r === undefined) return '';
  let v = r.value.trim().replace(/\/+$/, '');
  if (v === '') return '';
  if (!v.startsWith('/')) v = '/' + v;
  const segments = v.slice(1).split('/');
  const ok = segments.every((s) => /^[A-Za-z0-9._~-]+$/.test(s) && s !== '.' && s !== '..');
  if (!ok) return fail(r, 'must be a path like /m3u-proxy (letters, digits, . _ ~ -)');
  return v;
}

export function parsePublicUrl(r: Raw | undefined, fail: Fail): string | undefined {
  if (r === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(r.value.trim());
  } catch (err) {
    if (!(err instanceof TypeError)) throw err; // URL parse failures are TypeErrors; anything else is a bug
    return fail(r, 'must be an absolute http(s) URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return fail(r, 'must be an absolute http(s) URL');
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return fail(r, 'must not carry a query, fragment or credentials');
  }
  return (url.origin + url.pathname).replace(/\/+$/, '');
}

export function parseRetries(r: Raw | undefined, fail: Fail): number {
  if (r === undefined) return 3;
  const v = r.value.trim();
  if (!/^\d{1,6}$/.test(v) || Number(v) < 1) return fail(r, 'must be an integer of at least 1');
  return Number(v);
}

/** A bound on a number of things: a positive integer. */
export function parseCount(r: Raw | undefined, def: number, fail: Fail): number {
  if (r === undefined) return def;
  const v = r.value.trim();
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1) return fail(r, 'must be an integer of at least 1');
  return Number(v);
}

/** SHARE_QUEUE_BYTES: from 64 KiB (a few packets would make every viewer jump) to 1 GiB. */
export function parseQueueBytes(r: Raw | undefined, fail: Fail): number {
  if (r === undefined) return 4 * 1024 * 1024;
  const v = r.value.trim();
  if (!/^\d{1,10}$/.test(v) || Number(v) < 65_536 || Number(v) > 2 ** 30) return fail(r, 'must be a number of bytes from 65536 to 1073741824');
  return Number(v);
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export function parseBool(r: Raw | undefined, fail: Fail): boolean {
  if (r === undefined) return false;
  const v = r.value.trim().toLowerCase();
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  return fail(r, 'must be true or false (also 1/0, yes/no, on/off)');
}

/** HW_ACCEL_TYPE: the two kinds /info can report, lower case; undefined when unset. */
export function parseHwAccelType(r: Raw | undefined, fail: Fail): string | undefined {
  if (r === undefined) return undefined;
  const v = r.value.trim().toLowerCase();
  return v === 'vaapi' || v === 'nvidia' ? v : fail(r, 'must be vaapi or nvidia');
}

export function parseTrustProxy(r: Raw | undefined, fail: Fail): TrustProxy {
  if (r === undefined) return 'private';
  const v = r.value.trim().toLowerCase();
  if (v === 'private') return 'private';
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  return fail(r, 'must be private, true or false (also 1/0, yes/no, on/off)');
}

export function listOf(r: Raw): string[] {
  return r.value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** `https://editor.example.com, http://10.0.0.5:8080` → their origins (scheme://host[:port], lower case). */
export function parseOrigins(r: Raw | undefined, fail: Fail): readonly string[] {
  if (r === undefined) return [];
  return listOf(r).map((item) => {
    const url = URL.canParse(item) ? new URL(item) : undefined;
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin + '/' !== url.href.replace(/\/?$/, '/')) {
      return fail(r, `'${item}' is not an origin like https://editor.example.com`);
    }
    return url.origin;
  });
}

export function parseHostList(r: Raw | undefined, fail: Fail): readonly string[] {
  if (r === undefined) return [];
  return listOf(r).map((item) => {
    const v = item.toLowerCase();
    if (!/^[a-z0-9.-]+$/.test(v)) return fail(r, `'${item}' is not a host name`);
    return v;
  });
}

/** A directory setting: absolute, kept as given (normalised). */
export function parseDir(r: Raw | undefined, def: string, fail: Fail): string {
  if (r === undefined) return def;
  const v = r.value.trim();
  if (!isAbsolute(v)) return fail(r, 'must be an absolute directory');
  return resolve(v);
}

export function parseDirList(r: Raw | undefined, fail: Fail): readonly string[] {
  if (r === undefined) return [];
  return listOf(r).map((item) => (isAbsolute(item) ? resolve(item) : fail(r, `'${item}' is not an absolute directory`)));
}

/** SPEC §16: CLUSTER_REDIS_URL turns cluster mode on; it then needs CLUSTER_SECRET (16+ characters, one for all nodes). */
export function parseCluster(
  redis: Raw,
  secret: Raw | undefined,
  nodeUrl: Raw | undefined,
  leaseTtlMs: number,
  fail: Fail,
): { redisUrl: string; secret: string; nodeUrl: string | undefined; leaseTtlMs: number } {
  const url = redis.value.trim();
  if (!/^rediss?:\/\/[^/]/.test(url)) return fail(redis, 'must be a redis:// or rediss:// URL');
  if (secret === undefined || secret.value.length < 16) return fail(secret ?? redis, 'cluster mode needs CLUSTER_SECRET of at least 16 characters');
  return { redisUrl: url, secret: secret.value, nodeUrl: parsePublicUrl(nodeUrl, fail), leaseTtlMs };
}

/**
 * The playback-token key, made once at its first call. SHA-256 turns a passphrase of any length into the 32-byte
 * AES-256 key, so the same secret gives the same key on every replica; unset, the key is random for this process.
 */
export function urlSecretKey(raw: string | undefined): () => Buffer {
  let key: Buffer | undefined;
  return () => (key ??= raw === undefined ? randomBytes(32) : createHash('sha256').update(raw, 'utf8').digest());
}

// Parses `redis://[[user]:password@]host[:port][/db]` and `rediss://` (TLS) into connection options.

export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  db: number;
  username?: string;
  password?: string;
}

export function parseRedisUrl(raw: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new Error('Redis URL is not a valid URL', { cause: err });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`Redis URL scheme must be redis:// or rediss://, not ${url.protocol}//`);
  const path = url.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0) throw new Error('Redis URL database must be a non-negative integer');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new Error('Redis URL has no host');
  const target: RedisTarget = { host, port: url.port === '' ? 6379 : Number(url.port), tls: url.protocol === 'rediss:', db };
  if (url.username !== '') target.username = decodeURIComponent(url.username);
  if (url.password !== '') target.password = decodeURIComponent(url.password);
  return target;
}

// Upstream URL rules: only absolute http(s) URLs with a host are accepted as stream sources (SPEC §3.1).

const DIRECT_EXTENSIONS = ['.ts', '.mp4', '.mkv', '.webm', '.avi'] as const;
const VOD_EXTENSIONS = ['.mp4', '.mkv', '.webm', '.avi'] as const;

/** Parses `value` as an http(s) URL with a host, or returns undefined. */
export function parseHttpUrl(value: string): URL | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.hostname === '') return undefined;
  return url;
}

// The same stream URL is asked about several times per request (kind, VOD, playlist); parsing it once saves ~10 µs
// of a player's first byte (issue 24.8).
let lastUrl = '';
let lastPath = '';

/** Lowercased path of the URL, query ignored; '' when unparseable. */
function pathOf(value: string): string {
  if (value !== lastUrl) {
    lastPath = URL.canParse(value) ? new URL(value).pathname.toLowerCase() : '';
    lastUrl = value;
  }
  return lastPath;
}

/** SPEC §3.1: "direct" when the path ends in a continuous/VOD file extension, else "hls". */
export function streamKindOf(url: string): 'hls' | 'direct' {
  const path = pathOf(url);
  return DIRECT_EXTENSIONS.some((ext) => path.endsWith(ext)) ? 'direct' : 'hls';
}

/** True when the path ends in a finite-file extension (a VOD by its name). */
export function isVodPath(url: string): boolean {
  const path = pathOf(url);
  return VOD_EXTENSIONS.some((ext) => path.endsWith(ext));
}

export function isPlaylistPath(url: string): boolean {
  const path = pathOf(url);
  return path.endsWith('.m3u8') || path.endsWith('.m3u');
}

const TYPES_BY_EXTENSION: Record<string, string> = {
  ts: 'video/mp2t',
  m2ts: 'video/mp2t',
  mp4: 'video/mp4',
  m4s: 'video/iso.segment',
  m4v: 'video/mp4',
  m4a: 'audio/mp4',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
  avi: 'video/x-msvideo',
  aac: 'audio/aac',
  mp3: 'audio/mpeg',
  vtt: 'text/vtt',
  m3u8: 'application/vnd.apple.mpegurl',
  key: 'application/octet-stream',
};

/** Content type from the URL's extension, used when the origin sends none or a generic one (SPEC §5.1). */
export function contentTypeForUrl(url: string): string | undefined {
  const path = pathOf(url);
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < path.lastIndexOf('/')) return undefined;
  return TYPES_BY_EXTENSION[path.slice(dot + 1)];
}

/**
 * A URL as it may be logged: scheme, host and (with `keepLast`) its path's last segment. Provider credentials sit in
 * the userinfo, the query, and in the path too: Xtream Codes URLs, the most common IPTV form, are
 * `/live/{user}/{password}/{id}.ts`; a webhook receiver's secret is often its path. `…` stands for the rest.
 */
export function redactUrl(value: string, keepLast = true): string {
  if (!URL.canParse(value)) return '<invalid url>';
  const url = new URL(value);
  const origin = `${url.protocol}//${url.host}`;
  const path = url.pathname;
  if (path === '/') return `${origin}/`;
  if (!keepLast) return `${origin}/…`;
  const slash = path.lastIndexOf('/');
  return `${origin}${slash > 0 ? '/…' : ''}${path.slice(slash)}`;
}

/**
 * Query parameters whose values are never logged: the API token (SPEC §4), and URLs that may carry provider or receiver
 * credentials (the reference's `?url=` forms, `webhook_url`).
 */
const SECRET_PARAMS: ReadonlySet<string> = new Set(['api_token', 'token', 'url', 'webhook_url', 'password']);

/**
 * A request target (`/path?query`) safe to log: the value of every secret parameter becomes `***`. Names are matched
 * after the same decoding the server applies when it reads them (URLSearchParams: percent-escapes and `+`), so
 * `api%5Ftoken=` or `%75rl=` cannot slip through; the raw name is kept so the log still shows what was sent.
 */
export function redactRequestTarget(target: string): string {
  const q = target.indexOf('?');
  if (q < 0) return target;
  const pairs = target.slice(q + 1).split('&');
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i] ?? '';
    if (pair === '') continue;
    // One pair parsed on its own: exactly the name the route's URLSearchParams will see.
    const name = new URLSearchParams(pair).keys().next().value;
    if (name !== undefined && SECRET_PARAMS.has(name.toLowerCase())) {
      const eq = pair.indexOf('=');
      pairs[i] = `${eq < 0 ? pair : pair.slice(0, eq)}=***`;
    }
  }
  return `${target.slice(0, q)}?${pairs.join('&')}`;
}

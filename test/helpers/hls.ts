// HLS test helpers (SPEC §5.2, §5.4): playlists written as templates with marked URIs, a byte-exact matcher for the
// rewritten playlist, and raw HTTP requests that keep every byte (fetch() would decode compressed bodies).
//
// Usage:
//   const tpl = m3u8`#EXTM3U\n#EXTINF:4,\n${seg('a.ts')}\n`;       origin serves tpl.body
//   const urls = matchRewritten(text, tpl, '', streamId);          one proxy URL per mark, in order
//   const r = await get(proxyUrl(proxy, urls[0]));                 r.body is the exact bytes
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { RunningProxy } from './start-proxy.ts';
import { api } from './start-proxy.ts';

/** A URI in a template and what the proxy must make of it: a playlist URL (`p`) or a segment URL (`s`). */
export interface Mark {
  kind: 'p' | 's';
  ref: string;
  /** The extension the proxy URL must end with; undefined: any [a-z0-9]{1,5}. */
  ext: string | undefined;
}

export const playlistRef = (ref: string): Mark => ({ kind: 'p', ref, ext: 'm3u8' });

/** A segment URI; the proxy URL ends with the extension of the upstream path (SPEC §5.4) when it has a short one. */
export function segmentRef(ref: string): Mark {
  const path = ref.split(/[?#]/)[0] ?? '';
  const m = /\.([A-Za-z0-9]{1,5})$/.exec(path.slice(path.lastIndexOf('/') + 1));
  return { kind: 's', ref, ext: m?.[1]?.toLowerCase() };
}

export interface Template {
  /** What the origin serves: the template with each mark replaced by its ref. */
  body: string;
  marks: Mark[];
  /** The literal text between marks (marks.length + 1 pieces). */
  parts: string[];
}

/** Tagged template: `${playlistRef(..)}`/`${segmentRef(..)}` are URIs to rewrite; strings and numbers are literal. */
export function m3u8(strings: TemplateStringsArray, ...values: (Mark | string | number)[]): Template {
  const parts: string[] = [strings[0] ?? ''];
  const marks: Mark[] = [];
  let body = strings[0] ?? '';
  values.forEach((v, i) => {
    const next = strings[i + 1] ?? '';
    if (typeof v === 'object') {
      marks.push(v);
      parts.push(next);
      body += v.ref + next;
    } else {
      parts[parts.length - 1] += String(v) + next;
      body += String(v) + next;
    }
  });
  return { body, marks, parts };
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The proxy URL pattern of SPEC §5.4: `{base}/hls/{id}/{p|s}/{token}.{ext}`. */
export function proxyUrlPattern(base: string, id: string, kind: 'p' | 's', ext?: string): string {
  return `${escapeRe(base)}/hls/${id}/${kind}/[A-Za-z0-9_-]+\\.${ext === undefined ? '[a-z0-9]{1,5}' : escapeRe(ext)}`;
}

/** A proxy URI relative to the playlist that carries it (SPEC §2 without PUBLIC_URL): `s/T.ts`, `../s/T.ts`, `T.m3u8`. */
function relativeUriPattern(ext?: string): string {
  return `(?:\\.\\./)?(?:[ps]/)?[A-Za-z0-9_-]+\\.${ext === undefined ? '[a-z0-9]{1,5}' : escapeRe(ext)}`;
}

/**
 * Without PUBLIC_URL the URIs are relative to the playlist: a master (`/hls/{id}/playlist.m3u8`) hands out `p/T`
 * and `s/T`, a variant (`/hls/{id}/p/X.m3u8`) `T` and `../s/T`. Checks that one playlist uses one of the two
 * placements consistently, and returns each URI as the root-relative `{root}/hls/{id}/{kind}/{file}` it resolves to.
 */
function resolveRelative(uris: string[], marks: Mark[], root: string, id: string): string[] {
  const parts = uris.map((u) => /^((?:\.\.\/)?(?:[ps]\/)?)([^/]+)$/.exec(u) ?? assert.fail(`not a relative proxy URI: ${u}`));
  const fromMaster = marks.map((m) => `${m.kind}/`);
  const fromVariant = marks.map((m) => (m.kind === 'p' ? '' : '../s/'));
  const prefixes = parts.map((m) => m[1] ?? '');
  const placement = prefixes.every((p, i) => p === fromMaster[i]) ? 'master' : prefixes.every((p, i) => p === fromVariant[i]) ? 'variant' : undefined;
  assert.ok(placement, `relative URIs of mixed placement or wrong kind: ${uris.join(' ')} (kinds ${marks.map((m) => m.kind).join('')})`);
  return parts.map((m, i) => `${root}/hls/${id}/${marks[i]?.kind ?? ''}/${m[2] ?? ''}`);
}

/**
 * Asserts that `text` is the template byte for byte (BOM, line endings, tags, no added final newline) with every
 * mark replaced by a proxy URL of the right kind; returns those URLs in mark order. `base` is PUBLIC_URL (absolute
 * URIs on it), or ROOT_PATH ('' for none): the URIs are then relative, and come back resolved, root-relative.
 */
export function matchRewritten(text: string, tpl: Template, base: string, id: string): string[] {
  const absolute = /^https?:/.test(base);
  let source = '^' + escapeRe(tpl.parts[0] ?? '');
  tpl.marks.forEach((m, i) => {
    source += `(${absolute ? proxyUrlPattern(base, id, m.kind, m.ext) : relativeUriPattern(m.ext)})` + escapeRe(tpl.parts[i + 1] ?? '');
  });
  const match = new RegExp(source + '$').exec(text);
  if (!match) {
    const show = (s: string): string => JSON.stringify(s.length > 4000 ? s.slice(0, 4000) + '…' : s);
    assert.fail(`rewritten playlist does not match its template\n  got:      ${show(text)}\n  template: ${show(tpl.body)}`);
  }
  const uris = match.slice(1).map((u) => u ?? '');
  return absolute ? uris : resolveRelative(uris, tpl.marks, base, id);
}

/** Every URI a player would fetch from a playlist: URI lines and URI="..." attributes, in order. */
export function playlistUris(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /URI="([^"]*)"/.exec(line);
      if (m?.[1] !== undefined) out.push(m[1]);
    } else out.push(line);
  }
  return out;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The body parsed as JSON (throws when it is not JSON). */
  json(): { detail?: unknown; code?: unknown } & Record<string, unknown>;
}

/** One request on a fresh connection; the body is kept exactly as received (no decoding of any kind). */
export function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', reject);
      res.once('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) as ReturnType<RawResponse['json']> });
      });
    });
    req.once('error', reject);
    req.end();
  });
}

/**
 * Absolute URL on the proxy for a URI it handed out: root-relative (or any path with ROOT_PATH already in it), or
 * relative to `from`, the absolute URL of the playlist that carried it (SPEC §2).
 */
export function proxyUrl(proxy: RunningProxy, uri: string, from?: string): string {
  return new URL(uri, from ?? `http://127.0.0.1:${proxy.port}`).href;
}

export interface CreatedHls {
  stream_id: string;
  playlist_url: string;
  stream_endpoint: string;
  stream_type: string;
}

export async function createHlsStream(proxy: RunningProxy, url: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<CreatedHls> {
  const r = await api(proxy.base, 'POST', '/streams', { url, ...extra }, headers);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as CreatedHls;
}

/** Asserts a JSON error answer of SPEC §9 with `status` and `code`, and no upstream URL in it. */
export function assertJsonError(r: RawResponse, status: number, code: string): void {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status}: ${r.text.slice(0, 300)}`);
  assert.match(String(r.headers['content-type']), /json/);
  const body = r.json();
  assert.equal(body.code, code);
  assert.equal(typeof body.detail, 'string');
  assert.doesNotMatch(r.text, /127\.0\.0\.1|https?:\/\//, 'no upstream URL in an error body');
}

// Header passes between player and origin (SPEC §5.1): small pure functions, each doing one tweak, run in order.
import type { IncomingHttpHeaders } from 'node:http';
import { contentTypeForUrl } from '../url.ts';
import { MEDIA_ACCEPT_ENCODING } from './decode.ts';

/** RFC 9110 §7.6.1 connection-specific headers, plus the legacy ones; never forwarded in either direction. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

/** Player headers that make seeking and revalidation work end to end. */
export const FORWARDED_PLAYER_HEADERS = ['range', 'if-range', 'if-none-match', 'if-modified-since'] as const;

/**
 * Origin headers a player needs to seek, cache and decode; everything else stays between proxy and origin.
 * Content-Encoding: media is asked for as `identity`, but an origin that compresses anyway has its bytes passed on
 * untouched, so the player must be told how to decode them (issue 12.1; Content-Length and ranges then count encoded
 * bytes, consistently). Playlists are the exception: they are decoded to be rewritten and sent as identity.
 */
export const MIRRORED_RESPONSE_HEADERS = ['content-length', 'content-range', 'accept-ranges', 'last-modified', 'etag', 'content-encoding'] as const;

/**
 * Custom stream headers the proxy must own: framing and host are per connection, and the byte path passes bodies
 * through unchanged, so it never asks for a content coding it would have to undo.
 */
const PROXY_OWNED_HEADERS: ReadonlySet<string> = new Set(['host', 'content-length', 'accept-encoding']);

/** The first value of a header Node may give as a list. */
export function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Names listed in a Connection header are hop-by-hop for that message too (RFC 9110 §7.6.1). */
export function connectionTokens(value: string | string[] | undefined): Set<string> {
  const out = new Set<string>();
  const text = Array.isArray(value) ? value.join(',') : value;
  if (!text) return out;
  for (const token of text.split(',')) {
    const t = token.trim().toLowerCase();
    if (t !== '') out.add(t);
  }
  return out;
}

/** The player's Range and conditional headers, lowercased; hop-by-hop never reaches here. */
export function pickPlayerHeaders(player: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_PLAYER_HEADERS) {
    const v = first(player[name]);
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

/** True when the player asked a conditional question an origin may answer 304. */
export function isConditional(player: Readonly<Record<string, string>>): boolean {
  return player['if-none-match'] !== undefined || player['if-modified-since'] !== undefined;
}

export interface UpstreamHeaderInput {
  userAgent: string;
  /** The stream's custom headers (Referer, Cookie, Authorization...). */
  custom: Readonly<Record<string, string>>;
  /** Already picked player headers (see pickPlayerHeaders), or a resume Range. */
  forwarded?: Readonly<Record<string, string>>;
}

/**
 * Whether a media response answers the player's request: 200/206, a 304 to a conditional request, or a 416 to a
 * Range the origin cannot satisfy (the player's question, the origin's answer). Anything else moves the walk on.
 */
export function isUsableMediaStatus(status: number, player: Readonly<Record<string, string>>): boolean {
  if (status === 200 || status === 206) return true;
  if (status === 304) return isConditional(player);
  return status === 416 && player['range'] !== undefined;
}

/**
 * Upstream request headers: the stream's User-Agent, its custom headers, Accept: * / *, Accept-Encoding: identity
 * (media is relayed byte for byte; playlists override it through `forwarded`), then the forwarded ones.
 */
export function buildUpstreamHeaders(input: UpstreamHeaderInput): Record<string, string> {
  const out: Record<string, string> = { 'user-agent': input.userAgent, accept: '*/*', 'accept-encoding': MEDIA_ACCEPT_ENCODING };
  for (const [rawName, value] of Object.entries(input.custom)) {
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP_HEADERS.has(name) || PROXY_OWNED_HEADERS.has(name)) continue;
    out[name] = value;
  }
  if (input.forwarded) for (const [name, value] of Object.entries(input.forwarded)) out[name] = value;
  return out;
}

/**
 * SPEC §5.1: the origin's type, unless it is missing or the generic octet-stream; then the URL extension's.
 * Only media is answered with mirrored headers (playlists are rewritten or refused), so a playlist type there is a
 * mislabel (issue 14.4: live TS labelled as a playlist) and is not passed on: a player would parse it as one.
 */
export function contentTypeFor(upstreamType: string | undefined, url: string): string | undefined {
  const lower = upstreamType?.toLowerCase() ?? '';
  if (lower.includes('mpegurl')) return contentTypeForUrl(url) ?? 'application/octet-stream';
  const generic = upstreamType === undefined || upstreamType === '' || lower.startsWith('application/octet-stream');
  if (!generic) return upstreamType;
  return contentTypeForUrl(url) ?? upstreamType;
}

/** The headers the player receives from an origin response; `url` is the URL that answered (for the type fallback). */
export function mirrorResponseHeaders(upstream: IncomingHttpHeaders, url: string): Record<string, string> {
  const out: Record<string, string> = {};
  const hop = connectionTokens(upstream.connection);
  const type = contentTypeFor(first(upstream['content-type']), url);
  if (type !== undefined) out['content-type'] = type;
  for (const name of MIRRORED_RESPONSE_HEADERS) {
    if (hop.has(name)) continue;
    const v = first(upstream[name]);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Drops hop-by-hop headers, including those the Connection header names. */
export function dropHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const hop = connectionTokens(headers.connection);
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (HOP_BY_HOP_HEADERS.has(name) || hop.has(name)) continue;
    out[name] = value;
  }
  return out;
}

export interface ContentRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
  /** Full size, or undefined for '*'. */
  total: number | undefined;
}

/** Parses `bytes a-b/n` or `bytes a-b/*` (RFC 9110 §14.4); anything else is undefined. */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? undefined : Number(m[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}

/** A non-negative integer Content-Length, or undefined. */
export function parseContentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

/** The Range header that resumes a body at `nextByte`; an explicit end only when the original range stopped early. */
export function resumeRange(nextByte: number, lastByte: number, total: number | undefined): string {
  return total !== undefined && lastByte === total - 1 ? `bytes=${nextByte}-` : `bytes=${nextByte}-${lastByte}`;
}

// Edge validation: unknown JSON from a request becomes typed input here, or a 422 naming the field (SPEC §3.1).
import type { SilenceSettings, StreamInput } from '../core/registry.ts';
import { parseHttpUrl, streamKindOf } from '../core/url.ts';
import { echoInput, ValidationError } from '../errors.ts';
import { isPlainObject } from './body.ts';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MAX_URL_LENGTH = 8192;

export function requireHttpUrl(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(`${field} must be a non-empty string`);
  if (value.length > MAX_URL_LENGTH) throw new ValidationError(`${field} is longer than ${MAX_URL_LENGTH} characters`);
  if (!parseHttpUrl(value)) throw new ValidationError(`${field} must be an http or https URL with a host`);
  return value;
}

/** Python's str() of a scalar, as the reference stored metadata: true -> "True", 42 -> "42". */
export function metadataValue(value: unknown, key: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new ValidationError(`metadata.${echoInput(key)} must be a string, number or boolean`);
}

function parseMetadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new ValidationError('metadata must be an object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) out[k] = metadataValue(v, k);
  return out;
}

/**
 * A `headers` object of a request body: valid header names, string values without line breaks. A null value is a
 * header left unset, as the editor sends a playlist's unset headers (to /streams and /transcode alike): left out.
 */
export function parseHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new ValidationError('headers must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!HEADER_NAME.test(k)) throw new ValidationError(`headers: invalid header name ${JSON.stringify(echoInput(k))}`);
    if (v === null) continue;
    if (typeof v !== 'string') throw new ValidationError(`headers.${echoInput(k)} must be a string`);
    // CR/LF would let a caller smuggle extra headers or requests into what the proxy sends (upstream, webhooks).
    if (/[\r\n\0]/.test(v)) throw new ValidationError(`headers.${echoInput(k)} contains a line break`);
    out[k] = v;
  }
  return out;
}

function parseFailoverUrls(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ValidationError('failover_urls must be an array of URLs');
  return value.map((u, i) => requireHttpUrl(u, `failover_urls[${i}]`));
}

function parseUserAgent(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new ValidationError('user_agent must be a string');
  if (/[\r\n\0]/.test(value)) throw new ValidationError('user_agent contains a line break');
  return value;
}

/** A JSON boolean, or null/absent for the default (the reference's Optional[bool]). */
function optionalBool(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new ValidationError(`${field} must be true or false`);
  return value;
}

/** The reference's silence-detection fields (m3u-editor sends them): kept only to be answered back. */
export const SILENCE_FIELDS = {
  enable_silence_detection: 'boolean',
  silence_threshold_db: 'number',
  silence_duration: 'number',
  silence_check_interval: 'number',
  silence_failover_threshold: 'number',
  silence_monitoring_grace_period: 'number',
} as const;

function parseSilence(body: Record<string, unknown>): SilenceSettings {
  const out: Record<string, boolean | number | null> = {};
  for (const [name, type] of Object.entries(SILENCE_FIELDS)) {
    const v = body[name];
    if (v === undefined) continue;
    if (v !== null && (typeof v !== type || (typeof v === 'number' && !Number.isFinite(v)))) {
      throw new ValidationError(`${name} must be a ${type === 'boolean' ? 'boolean' : 'number'}`);
    }
    out[name] = v as boolean | number | null;
  }
  return out;
}

/** POST /streams body -> StreamInput. Unknown fields are ignored, as the reference did. */
export function parseStreamInput(body: unknown): StreamInput {
  if (!isPlainObject(body)) throw new ValidationError('Body must be a JSON object with a url');
  const url = requireHttpUrl(body['url'], 'url');
  const resolver = body['failover_resolver_url'];
  const input: StreamInput = {
    url,
    failoverUrls: parseFailoverUrls(body['failover_urls']),
    userAgent: parseUserAgent(body['user_agent']),
    headers: parseHeaders(body['headers']),
    metadata: parseMetadata(body['metadata']),
    kind: streamKindOf(url),
    resolverUrl: resolver === undefined || resolver === null || resolver === '' ? null : requireHttpUrl(resolver, 'failover_resolver_url'),
    strictLiveTs: optionalBool(body['strict_live_ts'], 'strict_live_ts') ?? false,
    useStickySession: optionalBool(body['use_sticky_session'], 'use_sticky_session') ?? false,
    silence: parseSilence(body),
  };
  const share = optionalBool(body['share_upstream'], 'share_upstream');
  // Absent: the service applies SHARE_LIVE_UPSTREAM.
  if (share !== undefined) input.shareUpstream = share;
  return input;
}

export interface MetadataFilter {
  field: string;
  value: string;
  excludeChannelId: string | undefined;
  /** Default true, as the reference (SPEC §3.2). */
  activeOnly: boolean;
  /** DELETE /streams/by-metadata: false deletes only streams left without viewers (default true). */
  force: boolean;
  /** DELETE /streams/by-metadata with force=false: the viewer that is leaving. */
  clientId: string | undefined;
}

function scalarParam(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return metadataValue(value, name);
  throw new ValidationError(`${name} must be a string`);
}

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0', 'no', 'off']);

/** A query boolean as FastAPI reads one (Laravel sends true as `1`); absent: the default; anything else: 422. */
export function parseBool(value: string | undefined, name: string, def: boolean): boolean {
  if (value === undefined || value === '') return def;
  const v = value.toLowerCase();
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  throw new ValidationError(`${name} must be true or false (also 1/0)`);
}

/** Metadata filters come from the query string or a JSON body (SPEC §3.2); the query wins per field. */
export function parseMetadataFilter(query: URLSearchParams, body: unknown): MetadataFilter {
  const b = isPlainObject(body) ? body : {};
  const pick = (name: string): string | undefined => query.get(name) ?? scalarParam(b[name], name);
  const field = pick('field');
  const value = pick('value');
  if (!field) throw new ValidationError('field is required');
  if (value === undefined) throw new ValidationError('value is required');
  const clientId = pick('client_id');
  if (clientId !== undefined && clientId.length > 128) throw new ValidationError('client_id is longer than 128 characters');
  return {
    field,
    value,
    excludeChannelId: pick('exclude_channel_id'),
    activeOnly: parseBool(pick('active_only'), 'active_only', true),
    force: parseBool(pick('force'), 'force', true),
    clientId: clientId === '' ? undefined : clientId,
  };
}

/** GET /streams/counts-by-metadata: `values` is a comma-separated list; blanks are dropped (as the reference). */
export function parseCountsQuery(query: URLSearchParams): { field: string; values: string[]; activeOnly: boolean } {
  const field = query.get('field');
  const values = query.get('values');
  if (!field) throw new ValidationError('field is required');
  if (values === null) throw new ValidationError('values is required');
  const list = values.split(',').map((v) => v.trim()).filter((v) => v !== '');
  return { field, values: [...new Set(list)], activeOnly: parseBool(query.get('active_only') ?? undefined, 'active_only', true) };
}

/** `limit` and `offset` of a paged list answer (issue 14); absent: the first DEFAULT_PAGE_LIMIT records. */
export function parsePage(query: URLSearchParams, defaultLimit: number, maxLimit: number): { limit: number; offset: number } {
  const count = (name: string, def: number, min: number, max: number): number => {
    const raw = query.get(name);
    if (raw === null || raw === '') return def;
    if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new ValidationError(`${name} must be an integer from ${min} to ${max}`);
    }
    return Number(raw);
  };
  return { limit: count('limit', defaultLimit, 1, maxLimit), offset: count('offset', 0, 0, 999_999_999) };
}

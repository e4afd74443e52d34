// Edge validation: unknown JSON from a request becomes typed input here, or a 422 naming the field (SPEC §3.1).
import type { StreamInput } from '../core/registry.ts';
import { parseHttpUrl, streamKindOf } from '../core/url.ts';
import { ValidationError } from '../errors.ts';
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
  throw new ValidationError(`metadata.${key} must be a string, number or boolean`);
}

function parseMetadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new ValidationError('metadata must be an object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) out[k] = metadataValue(v, k);
  return out;
}

function parseHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new ValidationError('headers must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!HEADER_NAME.test(k)) throw new ValidationError(`headers: invalid header name ${JSON.stringify(k)}`);
    if (typeof v !== 'string') throw new ValidationError(`headers.${k} must be a string`);
    // CR/LF would let a caller smuggle extra upstream headers or requests.
    if (/[\r\n\0]/.test(v)) throw new ValidationError(`headers.${k} contains a line break`);
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

/** POST /streams body -> StreamInput. Unknown fields are ignored, as the reference did. */
export function parseStreamInput(body: unknown): StreamInput {
  if (!isPlainObject(body)) throw new ValidationError('Body must be a JSON object with a url');
  const url = requireHttpUrl(body['url'], 'url');
  const input: StreamInput = {
    url,
    failoverUrls: parseFailoverUrls(body['failover_urls']),
    userAgent: parseUserAgent(body['user_agent']),
    headers: parseHeaders(body['headers']),
    metadata: parseMetadata(body['metadata']),
    kind: streamKindOf(url),
  };
  const share = body['share_upstream'];
  if (share !== undefined && share !== null && typeof share !== 'boolean') throw new ValidationError('share_upstream must be a boolean');
  // Absent: the service applies SHARE_LIVE_UPSTREAM.
  if (typeof share === 'boolean') input.shareUpstream = share;
  return input;
}

export interface MetadataFilter {
  field: string;
  value: string;
  excludeChannelId: string | undefined;
  activeOnly: boolean;
}

function scalarParam(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return metadataValue(value, name);
  throw new ValidationError(`${name} must be a string`);
}

export function parseBool(value: string | undefined): boolean {
  return value !== undefined && ['true', '1', 'yes', 'on'].includes(value.toLowerCase());
}

/** Metadata filters come from the query string or a JSON body (SPEC §3.2); the query wins per field. */
export function parseMetadataFilter(query: URLSearchParams, body: unknown): MetadataFilter {
  const b = isPlainObject(body) ? body : {};
  const pick = (name: string): string | undefined => query.get(name) ?? scalarParam(b[name], name);
  const field = pick('field');
  const value = pick('value');
  if (!field) throw new ValidationError('field is required');
  if (value === undefined) throw new ValidationError('value is required');
  return {
    field,
    value,
    excludeChannelId: pick('exclude_channel_id'),
    activeOnly: parseBool(pick('active_only')),
  };
}

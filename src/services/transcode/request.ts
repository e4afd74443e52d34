// The `POST /transcode` body (research §3.1), as typed input: the /streams fields through the same validator, plus
// the profile or the resolver. Unknown fields are ignored, as the reference did.
import type { StreamInput } from '../../core/registry.ts';
import { BadRequestError, ValidationError } from '../../errors.ts';

export type ResolverName = 'streamlink' | 'ytdlp';

export type TranscodeRequest =
  | { kind: 'ffmpeg'; stream: StreamInput; profile: string; variables: Record<string, string>; outputFormat: string }
  | { kind: 'resolver'; stream: StreamInput; resolver: ResolverName; resolverArgs: string; cookies: string | undefined; cookiesPath: string | undefined };

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables the proxy owns: `input_url` set by a request could point FFmpeg at a local file. */
const RESERVED_VARS = new Set(['input_url', 'output_args']);
const MAX_COOKIES_CHARS = 1024 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ValidationError(`${field} must be a string`);
  if (v.includes('\0')) throw new ValidationError(`${field} contains a NUL character`);
  return v;
}

/** Python's str() of a scalar, as the reference coerced profile_variables. */
function variableValue(v: unknown, key: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new ValidationError(`profile_variables.${key} must be a string, number or boolean`);
}

function parseVariables(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new ValidationError('profile_variables must be an object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!VAR_NAME.test(k)) throw new ValidationError(`profile_variables: ${JSON.stringify(k.slice(0, 64))} is not a variable name`);
    if (RESERVED_VARS.has(k)) throw new BadRequestError(`profile_variables may not set ${k}: the proxy sets it`);
    const s = variableValue(v, k);
    if (s.includes('\0')) throw new ValidationError(`profile_variables.${k} contains a NUL character`);
    out[k] = s;
  }
  return out;
}

/** `parseStream` is the /streams validator (url, failover_urls, user_agent, headers, metadata, flags). */
export function parseTranscodeRequest(body: unknown, parseStream: (body: unknown) => StreamInput): TranscodeRequest {
  if (!isObject(body)) throw new ValidationError('Body must be a JSON object with a url');
  const stream = parseStream(body);
  const resolver = body['resolver'];
  if (resolver !== undefined && resolver !== null) {
    if (resolver !== 'streamlink' && resolver !== 'ytdlp') throw new ValidationError("resolver must be 'streamlink' or 'ytdlp'");
    const cookies = optionalString(body, 'cookies');
    if (cookies !== undefined && cookies.length > MAX_COOKIES_CHARS) throw new ValidationError('cookies is larger than 1 MiB');
    const cookiesPath = optionalString(body, 'cookies_path');
    return {
      kind: 'resolver',
      stream,
      resolver,
      // An empty string means the default, as in the reference (Python's falsy "").
      resolverArgs: optionalString(body, 'resolver_args')?.trim() || (resolver === 'streamlink' ? 'best' : 'bestvideo+bestaudio/best'),
      cookies: cookies === '' ? undefined : cookies,
      cookiesPath: cookiesPath === '' ? undefined : cookiesPath,
    };
  }
  const outputFormat = optionalString(body, 'output_format') ?? 'mpegts';
  if (!/^[a-z0-9_]{1,32}$/.test(outputFormat)) throw new ValidationError('output_format must be a muxer name such as mpegts');
  return {
    kind: 'ffmpeg',
    stream,
    profile: optionalString(body, 'profile')?.trim() || 'default',
    variables: parseVariables(body['profile_variables']),
    outputFormat,
  };
}

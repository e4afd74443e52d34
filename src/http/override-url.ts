// The reference's `?url=` playback forms (SPEC §5.4): an explicit upstream URL is an open-proxy hazard, so only a
// request carrying the valid API token may name one, and only an http(s) URL; with no token configured, never.
import type { IncomingMessage } from 'node:http';
import { parseHttpUrl } from '../core/url.ts';
import { ForbiddenError } from '../errors.ts';
import type { TokenChecker } from './auth.ts';

/** The checked `url` parameter, or undefined when the request has none; throws 403 FORBIDDEN_URL otherwise. */
export function overrideUrlOf(req: IncomingMessage, query: URLSearchParams, auth: TokenChecker): string | undefined {
  const raw = query.get('url');
  if (raw === null) return undefined;
  if (!auth.isValid(req, query)) throw new ForbiddenError('The url parameter needs a valid API token', 'FORBIDDEN_URL');
  const parsed = parseHttpUrl(raw);
  if (!parsed) throw new ForbiddenError('The url parameter must be an http(s) URL', 'FORBIDDEN_URL');
  return parsed.href;
}

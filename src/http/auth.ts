// The API token check (SPEC §4): header first, then query parameter, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';

export interface TokenChecker {
  /** True when a token is configured. */
  readonly enabled: boolean;
  /** Throws 401/403 unless the request carries the token. */
  require(req: IncomingMessage, query: URLSearchParams): void;
  /** True only when a token is configured and the request carries it. */
  isValid(req: IncomingMessage, query: URLSearchParams): boolean;
}

function digest(value: string): Buffer {
  // Hashing first makes both sides 32 bytes, so timingSafeEqual never leaks the token's length.
  return createHash('sha256').update(value).digest();
}

export function presentedToken(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = req.headers['x-api-token'];
  if (typeof header === 'string') return header;
  if (Array.isArray(header) && header[0] !== undefined) return header[0];
  return query.get('api_token') ?? undefined;
}

export function createTokenChecker(token: string | undefined): TokenChecker {
  const enabled = token !== undefined && token !== '';
  // Hashed at the first check, not at start-up: node:crypto is loaded at its first use (bin/lazy-builtins.ts).
  let expected: Buffer | undefined;
  const matches = (given: string): boolean => enabled && timingSafeEqual(digest(given), (expected ??= digest(token)));
  return {
    enabled,
    require(req, query) {
      if (!enabled) return;
      const given = presentedToken(req, query);
      if (given === undefined) throw new UnauthorizedError();
      if (!matches(given)) throw new ForbiddenError('Invalid API token');
    },
    isValid(req, query) {
      const given = presentedToken(req, query);
      return given !== undefined && matches(given);
    },
  };
}

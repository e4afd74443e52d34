// CORS (SPEC §4, §5.2): playback routes are open to every origin, as hls.js in any page needs; the management API is
// open only to the origins CORS_ORIGINS lists, so no web page a LAN user visits can read or drive it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ForbiddenError } from '../errors.ts';

/**
 * An actual playback answer's CORS headers: the two a browser reads outside a preflight (Fetch standard), as the
 * reference's CORS middleware sends. Every segment and first byte carries them, so nothing more (issue 24.8).
 */
const PLAYBACK_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Content-Length, Content-Range, Accept-Ranges, X-Stream-ID, X-Client-ID',
};
/** A playback preflight's: what hls.js may send (Range for byte-range segments, validators) and with which methods. */
const PLAYBACK_PREFLIGHT_HEADERS: Readonly<Record<string, string>> = {
  ...PLAYBACK_HEADERS,
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'Range, If-Range, If-None-Match, If-Modified-Since',
};

const MANAGEMENT_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS';
const MANAGEMENT_HEADERS = 'Content-Type, X-API-Token, Accept';
const PREFLIGHT_MAX_AGE_S = '600';

/** Playback routes are the player-facing ones (/stream/*, /hls/*) that need no token; see also Route.auth. */
export function isPlaybackRoute(route: { path: string; auth: boolean }): boolean {
  return !route.auth && (route.path.startsWith('/stream/') || route.path.startsWith('/hls/') || route.path.startsWith('/broadcast/'));
}

export interface CorsPolicy {
  /** Sets the CORS headers of an actual (non-preflight) answer. */
  apply(req: IncomingMessage, res: ServerResponse, playback: boolean): void;
  /** Answers a preflight (204), or throws 403 FORBIDDEN_ORIGIN for a management route and an origin not listed. */
  preflight(req: IncomingMessage, res: ServerResponse, playback: boolean): void;
}

export function createCorsPolicy(allowedOrigins: readonly string[]): CorsPolicy {
  const allowed = new Set(allowedOrigins);
  const listedOrigin = (req: IncomingMessage): string | undefined => {
    const origin = req.headers.origin;
    return origin !== undefined && allowed.has(origin.toLowerCase()) ? origin : undefined;
  };
  const setManagement = (res: ServerResponse, origin: string): void => {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
  };
  return {
    apply(req, res, playback) {
      if (playback) {
        for (const [k, v] of Object.entries(PLAYBACK_HEADERS)) res.setHeader(k, v);
        return;
      }
      if (allowed.size === 0) return;
      // Vary even when the origin is not listed: a cache must not hand a listed origin's answer to another.
      res.setHeader('vary', 'Origin');
      const origin = listedOrigin(req);
      if (origin !== undefined) setManagement(res, origin);
    },
    preflight(req, res, playback) {
      if (playback) {
        for (const [k, v] of Object.entries(PLAYBACK_PREFLIGHT_HEADERS)) res.setHeader(k, v);
      } else {
        const origin = listedOrigin(req);
        if (origin === undefined) throw new ForbiddenError('Cross-origin calls to the management API are refused; list the origin in CORS_ORIGINS', 'FORBIDDEN_ORIGIN');
        setManagement(res, origin);
        res.setHeader('access-control-allow-methods', MANAGEMENT_METHODS);
        res.setHeader('access-control-allow-headers', MANAGEMENT_HEADERS);
      }
      res.setHeader('access-control-max-age', PREFLIGHT_MAX_AGE_S);
      res.statusCode = 204;
      res.end();
    },
  };
}

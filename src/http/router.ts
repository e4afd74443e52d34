// The route table: patterns like '/hls/:id/:kind/:file' compiled once to RegExps; match() gives a handler or a 404/405.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** Path below ROOT_PATH, always starting with '/'. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  method: Method;
  path: string;
  handler: Handler;
  /** Management routes need the API token (SPEC §4); playback routes and /livez do not. */
  auth: boolean;
}

interface CompiledRoute extends Route {
  regex: RegExp;
  keys: string[];
}

export type MatchResult =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: Method[] }
  | { kind: 'not-found' };

/** ':name' matches one non-empty segment; everything else is literal. */
export function compilePattern(path: string): { regex: RegExp; keys: string[] } {
  const keys: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        keys.push(segment.slice(1));
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${source}/?$`), keys };
}

export interface Router {
  match(method: string, path: string): MatchResult;
}

/** The first segment of a path ('' for '/'): a route whose pattern starts with another literal cannot match. */
function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end < 0 ? path.slice(1) : path.slice(1, end);
}

/**
 * Routes are tried in order, so a literal like '/streams/by-metadata' must stand before '/streams/:id'. Each path is
 * tried only against the routes that can match its first segment (a player's GET walked dozens of RegExps before, issue 24.8).
 */
export function createRouter(routes: readonly Route[]): Router {
  const compiled: CompiledRoute[] = routes.map((r) => ({ ...r, ...compilePattern(r.path) }));
  const open = (r: CompiledRoute): boolean => firstSegment(r.path).startsWith(':');
  // Per first literal: its routes and the ones open at the first segment, in table order.
  const byFirst = new Map<string, CompiledRoute[]>();
  for (const r of compiled) if (!open(r)) byFirst.set(firstSegment(r.path), []);
  for (const [first, list] of byFirst) for (const r of compiled) if (open(r) || firstSegment(r.path) === first) list.push(r);
  const anyFirst = compiled.filter(open);
  return {
    match(method, path) {
      const candidates = byFirst.get(firstSegment(path)) ?? anyFirst;
      const allowed: Method[] = [];
      for (const route of candidates) {
        const m = route.regex.exec(path);
        if (!m) continue;
        // HEAD is served by GET handlers unless a route claims it.
        if (route.method === method || (method === 'HEAD' && route.method === 'GET' && !hasHead(candidates, path))) {
          const params: Record<string, string> = {};
          route.keys.forEach((key, i) => {
            params[key] = safeDecode(m[i + 1] ?? '');
          });
          return { kind: 'found', route, params };
        }
        if (!allowed.includes(route.method)) allowed.push(route.method);
      }
      if (allowed.length > 0) {
        if (allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD');
        return { kind: 'method-not-allowed', allowed };
      }
      return { kind: 'not-found' };
    },
  };
}

function hasHead(routes: readonly CompiledRoute[], path: string): boolean {
  return routes.some((r) => r.method === 'HEAD' && r.regex.test(path));
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch (err) {
    // Malformed %-escape in a path segment: keep it raw, the handler will not find such an id anyway.
    if (err instanceof URIError) return value;
    throw err;
  }
}

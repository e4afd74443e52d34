// The upstream HTTP client: one request with redirects, a connect + response-headers deadline and typed errors.
// Error messages never contain the upstream URL: they reach players, and provider URLs carry credentials.
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { AppError, UpstreamError, UpstreamTimeoutError } from '../../errors.ts';
import { type Cancel, cancelReason, isCancelled, onCancel } from '../cancel.ts';
import type { UpstreamAgents } from './agents.ts';

/**
 * `signal` aborting or `player` leaving (Cancel) destroys the request and its socket; the promise then rejects with the
 * signal's reason or an AbortError.
 */
export interface UpstreamRequestOptions extends Cancel {
  method?: 'GET' | 'HEAD';
  /** Lowercase names; sent on every hop (credential headers are dropped on a cross-origin redirect). */
  headers?: Readonly<Record<string, string>>;
  /** Per hop: from the request's start until the response headers arrived. */
  connectTimeoutMs: number;
  maxRedirects?: number;
}

export interface UpstreamResponse {
  /** The final response; its body is unread. The caller must consume it or destroy() it. */
  res: IncomingMessage;
  /** The URL that answered, after redirects: the base for relative URIs in a playlist. */
  finalUrl: string;
}

export interface UpstreamClient {
  request(url: string, options: UpstreamRequestOptions): Promise<UpstreamResponse>;
}

export const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers that must not follow a redirect to another origin (the same rule as fetch). */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'] as const;
/** A discarded body up to this size is read to the end so its socket goes back to the pool; larger ones are destroyed. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

/** Why an upstream request failed, for error counters and logs. */
export type UpstreamErrorKind =
  | 'timeout'
  | 'refused'
  | 'reset'
  | 'dns'
  | 'status'
  | 'stall'
  | 'early_end'
  | 'tls'
  | 'redirect'
  /** A playlist cut at HLS_MAX_PLAYLIST_LINES / _BYTES (issue 14.3). */
  | 'playlist_too_large'
  | 'other';

export function createUpstreamClient(agents: UpstreamAgents): UpstreamClient {
  return {
    request(url, options) {
      let first: URL;
      try {
        first = parseUrl(url);
      } catch (err) {
        // A URL that does not parse fails the promise, as any other failure of the request does.
        return Promise.reject(err);
      }
      const method = options.method ?? 'GET';
      // Never changed here: a redirect to another origin drops the credentials from a copy.
      const headers = (options.headers ?? {}) as Record<string, string>;
      // The usual answer is no redirect: it reaches the caller in one step, with no loop in between (issue 24.8).
      return requestOnce(agents, first, method, headers, options).then((res) =>
        isRedirect(res) ? followRedirects(agents, first, res, method, headers, options) : { res, finalUrl: first.href },
      );
    },
  };
}

/** Parsed request URLs by their text; never changed once parsed, so one object serves every request of a URL. */
const parsedUrls = new Map<string, URL>();
/** A channel's URL is asked again and again; HLS segment URLs only pass through, so the map is simply emptied when full. */
const MAX_PARSED_URLS = 64;

/** A player's stream URL is parsed once, not on every request in front of its first byte (issue 24.8). */
function parseUrl(url: string): URL {
  let parsed = parsedUrls.get(url);
  if (parsed === undefined) {
    parsed = new URL(url);
    if (parsedUrls.size >= MAX_PARSED_URLS) parsedUrls.clear();
    parsedUrls.set(url, parsed);
  }
  return parsed;
}

function isRedirect(res: IncomingMessage): boolean {
  return REDIRECT_STATUSES.has(res.statusCode ?? 0) && res.headers.location !== undefined;
}

/** From the first answer, a redirect: follows the chain up to maxRedirects hops. */
async function followRedirects(
  agents: UpstreamAgents,
  start: URL,
  firstAnswer: IncomingMessage,
  firstMethod: string,
  firstHeaders: Record<string, string>,
  options: UpstreamRequestOptions,
): Promise<UpstreamResponse> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let method = firstMethod;
  let headers = firstHeaders;
  let current = start;
  let res = firstAnswer;
  for (let hop = 0; ; hop++) {
    if (!isRedirect(res)) return { res, finalUrl: current.href };
    const status = res.statusCode ?? 0;
    const location = res.headers.location ?? '';
    discardResponse(res);
    if (hop >= maxRedirects) throw new UpstreamError('Upstream redirected too many times');
    const next = URL.canParse(location, current.href) ? new URL(location, current) : undefined;
    if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
      throw new UpstreamError('Upstream redirected to an unusable location');
    }
    if (status === 303 && method !== 'HEAD') method = 'GET';
    if (next.origin !== current.origin) headers = withoutCredentials(headers);
    current = next;
    res = await requestOnce(agents, current, method, headers, options);
  }
}

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  const out = { ...headers };
  for (const name of CREDENTIAL_HEADERS) delete out[name];
  return out;
}

function requestOnce(
  agents: UpstreamAgents,
  url: URL,
  method: string,
  headers: OutgoingHttpHeaders,
  options: UpstreamRequestOptions,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (isCancelled(options)) {
      reject(cancelReason(options));
      return;
    }
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(requestOptions(url, method, headers, agents.agentFor(url)));
    let settled = false;
    let stopListening: (() => void) | undefined;
    const settle = (): void => {
      settled = true;
      clearTimeout(timer);
      stopListening?.();
    };
    const onAbort = (): void => {
      if (settled) return;
      settle();
      req.destroy();
      reject(cancelReason(options));
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settle();
      req.destroy();
      reject(new UpstreamTimeoutError('Upstream did not answer in time'));
    }, options.connectTimeoutMs);
    stopListening = onCancel(options, onAbort);
    req.once('response', (res) => {
      if (settled) {
        res.destroy();
        return;
      }
      settle();
      // Later aborts of the signal are the caller's business (it owns res); a response error after this point
      // surfaces on res, so a request-level error must not become an unhandled 'error' event.
      req.on('error', ignoreAfterResponse);
      resolve(res);
    });
    req.once('error', (err) => {
      if (settled) return;
      settle();
      reject(toUpstreamError(err));
    });
    req.end();
  });
}

/**
 * The request's options from its URL, as Node's own URL form would make them (brackets off an IPv6 host, user info as
 * Basic auth), built directly: handing Node the URL costs a conversion of a dozen fields per request (issue 24.8).
 */
export function requestOptions(url: URL, method: string, headers: OutgoingHttpHeaders, agent: http.Agent): http.RequestOptions {
  const host = url.hostname;
  const options: http.RequestOptions = {
    protocol: url.protocol,
    hostname: host.startsWith('[') ? host.slice(1, -1) : host,
    path: url.pathname + url.search,
    method,
    headers,
    agent,
  };
  if (url.port !== '') options.port = Number(url.port);
  if (url.username !== '' || url.password !== '') options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return options;
}

function ignoreAfterResponse(): void {
  // The response already reached the caller, who sees the same failure as an error or 'close' on the response.
}

/** Maps a socket-level failure to an UpstreamError whose message is safe to show, keeping the cause. */
export function toUpstreamError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  const options = { cause: err };
  switch (code) {
    case 'ECONNREFUSED':
      return new UpstreamError('Upstream refused the connection', options);
    case 'ECONNRESET':
    case 'EPIPE':
      return new UpstreamError('Upstream reset the connection', options);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UpstreamError('Upstream host could not be resolved', options);
    case 'ETIMEDOUT':
      return new UpstreamTimeoutError('Upstream timed out', options);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new UpstreamError('Upstream host is unreachable', options);
    default:
      if (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.includes('CERT'))) {
        return new UpstreamError('Upstream TLS handshake failed', options);
      }
      return new UpstreamError('Upstream request failed', options);
  }
}

/** The counter bucket of an upstream failure. */
export function upstreamErrorKind(err: unknown): UpstreamErrorKind {
  if (err instanceof UpstreamTimeoutError) return 'timeout';
  if (err instanceof AppError && err.code === 'UPSTREAM_STATUS') return 'status';
  if (err instanceof AppError && err.code === 'PLAYLIST_TOO_LARGE') return 'playlist_too_large';
  const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
  const code = cause instanceof Error ? (cause as NodeJS.ErrnoException).code : undefined;
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') return 'reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.includes('CERT'))) return 'tls';
  if (err instanceof Error && /redirect/i.test(err.message)) return 'redirect';
  return 'other';
}

/** Gets rid of an unwanted response: a small body is read out so the socket is reused, anything else is destroyed. */
export function discardResponse(res: IncomingMessage): void {
  const length = Number(res.headers['content-length']);
  // Node sets res.req on client responses; the typings do not declare it.
  const method = (res as IncomingMessage & { req?: { method?: string } }).req?.method;
  const bodiless = res.statusCode === 204 || res.statusCode === 304 || method === 'HEAD';
  if (bodiless || (Number.isFinite(length) && length <= DRAIN_LIMIT_BYTES)) {
    res.on('error', ignoreAfterResponse);
    res.resume();
  } else {
    res.destroy();
  }
}

export interface IdleWatchOptions {
  timeoutMs: number;
  /** A number that grows while data flows (e.g. bytes received); read only on timer ticks, never per chunk. */
  progress(): number;
  /** True while the reader waits on purpose (backpressure, reconnecting): such time never counts as idle. */
  isWaiting?(): boolean;
  onIdle(): void;
}

export interface IdleWatch {
  stop(): void;
}

/**
 * Calls onIdle once progress() has not moved for timeoutMs (an upstream stall, SPEC §5.1 DEFAULT_READ_TIMEOUT).
 * A coarse unref'd ticker compares a counter, so the byte path pays nothing per chunk. Fires at most once.
 */
export function watchIdle(options: IdleWatchOptions): IdleWatch {
  const tickMs = Math.max(5, Math.floor(options.timeoutMs / 4));
  let last = options.progress();
  let lastMovedAt = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const p = options.progress();
    if (p !== last || options.isWaiting?.() === true) {
      last = p;
      lastMovedAt = now;
      return;
    }
    if (now - lastMovedAt >= options.timeoutMs) {
      clearInterval(timer);
      options.onIdle();
    }
  }, tickMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

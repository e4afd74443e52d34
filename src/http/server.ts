// The node:http server and the single error boundary: every thrown or rejected error of a handler ends here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { TokenChecker } from './auth.ts';
import { requireJsonBody } from './body.ts';
import { createCorsPolicy, isPlaybackRoute, type CorsPolicy } from './cors.ts';
import { createHostCheck } from './host-check.ts';
import { LateHeadersResponse } from './late-headers.ts';
import { afterAnswer, keepSocketForLinger, lingerUnreadBody } from './linger.ts';
import { sendError } from './respond.ts';
import type { Router } from './router.ts';
import { redactRequestTarget } from '../core/url.ts';
import { AppError, MethodNotAllowedError, NotFoundError, ShuttingDownError, isClientGone } from '../errors.ts';
import type { Logger } from '../log.ts';

export interface ServerDeps {
  router: Router;
  auth: TokenChecker;
  rootPath: string;
  /** CORS_ORIGINS: origins whose pages may call the management API; none by default. */
  corsOrigins?: readonly string[];
  /** ALLOWED_HOSTS: Host names served without API_TOKEN beside IPs, localhost and single labels. */
  allowedHosts?: readonly string[];
  logger: Logger;
  /** True once shutdown began: new requests get 503. */
  isShuttingDown: () => boolean;
  /** Observes every finished request (metrics); must be cheap. */
  onRequestDone?: (route: string, status: number, durationMs: number) => void;
  timeouts?: Partial<ServerTimeouts>;
}

export interface ServerTimeouts {
  /** All request headers must arrive within this. */
  headersMs: number;
  /** The whole request (headers and body) must arrive within this; media responses are not limited by it. */
  requestMs: number;
  keepAliveMs: number;
  /** How often Node checks the two limits above. */
  checkIntervalMs: number;
}

/** Slow-client bounds, so a client that trickles a request cannot hold a socket forever. */
export const DEFAULT_TIMEOUTS: ServerTimeouts = { headersMs: 15_000, requestMs: 30_000, keepAliveMs: 5_000, checkIntervalMs: 5_000 };

export function createHttpServer(deps: ServerDeps): Server {
  const t = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
  const guards: Guards = { cors: createCorsPolicy(deps.corsOrigins ?? []), checkHost: createHostCheck(deps.allowedHosts ?? []) };
  const server = createServer<typeof IncomingMessage, typeof LateHeadersResponse>(
    { requestTimeout: t.requestMs, headersTimeout: t.headersMs, connectionsCheckingInterval: t.checkIntervalMs, ServerResponse: LateHeadersResponse },
    (req, res) => {
      void handle(deps, guards, req, res);
    },
  );
  server.keepAliveTimeout = t.keepAliveMs;
  // Media responses are long-lived by design: only idle sockets time out (request/headers timeouts cover slow uploads).
  server.timeout = 0;
  server.on('clientError', (err, socket) => {
    if (!isClientGone(err)) deps.logger.debug('client error', { error: err.message });
    // Bytes after a request whose answer is still being sent (a live stream): an answer written now would land in
    // the middle of that body. Node's own handler checks the same.
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent === true;
    if (socket.writable && !answering) socket.end(clientErrorResponse(err));
    else socket.destroy();
  });
  return server;
}

/** A listener on 'clientError' replaces Node's default answer, so the timeout and header-size cases are ours to map. */
function clientErrorResponse(err: NodeJS.ErrnoException): string {
  const status =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`;
}

/** Masks api_token and URL-valued parameters before a request target is logged (SPEC §4: never log the token). */
export function loggableUrl(rawUrl: string): string {
  return redactRequestTarget(rawUrl);
}

/** The browser-facing protections of SPEC §4, built once per server. */
interface Guards {
  cors: CorsPolicy;
  checkHost: (req: IncomingMessage) => void;
}

async function handle(deps: ServerDeps, guards: Guards, req: IncomingMessage, res: LateHeadersResponse): Promise<void> {
  const started = performance.now();
  let routeName = 'unmatched';
  /** The client asked to close, but its unread body must be drained first (keepSocketForLinger). */
  let closeAfterLinger = false;
  // During shutdown every answer closes its socket, so keep-alive clients cannot hold the server open.
  if (deps.isShuttingDown()) res.setHeader('connection', 'close');
  try {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    const path = stripRoot(rawPath, deps.rootPath);
    const method = req.method ?? 'GET';

    if (method === 'OPTIONS') {
      // A CORS preflight is about the route the browser means to call next.
      const asked = req.headers['access-control-request-method'];
      let target = deps.router.match(typeof asked === 'string' ? asked.toUpperCase() : 'GET', path);
      // A method the path does not take: the path alone still tells playback from management.
      if (target.kind === 'method-not-allowed') target = deps.router.match(target.allowed[0] ?? 'GET', path);
      if (target.kind !== 'found') throw new NotFoundError('Route');
      guards.cors.preflight(req, res, isPlaybackRoute(target.route));
      return;
    }
    if (deps.isShuttingDown() && path !== '/livez') throw new ShuttingDownError();

    const match = deps.router.match(method, path);
    if (match.kind === 'not-found') throw new NotFoundError('Route');
    if (match.kind === 'method-not-allowed') throw new MethodNotAllowedError(match.allowed);
    const route = match.route;
    routeName = route.path;
    // A player's CORS headers are set while its upstream request is on its way, not in front of it (late-headers.ts).
    if (isPlaybackRoute(route)) res.setLateHeaders(() => guards.cors.apply(req, res, true));
    else guards.cors.apply(req, res, false);
    if (route.auth) {
      // With a token the token is the protection; without one, only Host names no rebinding page can own.
      if (!deps.auth.enabled) guards.checkHost(req);
      deps.auth.require(req, query);
      requireJsonBody(req);
    }
    await route.handler({ req, res, method, path, query, params: match.params });
  } catch (err) {
    closeAfterLinger = keepSocketForLinger(req, res);
    answerError(deps.logger, res, err);
  } finally {
    // An answer given before its body was read (413, 415, 401...): drop the rest within bounds, then cut.
    if (!req.complete) afterAnswer(res, () => lingerUnreadBody(req, undefined, closeAfterLinger));
    if (deps.logger.isDebug()) {
      deps.logger.debug('request', { method: req.method, url: loggableUrl(req.url ?? ''), status: res.statusCode });
    }
    deps.onRequestDone?.(routeName, res.statusCode, performance.now() - started);
  }
}

/**
 * Every route answers both with and without ROOT_PATH (SPEC §2): m3u-editor calls the API without it and sends
 * players with it, through an nginx that may strip it or not.
 */
export function stripRoot(path: string, rootPath: string): string {
  if (rootPath === '') return path;
  if (path === rootPath) return '/';
  if (path.startsWith(rootPath + '/')) return path.slice(rootPath.length);
  return path;
}

/** The single place that turns a failure into an answer; logs it once. */
export function answerError(logger: Logger, res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    // Mid-stream: JSON can no longer be written. End the connection so the player notices.
    if (!isClientGone(err)) logger.warn('response failed after headers were sent', { error: errorText(err) });
    res.destroy();
    return;
  }
  if (err instanceof AppError) {
    // The path names the stream (and at most an opaque token); loggableUrl drops api_token. Never the upstream URL.
    if (err.status >= 500) logger.warn(err.message, { code: err.code, cause: causeText(err), path: loggableUrl(res.req.url ?? '').split('?')[0] });
    else logger.debug(err.message, { code: err.code });
    sendError(res, err);
    return;
  }
  if (isClientGone(err)) {
    logger.debug('client went away', { error: errorText(err) });
    res.destroy();
    return;
  }
  logger.error('unhandled error', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  sendError(res, new AppError(500, 'INTERNAL', 'Internal server error'));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function causeText(err: Error): string | undefined {
  const cause = err.cause;
  if (cause === undefined) return undefined;
  const code = cause instanceof Error ? (cause as NodeJS.ErrnoException).code : undefined;
  return code ?? errorText(cause);
}

// The CLI's HTTP client: one JSON request to the server with the token, turning every failure into a one-line ServerError.
import { VERSION } from '../config.ts';
import type { Globals } from './args.ts';

/** The server refused, failed or could not be reached: printed on stderr, exit code 1. */
export class ServerError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ServerError';
  }
}

/** A management call never streams; a server that takes longer than this is stuck. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface ApiClient {
  request(method: string, path: string, body?: unknown): Promise<unknown>;
}

export function createApiClient(globals: Globals, signal?: AbortSignal): ApiClient {
  return {
    async request(method, path, body) {
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': `m3u-proxy-cli/${VERSION}` };
      if (globals.token !== undefined) headers['x-api-token'] = globals.token;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
      let res: Response;
      try {
        res = await fetch(globals.url + path, {
          method,
          headers,
          body: body === undefined ? null : JSON.stringify(body),
          signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
        });
      } catch (err) {
        throw describeFetchFailure(err, globals.url, signal, timeout);
      }
      const text = await res.text();
      const json = parseJson(text);
      if (!res.ok) throw new ServerError(errorLine(res.status, json), res.status);
      if (json === undefined) throw new ServerError(`unexpected answer from ${globals.url} (HTTP ${res.status}, not JSON)`, res.status);
      return json;
    },
  };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err; // not JSON: the caller reports the status instead
    return undefined;
  }
}

/** The server's own `detail` when it sent one (SPEC §9), FastAPI-style validation arrays included. */
function errorLine(status: number, body: unknown): string {
  let detail: string | undefined;
  if (typeof body === 'object' && body !== null && 'detail' in body) {
    const d = body.detail;
    if (typeof d === 'string') detail = d;
    else if (Array.isArray(d)) {
      detail = d.map((x: unknown) => (typeof x === 'object' && x !== null && 'msg' in x ? String(x.msg) : JSON.stringify(x))).join('; ');
    }
  }
  const hint = status === 401 || status === 403 ? '; check --token or API_TOKEN' : '';
  return `${detail ?? 'server error'} (HTTP ${status}${hint})`;
}

function describeFetchFailure(err: unknown, url: string, signal: AbortSignal | undefined, timeout: AbortSignal): Error {
  // The caller's own abort (Ctrl-C in monitor) is not a failure: pass it on for the command to stop quietly.
  if (signal?.aborted === true) return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
  if (timeout.aborted) return new ServerError(`server at ${url} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
  // undici wraps socket errors as TypeError('fetch failed', { cause }); the cause's code says why.
  const cause = err instanceof Error ? err.cause : undefined;
  const code = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : undefined;
  return new ServerError(`cannot reach server at ${url}${code === undefined ? '' : ` (${code})`}`);
}

// POST /test-connection (SPEC §3.2): can the proxy reach a URL? m3u-editor checks its failover resolver with it.
// A GET with the default timeouts that reads at most a few KiB; every outcome is an answer, never an exception.
import type { IncomingMessage } from 'node:http';
import type { UpstreamClient } from '../core/upstream/client.ts';
import { AppError } from '../errors.ts';

/** Enough to know the body started; a test must not download a stream. */
const MAX_TEST_BYTES = 4 * 1024;

export interface ConnectionTestResult {
  success: boolean;
  message: string;
  status_code?: number;
  error?: string;
  url_tested: string;
}

export interface ConnectionTesterDeps {
  upstream: UpstreamClient;
  userAgent: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

export type ConnectionTester = (url: string) => Promise<ConnectionTestResult>;

export function createConnectionTester(deps: ConnectionTesterDeps): ConnectionTester {
  return async (url) => {
    const signal = AbortSignal.timeout(deps.connectTimeoutMs + deps.readTimeoutMs);
    try {
      const { res } = await deps.upstream.request(url, { method: 'GET', headers: { 'user-agent': deps.userAgent, accept: '*/*' }, signal, connectTimeoutMs: deps.connectTimeoutMs });
      const status = res.statusCode ?? 0;
      await readSome(res, signal);
      if (status === 200) return { success: true, message: 'Successfully connected', status_code: status, url_tested: url };
      return { success: false, message: `URL answered HTTP ${status}, not 200`, status_code: status, url_tested: url };
    } catch (err) {
      // The client's error messages are written to be shown (no URL, no credentials); anything else stays generic.
      const error = err instanceof AppError ? err.message : signal.aborted ? 'Timed out' : 'Request failed';
      return { success: false, message: `Connection failed: ${error}`, error, url_tested: url };
    }
  };
}

/** Reads up to MAX_TEST_BYTES of the body, then lets the socket go (destroyed: a half-read body is never pooled). */
function readSome(res: IncomingMessage, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let size = 0;
    const done = (): void => {
      res.off('data', onData);
      signal.removeEventListener('abort', done);
      if (!res.complete) res.destroy();
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size >= MAX_TEST_BYTES) done();
    };
    res.on('data', onData);
    res.once('end', done);
    res.once('close', done);
    res.once('error', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
